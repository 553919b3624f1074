import json

import pytest

from annotations import tasks
from annotations.models import Event, Role, Webhook, WebhookDelivery
from tests.factories.annotations import (
    MembershipFactory,
    ProjectFactory,
    WebhookDeliveryFactory,
    WebhookFactory,
)

pytestmark = pytest.mark.django_db

WEBHOOKS = "/api/v1/projects/curves/webhooks/"


class DeliveryRecorder:
    def __init__(self):
        self.ids = []

    def delay(self, delivery_id):
        self.ids.append(delivery_id)


@pytest.fixture
def sent(monkeypatch):
    recorder = DeliveryRecorder()
    monkeypatch.setattr(tasks, "deliver_webhook", recorder)
    return recorder.ids


@pytest.fixture
def project():
    return ProjectFactory(slug="curves")


@pytest.fixture
def owner(project, api_client):
    user = MembershipFactory(project=project, user__username="lead", role=Role.OWNER).user
    api_client.force_authenticate(user)
    return user


def _as(api_client, project, role):
    user = MembershipFactory(project=project, user__username=role, role=role).user
    api_client.force_authenticate(user)
    return user


def _iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


def _register(api_client, **fields):
    body = {"url": "https://hooks.example.org/atlas", "event_types": ["release.made"], **fields}
    return api_client.post(WEBHOOKS, body, format="json")


def test_an_owner_registers_a_hook_and_sees_its_secret_once(api_client, owner):
    response = _register(api_client, event_types=["release.made", "job.failed"])

    assert response.status_code == 201
    webhook = Webhook.objects.get()
    assert response.json() == {
        "id": webhook.pk,
        "url": "https://hooks.example.org/atlas",
        "event_types": ["release.made", "job.failed"],
        "active": True,
        "created_by": "lead",
        "created_at": _iso(webhook.created_at),
        "secret": webhook.secret,
    }
    assert webhook.secret.startswith("whsec_")
    assert "secret" not in api_client.get(f"{WEBHOOKS}{webhook.pk}/").json()
    assert "secret" not in api_client.get(WEBHOOKS).json()["results"][0]


def test_registering_writes_an_event_without_the_secret(api_client, owner):
    _register(api_client)

    event = Event.objects.get(verb="webhook.created")
    assert (event.actor, event.after) == (
        owner,
        {"url": "https://hooks.example.org/atlas", "event_types": ["release.made"], "active": True},
    )


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.ANNOTATOR, Role.VIEWER])
def test_a_member_below_owner_cannot_register_a_hook_and_no_row_is_written(
    api_client, project, role
):
    _as(api_client, project, role)

    response = _register(api_client)

    assert response.status_code == 403
    assert Webhook.objects.count() == 0
    assert Event.objects.count() == 0


def test_an_annotator_cannot_list_the_hooks(api_client, project):
    WebhookFactory(project=project)
    _as(api_client, project, Role.ANNOTATOR)

    assert api_client.get(WEBHOOKS).status_code == 403


def test_a_non_member_gets_a_404(api_client, project):
    WebhookFactory(project=project)
    api_client.force_authenticate(MembershipFactory(user__username="stranger").user)

    assert api_client.get(WEBHOOKS).status_code == 404


@pytest.mark.parametrize(
    "url",
    ["ftp://hooks.example.org/atlas", "hooks.example.org/atlas", "https://user:pw@example.org/"],
)
def test_a_url_that_is_not_http_or_https_is_refused(api_client, owner, url):
    response = _register(api_client, url=url)

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["url"]
    assert Webhook.objects.count() == 0


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000/x", "http://10.1.2.3/x", "http://localhost/x", "http://[::1]/"]
)
def test_a_private_host_is_refused_when_private_hosts_are_not_allowed(
    api_client, owner, settings, url
):
    settings.ATLAS_WEBHOOK_ALLOW_PRIVATE = False

    response = _register(api_client, url=url)

    assert response.status_code == 422
    assert response.json()["fields"] == {
        "url": ["The host is a private, loopback or reserved address."]
    }
    assert Webhook.objects.count() == 0


def test_a_private_host_is_accepted_when_private_hosts_are_allowed(api_client, owner, settings):
    settings.ATLAS_WEBHOOK_ALLOW_PRIVATE = True

    response = _register(api_client, url="http://127.0.0.1:8000/x")

    assert response.status_code == 201


def test_a_port_out_of_range_is_unprocessable(api_client, owner):
    response = _register(api_client, url="https://hooks.example.org:99999/atlas")

    assert response.status_code == 422
    assert response.json()["fields"] == {"url": ["The port must be a number from 1 to 65535."]}
    assert Webhook.objects.count() == 0


def test_an_unknown_event_type_is_refused(api_client, owner):
    response = _register(api_client, event_types=["unit.assigned"])

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["event_types.0"]
    assert Webhook.objects.count() == 0


def test_an_owner_deactivates_a_hook(api_client, owner, project):
    webhook = WebhookFactory(project=project, url="https://hooks.example.org/a")

    response = api_client.patch(f"{WEBHOOKS}{webhook.pk}/", {"active": False}, format="json")

    assert response.status_code == 200
    assert response.json()["active"] is False
    webhook.refresh_from_db()
    assert (webhook.active, webhook.url) == (False, "https://hooks.example.org/a")


def test_an_owner_removes_a_hook_and_its_deliveries(api_client, owner, project):
    webhook = WebhookFactory(project=project)
    WebhookDeliveryFactory(webhook=webhook)

    response = api_client.delete(f"{WEBHOOKS}{webhook.pk}/")

    assert response.status_code == 204
    assert (Webhook.objects.count(), WebhookDelivery.objects.count()) == (0, 0)


def test_another_projects_hook_is_a_404(api_client, owner):
    other = WebhookFactory()

    assert api_client.get(f"{WEBHOOKS}{other.pk}/").status_code == 404


def test_the_delivery_log_shows_status_attempts_and_the_body(api_client, owner, project):
    webhook = WebhookFactory(project=project)
    delivery = WebhookDeliveryFactory(
        webhook=webhook,
        status=WebhookDelivery.Status.FAILED,
        attempts=5,
        response_status=500,
        response_excerpt="boom",
        last_error="HTTP 500",
        duration=0.25,
    )

    response = api_client.get(f"{WEBHOOKS}{webhook.pk}/deliveries/")

    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert row == {
        "id": delivery.pk,
        "event_type": "release.made",
        "status": "failed",
        "attempts": 5,
        "response_status": 500,
        "response_excerpt": "boom",
        "last_error": "HTTP 500",
        "duration": 0.25,
        "created_at": _iso(delivery.created_at),
        "last_attempt_at": None,
        "delivered_at": None,
        "payload": json.loads(delivery.body),
    }


def test_redeliver_queues_a_new_delivery_of_the_same_body(
    api_client, owner, project, sent, django_capture_on_commit_callbacks
):
    webhook = WebhookFactory(project=project)
    failed = WebhookDeliveryFactory(webhook=webhook, status=WebhookDelivery.Status.FAILED)

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(f"{WEBHOOKS}{webhook.pk}/deliveries/{failed.pk}/redeliver/")

    assert response.status_code == 202
    again = WebhookDelivery.objects.exclude(pk=failed.pk).get()
    assert response.json()["id"] == again.pk
    assert (again.body, again.event_type, again.status, again.attempts) == (
        failed.body,
        "release.made",
        WebhookDelivery.Status.PENDING,
        0,
    )
    assert sent == [again.pk]
    failed.refresh_from_db()
    assert failed.status == WebhookDelivery.Status.FAILED


def test_an_annotator_cannot_redeliver(api_client, project, sent):
    delivery = WebhookDeliveryFactory(webhook__project=project)
    _as(api_client, project, Role.ANNOTATOR)

    response = api_client.post(
        f"{WEBHOOKS}{delivery.webhook_id}/deliveries/{delivery.pk}/redeliver/"
    )

    assert response.status_code == 403
    assert WebhookDelivery.objects.count() == 1
    assert sent == []
