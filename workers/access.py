"""Who may see and act on networks and jobs.

``workers`` never imports ``annotations``, yet projects and roles live there. The policy module
named by ``settings.ATLAS_ACCESS_POLICY`` answers for the catalog, the way Django asks its
authentication backends. It must provide:

- ``networks_visible_to(user) -> QuerySet[Network]``: the networks the user may read;
- ``datasets_visible_to(user) -> QuerySet[Dataset]``: the registered datasets the user may
  read and use in jobs (``demo`` is built in and open to all);
- ``can(user, action, obj) -> bool`` for ``obj`` a ``Network`` or a ``Job`` and ``action`` one
  of ``network.view``, ``job.view``, ``job.create``, ``job.cancel``.
"""

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_module


@cache
def _policy():
    return import_module(settings.ATLAS_ACCESS_POLICY)


def networks_visible_to(user):
    return _policy().networks_visible_to(user)


def datasets_visible_to(user):
    return _policy().datasets_visible_to(user)


def can(user, action, obj):
    return _policy().can(user, action, obj)
