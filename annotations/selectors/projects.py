"""Reads about projects and memberships, scoped to what the reader may see."""

from django.db.models import OuterRef, Subquery

from annotations.models import Membership, Project
from annotations.policies import can_in_role
from server.errors import NotFound, PermissionDenied


def project_get_for_user(*, user, slug, action="project.view"):
    """The project ``slug`` if ``user`` may do ``action`` on it.

    A missing project and one the user may not see raise the same NotFound, so a
    non-member learns nothing about which slugs exist. A member who may see the project but
    whose role lacks ``action`` gets PermissionDenied: they already know it exists, and a 403
    tells them to ask an owner rather than to check the address.
    """
    project = Project.objects.filter(slug=slug).annotate(user_role=_role_of(user)).first()
    # The role came with the project: the policy needs no query of its own (every request
    # under /projects/<slug>/ passes here).
    if project is not None and can_in_role(user, action, project, role=project.user_role):
        return project
    if project is None or not can_in_role(user, "project.view", project, role=project.user_role):
        raise NotFound("Project not found.")
    raise PermissionDenied(f"Your role does not allow {action}.")


def projects_for_user(*, user):
    """The projects ``user`` may see, each annotated with ``user_role`` (None if not a member)."""
    if not user.is_authenticated or not user.is_active:
        return Project.objects.none()
    projects = (
        Project.objects.all()
        if user.is_superuser
        else Project.objects.filter(memberships__user=user)
    )
    return projects.annotate(user_role=_role_of(user)).order_by("name", "slug")


def project_members(*, project):
    return (
        Membership.objects.filter(project=project).select_related("user").order_by("user__username")
    )


def membership_get(*, project, username):
    """The membership of ``username`` in ``project``; NotFound if they are not a member."""
    membership = (
        Membership.objects.filter(project=project, user__username=username)
        .select_related("user", "project")
        .first()
    )
    if membership is None:
        raise NotFound(f"{username!r} is not a member of this project.")
    return membership


def members_by_username(*, project, usernames):
    """``{username: user}`` of the ``usernames`` that are members of ``project``; others (no
    such user, or not a member) are left out."""
    wanted = {name for name in usernames if isinstance(name, str) and name}
    if not wanted:
        return {}
    return {
        membership.user.username: membership.user
        for membership in Membership.objects.filter(
            project=project, user__username__in=wanted
        ).select_related("user")
    }


def user_memberships(*, user):
    return (
        Membership.objects.filter(user=user)
        .select_related("project")
        .order_by("project__name", "project__slug")
    )


def _role_of(user):
    return Subquery(
        Membership.objects.filter(project=OuterRef("pk"), user_id=user.pk).values("role")[:1]
    )
