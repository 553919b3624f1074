"""Sending one webhook delivery: one attempt per call, the outcome logged on its row.

The request is a signed POST (``formats/webhook_signatures.py``) with a short timeout that
follows no redirect and ignores proxy settings of the environment; a host that resolves to a
private address is refused unless ``ATLAS_WEBHOOK_ALLOW_PRIVATE``. A 2xx answer delivers it;
anything else is retried after a backoff that doubles, until ``ATLAS_WEBHOOK_MAX_ATTEMPTS``.
"""

import socket
import time
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from annotations.formats.webhook_signatures import signature
from annotations.models import WebhookDelivery
from annotations.services.webhooks import address_is_private

EXCERPT_BYTES = 500
USER_AGENT = "NeuronAtlas-Webhooks/1"
Status = WebhookDelivery.Status


class Refused(Exception):
    """The URL may not be sent to (a private host while they are not allowed)."""


def webhook_delivery_attempt(*, delivery_id):
    """Make the next attempt at a pending or retrying delivery and log it. Returns the seconds
    to wait before the next attempt, or None when there is none to make (delivered, failed
    for good, or nothing to do)."""
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status__in=(Status.PENDING, Status.RETRYING)
    ).update(attempts=F("attempts") + 1, last_attempt_at=timezone.now())
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
    webhook = delivery.webhook
    if not webhook.active:
        _log(delivery, Status.FAILED, error="The webhook was deactivated.")
        return None
    started = time.monotonic()
    try:
        _check_host(webhook.url)
        response_status, excerpt = _post(delivery, webhook)
    except Refused as error:
        _log(delivery, Status.FAILED, error=str(error), started=started)
        return None
    except requests.RequestException as error:
        return _failed(delivery, started=started, error=f"{type(error).__name__}: {error}")
    if 200 <= response_status < 300:
        _log(
            delivery,
            Status.DELIVERED,
            response_status=response_status,
            excerpt=excerpt,
            started=started,
            delivered_at=timezone.now(),
        )
        return None
    error = f"HTTP {response_status}"
    if 300 <= response_status < 400:
        error = f"HTTP {response_status}: redirects are not followed"
    return _failed(
        delivery, started=started, error=error, response_status=response_status, excerpt=excerpt
    )


def _post(delivery, webhook):
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Atlas-Event": delivery.event_type,
        "X-Atlas-Delivery": str(delivery.pk),
        "X-Atlas-Timestamp": timestamp,
        "X-Atlas-Signature": signature(
            secret=webhook.secret, timestamp=timestamp, body=delivery.body
        ),
    }
    with requests.Session() as session:
        # Proxy variables of the environment would send the request elsewhere.
        session.trust_env = False
        with session.post(
            webhook.url,
            data=delivery.body.encode(),
            headers=headers,
            timeout=settings.ATLAS_WEBHOOK_TIMEOUT_SECONDS,
            allow_redirects=False,
            stream=True,
        ) as response:
            excerpt = response.raw.read(EXCERPT_BYTES, decode_content=True) or b""
            return response.status_code, excerpt.decode(errors="replace")


def _check_host(url):
    if settings.ATLAS_WEBHOOK_ALLOW_PRIVATE:
        return
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, port)}
    except OSError as error:
        raise requests.ConnectionError(f"cannot resolve {parts.hostname}: {error}") from error
    if any(address_is_private(address) for address in addresses):
        raise Refused(
            f"Refused: {parts.hostname} resolves to a private, loopback or reserved address "
            "(ATLAS_WEBHOOK_ALLOW_PRIVATE is off)."
        )


def _failed(delivery, *, started, error, response_status=None, excerpt=""):
    attempts = WebhookDelivery.objects.values_list("attempts", flat=True).get(pk=delivery.pk)
    last = attempts >= settings.ATLAS_WEBHOOK_MAX_ATTEMPTS
    _log(
        delivery,
        Status.FAILED if last else Status.RETRYING,
        error=error,
        response_status=response_status,
        excerpt=excerpt,
        started=started,
    )
    if last:
        return None
    return settings.ATLAS_WEBHOOK_BACKOFF_SECONDS * 2 ** (attempts - 1)


def _log(delivery, status, *, error="", response_status=None, excerpt="", started=None, **more):
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=status,
        last_error=error[:500],
        response_status=response_status,
        response_excerpt=excerpt[:500],
        duration=None if started is None else time.monotonic() - started,
        **more,
    )
