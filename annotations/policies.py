"""The one permission policy: who may do what on projects, networks and jobs.

A user's power comes from their role in a project. On a network (and on its jobs) the user
acts with their best role over the projects that study that network. Superusers may do
everything; anonymous and inactive users nothing. ``workers`` asks this module about its
catalog through ``settings.ATLAS_ACCESS_POLICY`` (see ``workers/access.py``).
"""

from django.db.models import Q

from annotations.models import LabellingRound, Membership, Project, Role, RoundParticipant
from server.errors import PermissionDenied
from workers.models import Dataset, Job, Network

WRITERS = frozenset({Role.OWNER, Role.REVIEWER, Role.ANNOTATOR})
REVIEWERS = frozenset({Role.OWNER, Role.REVIEWER})
EVERYONE = frozenset(Role)

# Which roles may take each action on a project's objects (the project, its networks and jobs,
# groups, assignments, hypotheses, comments). Rules that also look at the object (authorship,
# project policy) are in OBJECT_RULES below.
ACTION_ROLES = {
    "project.view": EVERYONE,
    "project.update": frozenset({Role.OWNER}),
    "membership.manage": frozenset({Role.OWNER}),
    "webhook.manage": frozenset({Role.OWNER}),
    "network.view": EVERYONE,
    "network.register": REVIEWERS,
    "job.view": EVERYONE,
    "job.create": WRITERS,
    "job.cancel": WRITERS,
    "group.create": WRITERS,
    "group.update": REVIEWERS,
    "group.merge": REVIEWERS,
    "group.delete": REVIEWERS,
    "assignment.apply": WRITERS,
    "hypothesis.create": WRITERS,
    "hypothesis.update": WRITERS,
    "hypothesis.withdraw": WRITERS,
    "hypothesis.review": REVIEWERS,
    "comment.create": WRITERS,
    "comment.update": WRITERS,
    "comment.delete": WRITERS,
    "comment.resolve": WRITERS,
    "taxonomy.export": EVERYONE,
    "taxonomy.import": REVIEWERS,
    "release.create": frozenset({Role.OWNER}),
    "circuit.create": WRITERS,
    "circuit.update": WRITERS,
    "circuit.delete": WRITERS,
    "link.create": WRITERS,
    "link.review": REVIEWERS,
    "round.view": EVERYONE,
    "round.open": REVIEWERS,
    "round.progress": REVIEWERS,
    "round.label": WRITERS,
    "round.results": EVERYONE,
    "round.close": frozenset({Role.OWNER}),
    "round.decide": REVIEWERS,
}


def _author_id(obj):
    return getattr(obj, "author_id", getattr(obj, "created_by_id", None))


def _own(user, role, obj):
    return _author_id(obj) == user.pk


def _own_or_reviewer(user, role, obj):
    return role in REVIEWERS or _author_id(obj) == user.pk


def _own_or_owner(user, role, obj):
    return role == Role.OWNER or _author_id(obj) == user.pk


def _not_own(user, role, obj):
    # Nobody reviews their own hypothesis, whatever their role.
    return _author_id(obj) != user.pk


def _direct_assignment_allowed(user, role, obj):
    project = obj if isinstance(obj, Project) else obj.project
    return role == Role.OWNER or not project.assignments_need_review


def _participant(user, role, obj):
    return RoundParticipant.objects.filter(round=obj, user=user).exists()


def _closed(user, role, obj):
    # A round's labels and scores stay hidden from everyone, participants who have submitted
    # included, until the round closes: nobody still labelling can learn them second-hand.
    return obj.status == LabellingRound.Status.CLOSED


# Extra conditions on the object, checked after the role allows the action.
OBJECT_RULES = {
    "job.cancel": _own_or_reviewer,
    "hypothesis.update": _own,
    "hypothesis.withdraw": _own,
    "hypothesis.review": _not_own,
    "comment.update": _own,
    "comment.delete": _own_or_owner,
    "comment.resolve": _own_or_reviewer,
    "assignment.apply": _direct_assignment_allowed,
    "circuit.delete": _own_or_reviewer,
    "link.review": _not_own,
    "round.label": _participant,
    "round.results": _closed,
    "round.decide": _closed,
}

# Rules that bind superusers too: a round stays blind for everyone.
RULES_FOR_SUPERUSERS = frozenset({"round.label", "round.results", "round.decide"})

# Actions on no object: any active user may create a project; only superusers (and the
# system, see ``authorize``) create users.
USER_ACTIONS = {"project.create": True, "user.create": False}

# Best first: a user in several projects that study one network acts with the best role.
ROLE_RANK = [Role.OWNER, Role.REVIEWER, Role.ANNOTATOR, Role.VIEWER]

ACTIONS = frozenset(ACTION_ROLES) | frozenset(USER_ACTIONS)


def _role_for(user, obj):
    if isinstance(obj, Project):
        return _role_in_project(user, obj)
    if isinstance(obj, Network):
        return _best_role_for_network(user, obj.pk)
    if isinstance(obj, Job):
        return _best_role_for_network(user, obj.network_id)
    project_id = getattr(obj, "project_id", None)
    if project_id is None:
        raise TypeError(f"no permission rules for {type(obj).__name__}")
    return _role_in_project(user, project_id)


def can(user, action, obj):
    """Whether ``user`` may do ``action`` on ``obj`` (a Project, Network, Job, any object of a
    project such as a Group, Hypothesis or Comment, or None for user-level actions)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if obj is None:
        return user.is_superuser or USER_ACTIONS.get(action, False)
    if user.is_superuser:
        if action in RULES_FOR_SUPERUSERS:
            return OBJECT_RULES[action](user, None, obj)
        return action not in ("hypothesis.review", "link.review") or _not_own(user, None, obj)
    return _role_allows(user, action, obj, _role_for(user, obj))


def can_in_role(user, action, project, *, role):
    """``can(user, action, project)`` for a caller that read the user's ``role`` in
    ``project`` (None for a non-member) in the same query as the project, saving the policy
    a query of its own."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return can(user, action, project)
    return _role_allows(user, action, project, role)


def _role_allows(user, action, obj, role):
    if role not in ACTION_ROLES[action]:
        return False
    rule = OBJECT_RULES.get(action)
    return rule is None or rule(user, role, obj)


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


def datasets_visible_to(user):
    """The registered datasets ``user`` may see and use: the public ones and those of the
    projects they belong to."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Dataset.objects.none()
    if user.is_superuser:
        return Dataset.objects.all()
    member = Dataset.objects.filter(project_links__project__memberships__user=user)
    return Dataset.objects.filter(Q(public=True) | Q(pk__in=member.values("pk")))


def _role_in_project(user, project):
    return (
        Membership.objects.filter(project=project, user=user).values_list("role", flat=True).first()
    )


def role_in_project(user, project):
    """The user's role in ``project`` (a Project or its id), or None for a non-member."""
    return _role_in_project(user, project)


def _best_role_for_network(user, network_id):
    roles = set(
        Membership.objects.filter(
            user=user, project__network_links__network_id=network_id
        ).values_list("role", flat=True)
    )
    return next((role for role in ROLE_RANK if role in roles), None)
