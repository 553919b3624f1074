"""Use cases that add, change and remove project members; a project always keeps an owner."""

from django.db import IntegrityError, transaction

from annotations.models import Membership, Project, Role
from annotations.policies import authorize
from server.errors import Conflict, InvalidTransition, ValidationFailed


def membership_add(*, project, user, role, actor):
    """Make ``user`` a member of ``project`` with ``role``."""
    authorize(actor=actor, action="membership.manage", obj=project)
    _validate_role(role)
    try:
        with transaction.atomic():
            return Membership.objects.create(project=project, user=user, role=role)
    except IntegrityError as error:
        raise Conflict(
            f"{user.username!r} is already a member of this project.",
            code="already_member",
            fields={"username": ["Already a member."]},
        ) from error


def membership_change_role(*, membership, role, actor):
    """Give the member ``role``; the last owner cannot step down."""
    authorize(actor=actor, action="membership.manage", obj=membership.project)
    _validate_role(role)
    with transaction.atomic():
        _lock_project(membership.project_id)
        if role != Role.OWNER:
            _refuse_if_last_owner(membership, "change the role of")
        Membership.objects.filter(pk=membership.pk).update(role=role)
    membership.role = role
    return membership


def membership_remove(*, membership, actor):
    """Take the member out of the project; the last owner cannot be removed."""
    authorize(actor=actor, action="membership.manage", obj=membership.project)
    with transaction.atomic():
        _lock_project(membership.project_id)
        _refuse_if_last_owner(membership, "remove")
        Membership.objects.filter(pk=membership.pk).delete()


def membership_set(*, project, user, role, actor):
    """Give ``user`` ``role`` in ``project``, adding them if they are not a member yet."""
    membership = Membership.objects.filter(project=project, user=user).first()
    if membership is None:
        return membership_add(project=project, user=user, role=role, actor=actor)
    return membership_change_role(membership=membership, role=role, actor=actor)


def _validate_role(role):
    if role not in Role.values:
        raise ValidationFailed(
            f"Unknown role {role!r}.",
            fields={"role": [f"Choose one of: {', '.join(Role.values)}."]},
        )


def _lock_project(project_id):
    # Every membership change of a project takes this lock first, so two owners demoting each
    # other at once cannot both see "another owner remains".
    Project.objects.select_for_update().get(pk=project_id)


def _refuse_if_last_owner(membership, verb):
    owners = Membership.objects.filter(project_id=membership.project_id, role=Role.OWNER)
    if list(owners.values_list("pk", flat=True)) == [membership.pk]:
        raise InvalidTransition(
            f"Cannot {verb} the last owner; make another member an owner first.",
            code="last_owner",
        )
