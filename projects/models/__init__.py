"""Domain models, one module per sub-domain; import them from here."""

from projects.models.assets import Asset, GenerationReference
from projects.models.generation import GenerationTask, TaskEvent
from projects.models.teams import Membership, Project, Team

__all__ = [
    "Asset",
    "GenerationReference",
    "GenerationTask",
    "Membership",
    "Project",
    "TaskEvent",
    "Team",
]
