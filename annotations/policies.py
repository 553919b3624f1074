"""The one permission policy: who may do what on projects, networks and jobs.

A user's power comes from their role in a project. On a network (and on its jobs) the user
acts with their best role over the projects that study that network. Superusers may do
everything; anonymous and inactive users nothing. ``workers`` asks this module about its
catalog through ``settings.ATLAS_ACCESS_POLICY`` (see ``workers/access.py``).
"""

from annotations.models import Membership, Project, Role
from server.errors import PermissionDenied
from workers.models import Job, Network

ROLE_ACTIONS = {
    Role.OWNER: frozenset(
        {
            "project.view",
            "project.update",
            "membership.manage",
            "network.view",
            "network.register",
            "job.view",
            "job.create",
            "job.cancel",
        }
    ),
    Role.REVIEWER: frozenset(
        {
            "project.view",
            "network.view",
            "network.register",
            "job.view",
            "job.create",
            "job.cancel",
        }
    ),
    Role.ANNOTATOR: frozenset({"project.view", "network.view", "job.view", "job.create"}),
    Role.VIEWER: frozenset({"project.view", "network.view", "job.view"}),
}

# Actions a role may take on a job only when the user created that job.
ROLE_OWN_JOB_ACTIONS = {Role.ANNOTATOR: frozenset({"job.cancel"})}

# Actions on no object: any active user may create a project; only superusers (and the
# system, see ``authorize``) create users.
USER_ACTIONS = {"project.create": True, "user.create": False}

# Best first: a user in several projects that study one network acts with the best role.
ROLE_RANK = [Role.OWNER, Role.REVIEWER, Role.ANNOTATOR, Role.VIEWER]

ACTIONS = frozenset().union(*ROLE_ACTIONS.values(), USER_ACTIONS)


def can(user, action, obj):
    """Whether ``user`` may do ``action`` on ``obj`` (a Project, Network, Job, or None)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if obj is None:
        return USER_ACTIONS.get(action, False)
    if isinstance(obj, Project):
        return action in ROLE_ACTIONS.get(_role_in_project(user, obj), ())
    if isinstance(obj, Network):
        return action in ROLE_ACTIONS.get(_best_role_for_network(user, obj.pk), ())
    if isinstance(obj, Job):
        role = _best_role_for_network(user, obj.network_id)
        if action in ROLE_ACTIONS.get(role, ()):
            return True
        own_job_actions = ROLE_OWN_JOB_ACTIONS.get(role, ())
        return action in own_job_actions and obj.created_by_id == user.pk
    raise TypeError(f"no permission rules for {type(obj).__name__}")


def authorize(*, actor, action, obj):
    """Raise PermissionDenied unless ``actor`` may do ``action``; ``actor=None`` is the system."""
    if actor is not None and not can(actor, action, obj):
        raise PermissionDenied(f"Your role does not allow {action}.")


def networks_visible_to(user):
    """The networks ``user`` may read: those of the projects they belong to."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Network.objects.none()
    if user.is_superuser:
        return Network.objects.all()
    return Network.objects.filter(project_links__project__memberships__user=user).distinct()


def _role_in_project(user, project):
    return (
        Membership.objects.filter(project=project, user=user).values_list("role", flat=True).first()
    )


def _best_role_for_network(user, network_id):
    roles = set(
        Membership.objects.filter(
            user=user, project__network_links__network_id=network_id
        ).values_list("role", flat=True)
    )
    return next((role for role in ROLE_RANK if role in roles), None)
