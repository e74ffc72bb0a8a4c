"""Domain models, one module per sub-domain; import them from here."""

from projects.models.assets import Asset
from projects.models.generation import GenerationTask, TaskEvent
from projects.models.ledger import Budget, CreditAccount, CreditEntry, PriceRule
from projects.models.teams import Membership, Project, Team

__all__ = [
    "Asset",
    "Budget",
    "CreditAccount",
    "CreditEntry",
    "GenerationTask",
    "Membership",
    "PriceRule",
    "Project",
    "TaskEvent",
    "Team",
]
