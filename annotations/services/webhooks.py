"""A project's webhooks: registering them, and turning the project's events into deliveries.

Services that make a hookable event call ``webhooks_emit`` inside their transaction: it writes
one ``WebhookDelivery`` per active hook that chose the event type, and hands their ids to the
``deliver_webhook`` task once the transaction commits, so a rolled-back change sends nothing.
Jobs live in ``workers``, which never imports this app: ``workers.signals.job_finished`` is
sent after a job's final state commits, and ``annotations.apps`` connects
``webhooks_emit_job`` to it. Sending each delivery is ``services/webhook_delivery.py``.
"""

import ipaddress
import json
import logging
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from annotations.formats.webhook_signatures import secret_new
from annotations.models import HypothesisUnit, Project, Webhook, WebhookDelivery
from annotations.policies import authorize
from annotations.selectors.notifications import site_url
from annotations.services.events import event_log
from server.errors import Unprocessable, ValidationFailed
from workers.addresses import UnitAddress
from workers.models import Job

logger = logging.getLogger(__name__)

URL_MAX_LENGTH = Webhook._meta.get_field("url").max_length
JOB_EVENT_TYPES = {
    Job.Status.SUCCEEDED: Webhook.EventType.JOB_FINISHED,
    Job.Status.FAILED: Webhook.EventType.JOB_FAILED,
}


def webhook_create(*, project, url, event_types, active=True, actor):
    """Register ``url`` for ``event_types`` of ``project`` (owners only), with a new secret."""
    authorize(actor=actor, action="webhook.manage", obj=project)
    url = webhook_url_checked(url)
    event_types = _event_types_checked(event_types)
    with transaction.atomic():
        webhook = Webhook.objects.create(
            project=project,
            url=url,
            event_types=event_types,
            active=active,
            secret=secret_new(),
            created_by=actor,
        )
        event_log(webhook, "webhook.created", actor=actor, after=_snapshot(webhook))
    return webhook


def webhook_update(*, webhook, actor, url=None, event_types=None, active=None):
    """Change a webhook's URL, event types or active flag (what is None stays)."""
    authorize(actor=actor, action="webhook.manage", obj=webhook.project)
    before = _snapshot(webhook)
    if url is not None:
        webhook.url = webhook_url_checked(url)
    if event_types is not None:
        webhook.event_types = _event_types_checked(event_types)
    if active is not None:
        webhook.active = active
    with transaction.atomic():
        webhook.save(update_fields=["url", "event_types", "active"])
        event_log(webhook, "webhook.updated", actor=actor, before=before, after=_snapshot(webhook))
    return webhook


def webhook_delete(*, webhook, actor):
    """Remove a webhook and its delivery log."""
    authorize(actor=actor, action="webhook.manage", obj=webhook.project)
    with transaction.atomic():
        event_log(webhook, "webhook.deleted", actor=actor, before=_snapshot(webhook))
        webhook.delete()


def webhook_redeliver(*, delivery, actor):
    """Send a logged delivery's event again, as a new delivery with the same body (the event
    keeps its id, so receivers can tell a repeat). Returns the new delivery."""
    webhook = delivery.webhook
    authorize(actor=actor, action="webhook.manage", obj=webhook.project)
    with transaction.atomic():
        again = WebhookDelivery.objects.create(
            webhook=webhook, event_type=delivery.event_type, body=delivery.body
        )
        _enqueue_after_commit([again.pk])
    return again


def webhooks_emit(*, project, event_type, data):
    """Queue ``event_type`` with ``data`` for each active hook of ``project`` that chose it;
    they are sent after the caller's transaction commits. ``data`` may be a function that
    makes it, called only when some hook wants the event. Returns the deliveries."""
    hooks = [
        hook
        for hook in Webhook.objects.filter(project=project, active=True).only("event_types")
        if event_type in hook.event_types
    ]
    if not hooks:
        return []
    body = json.dumps(
        {
            "id": str(uuid.uuid4()),
            "type": event_type,
            "created_at": timezone.now().isoformat(),
            "project": {
                "slug": project.slug,
                "name": project.name,
                "url": site_url(reverse("frontend:project", kwargs={"slug": project.slug})),
            },
            "data": data() if callable(data) else data,
        },
        ensure_ascii=False,
    )
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(webhook=hook, event_type=event_type, body=body) for hook in hooks
    )
    _enqueue_after_commit([delivery.pk for delivery in deliveries])
    return deliveries


def webhooks_emit_job(*, job_id, status):
    """Tell the hooks of every project studying the job's network that it succeeded or
    failed (the receiver of ``workers.signals.job_finished``)."""
    event_type = JOB_EVENT_TYPES.get(status)
    if event_type is None:
        return
    projects = list(
        Project.objects.filter(network_links__network__jobs=job_id, webhooks__active=True)
        .distinct()
        .order_by("pk")
    )
    if not projects:
        return
    job = Job.objects.select_related("network", "layer").get(pk=job_id)
    data = {
        "job": {
            "id": job.pk,
            "kind": job.kind,
            "status": job.status,
            "network": job.network.name,
            "layer": job.layer.name if job.layer is not None else None,
            "units": job.unit_indices,
            "error_code": job.error_code,
            "error": job.error[:500],
            "finished_at": job.finished_at.isoformat() if job.finished_at else None,
            "api_url": site_url(reverse("workers-api:job-detail", kwargs={"job_id": job.pk})),
        }
    }
    with transaction.atomic():
        for project in projects:
            webhooks_emit(project=project, event_type=event_type, data=data)


def hypothesis_data(hypothesis):
    """What a hypothesis event says about ``hypothesis``: ids, labels and where to find it."""
    slug = hypothesis.project.slug
    units = HypothesisUnit.objects.filter(hypothesis=hypothesis).select_related("unit__layer")
    return {
        "id": hypothesis.pk,
        "title": hypothesis.title,
        "status": hypothesis.status,
        "version": hypothesis.version,
        "author": hypothesis.author.username if hypothesis.author is not None else None,
        "network": hypothesis.network.name,
        "units": sorted(str(UnitAddress.of(row.unit)) for row in units),
        "url": site_url(
            reverse("frontend:hypothesis", kwargs={"slug": slug, "hypothesis_id": hypothesis.pk})
        ),
        "api_url": site_url(
            reverse(
                "annotations-api:hypothesis-detail",
                kwargs={"slug": slug, "hypothesis_id": hypothesis.pk},
            )
        ),
    }


def webhook_url_checked(url):
    """``url`` if it is an absolute http(s) URL a hook may point at, else Unprocessable.

    Hosts given as an IP address must be public unless ``ATLAS_WEBHOOK_ALLOW_PRIVATE``; host
    names are resolved and checked again at each delivery."""
    url = str(url).strip()
    parts = urlsplit(url)
    problem = None
    if len(url) > URL_MAX_LENGTH:
        problem = f"At most {URL_MAX_LENGTH} characters."
    elif parts.scheme not in ("http", "https") or not parts.hostname:
        problem = "An absolute http:// or https:// URL."
    elif parts.username or parts.password:
        problem = "No user name or password in the URL; check the signature instead."
    elif not _port_valid(parts):
        problem = "The port must be a number from 1 to 65535."
    elif not settings.ATLAS_WEBHOOK_ALLOW_PRIVATE and _names_private_host(parts.hostname):
        problem = "The host is a private, loopback or reserved address."
    if problem is not None:
        raise Unprocessable(f"Not a webhook URL: {problem}", fields={"url": [problem]})
    return url


def _port_valid(parts):
    try:
        port = parts.port
    except ValueError:
        return False
    return port is None or port > 0


def address_is_private(address):
    """Whether ``address`` (an IP address as text) is one a webhook must not reach unless
    private hosts are allowed."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def _names_private_host(hostname):
    if hostname.lower() == "localhost" or hostname.lower().endswith(".localhost"):
        return True
    try:
        return address_is_private(hostname)
    except ValueError:
        return False  # a name, checked when it is resolved at delivery


def _event_types_checked(event_types):
    chosen = list(dict.fromkeys(event_types))
    unknown = [name for name in chosen if name not in Webhook.EventType.values]
    if not chosen or unknown:
        message = f"Choose one or more of: {', '.join(Webhook.EventType.values)}."
        raise ValidationFailed(
            f"Unknown event types: {', '.join(map(str, unknown))}." if unknown else message,
            fields={"event_types": [message]},
        )
    return chosen


def _snapshot(webhook):
    return {"url": webhook.url, "event_types": webhook.event_types, "active": webhook.active}


def _enqueue_after_commit(delivery_ids):
    transaction.on_commit(lambda: _enqueue(delivery_ids))


def _enqueue(delivery_ids):
    """Hand the deliveries to the broker; one it refuses stays pending in the log, where the
    owner can redeliver it."""
    from annotations.tasks import deliver_webhook

    for delivery_id in delivery_ids:
        try:
            deliver_webhook.delay(delivery_id)
        except Exception as error:  # kombu, redis and socket errors alike: the row stays
            logger.warning("webhook delivery %s: the broker refused it (%r)", delivery_id, error)
