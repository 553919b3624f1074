"""Find the objects a command names on its command line, or fail with a clear message."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from annotations.models import Project


def user_named(username):
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"Unknown user {username!r}.")
    return user


def project_with_slug(slug):
    project = Project.objects.filter(slug=slug).first()
    if project is None:
        raise CommandError(f"Unknown project {slug!r}.")
    return project
