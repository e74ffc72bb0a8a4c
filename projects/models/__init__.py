"""Domain models, one module per sub-domain; import them from here."""

from projects.models.assets import Asset
from projects.models.generation import GenerationTask, TaskEvent
from projects.models.teams import Membership, Project, Team

__all__ = ["Asset", "GenerationTask", "Membership", "Project", "TaskEvent", "Team"]
