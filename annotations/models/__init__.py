from annotations.models.circuits import Circuit, CircuitEdge, CircuitNode, UnitLink
from annotations.models.comments import Comment, CommentRevision
from annotations.models.events import Event
from annotations.models.grid_changes import ProjectChanges
from annotations.models.hypotheses import Hypothesis, HypothesisUnit, Review
from annotations.models.notifications import Notification
from annotations.models.projects import (
    Membership,
    Project,
    ProjectDataset,
    ProjectNetwork,
    Role,
)
from annotations.models.releases import Release, ReleaseAssignment, ReleaseGroup
from annotations.models.rounds import (
    LabellingRound,
    RoundLabel,
    RoundParticipant,
    RoundUnit,
)
from annotations.models.taxonomy import Assignment, Group
from annotations.models.tokens import ApiToken
from annotations.models.unit_counts import UnitCounts
from annotations.models.webhooks import EmailPreference, Webhook, WebhookDelivery

__all__ = [
    "ApiToken",
    "Assignment",
    "Circuit",
    "CircuitEdge",
    "CircuitNode",
    "Comment",
    "EmailPreference",
    "CommentRevision",
    "Event",
    "Group",
    "Hypothesis",
    "HypothesisUnit",
    "LabellingRound",
    "Membership",
    "Notification",
    "Project",
    "ProjectChanges",
    "ProjectDataset",
    "ProjectNetwork",
    "Release",
    "ReleaseAssignment",
    "ReleaseGroup",
    "Review",
    "Role",
    "RoundLabel",
    "RoundParticipant",
    "RoundUnit",
    "UnitCounts",
    "UnitLink",
    "Webhook",
    "WebhookDelivery",
]
