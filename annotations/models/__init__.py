from annotations.models.events import Event
from annotations.models.notifications import Notification
from annotations.models.projects import Membership, Project, ProjectNetwork, Role
from annotations.models.taxonomy import Assignment, Group

__all__ = [
    "Assignment",
    "Event",
    "Group",
    "Membership",
    "Notification",
    "Project",
    "ProjectNetwork",
    "Role",
]
