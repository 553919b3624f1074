"""``GET /api/v1/health/``: the database, the broker, the cache and the workers that are alive."""

import logging

from django.conf import settings
from django.db import DatabaseError, connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from server.cache import cache_reachable
from server.celery import app as celery_app
from server.schema import ERROR
from workers.services.heartbeats import live_workers

logger = logging.getLogger(__name__)


def database_ok():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        logger.exception("health: database unreachable")
        return False


def broker_ok():
    try:
        with celery_app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        logger.exception("health: broker unreachable")
        return False


def broker_kind():
    return settings.CELERY_BROKER_URL.split("://", 1)[0]


class HealthView(APIView):
    """Liveness for anyone (load balancers, uptime probes); what stands behind it, worker
    hostnames and pids included, only for staff."""

    permission_classes = [AllowAny]

    @extend_schema(
        responses={
            (code, "application/json"): inline_serializer(
                name=f"Health{code}",
                fields={
                    "status": serializers.ChoiceField(choices=["ok", "degraded"]),
                    "database": serializers.DictField(required=False),
                    "broker": serializers.DictField(required=False),
                    "cache": serializers.DictField(required=False),
                    "workers": serializers.ListField(child=serializers.DictField(), required=False),
                },
            )
            for code in (200, 503)
        }
        | {401: ERROR},
        description="`status` for anyone; the database, broker, cache and live workers only "
        "for staff users. A token or session is optional, but a bad token is refused (401).",
    )
    def get(self, request):
        database = database_ok()
        broker = broker_ok()
        cache = cache_reachable()
        healthy = database and broker and cache
        body = {"status": "ok" if healthy else "degraded"}
        if request.user.is_staff:
            body |= {
                "database": {"ok": database, "vendor": connection.vendor},
                "broker": {"ok": broker, "transport": broker_kind()},
                "cache": {"ok": cache},
                "workers": _live_workers() if database else [],
            }
        return Response(body, status=200 if healthy else 503)


def _live_workers():
    return [
        {
            "hostname": worker.hostname,
            "pid": worker.pid,
            "queues": worker.queues,
            "device": worker.device,
            "last_seen": worker.last_seen.isoformat(),
        }
        for worker in live_workers()
    ]
