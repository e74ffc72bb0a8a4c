"""Domain models, one module per sub-domain; import them from here."""

from projects.models.api_keys import ApiKey, ApiTask
from projects.models.assets import Asset, GenerationReference
from projects.models.audit import AuditEvent
from projects.models.gateways import GatewayStatus
from projects.models.generation import GenerationTask, TaskEvent
from projects.models.leases import WorkerLease
from projects.models.ledger import Budget, CreditAccount, CreditEntry
from projects.models.notifications import (
    Event,
    Notification,
    NotificationPreference,
    TeamWebhook,
)
from projects.models.prices import PriceRule
from projects.models.project_members import ProjectMember
from projects.models.reviews import Review
from projects.models.storyboards import Cut, Shot, ShotReference, Storyboard
from projects.models.teams import Membership, Project, Team
from projects.models.variations import VariationBatch

__all__ = [
    "ApiKey",
    "ApiTask",
    "Asset",
    "AuditEvent",
    "Budget",
    "CreditAccount",
    "CreditEntry",
    "Cut",
    "Event",
    "GatewayStatus",
    "GenerationReference",
    "GenerationTask",
    "Membership",
    "Notification",
    "NotificationPreference",
    "PriceRule",
    "Project",
    "ProjectMember",
    "Review",
    "Shot",
    "ShotReference",
    "Storyboard",
    "TaskEvent",
    "Team",
    "TeamWebhook",
    "VariationBatch",
    "WorkerLease",
]
