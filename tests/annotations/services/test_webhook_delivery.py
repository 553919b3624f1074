"""Deliveries sent to a real HTTP server of the test's own, through the Celery task run
eagerly (``apply``: its retries run at once, whatever the backoff)."""

import json

import pytest

from annotations.formats.webhook_signatures import signature_matches
from annotations.models import WebhookDelivery
from annotations.tasks import deliver_webhook
from tests.annotations.webhook_receiver import WebhookReceiver
from tests.factories.annotations import WebhookDeliveryFactory

pytestmark = pytest.mark.django_db

Status = WebhookDelivery.Status


@pytest.fixture(autouse=True)
def _webhook_settings(settings):
    settings.ATLAS_WEBHOOK_ALLOW_PRIVATE = True
    settings.ATLAS_WEBHOOK_MAX_ATTEMPTS = 5
    settings.ATLAS_WEBHOOK_BACKOFF_SECONDS = 0.01


def _deliver(delivery):
    deliver_webhook.apply(args=[delivery.pk])
    delivery.refresh_from_db()
    return delivery


def test_a_receiver_that_fails_twice_gets_the_delivery_on_the_third_attempt():
    with WebhookReceiver(statuses=[500, 500]) as receiver:
        delivery = WebhookDeliveryFactory(webhook__url=receiver.url())

        _deliver(delivery)

    assert (delivery.status, delivery.attempts) == (Status.DELIVERED, 3)
    assert (delivery.response_status, delivery.response_excerpt, delivery.last_error) == (
        200,
        "answer 3",
        "",
    )
    assert delivery.delivered_at is not None
    assert delivery.duration >= 0
    assert len(receiver.received) == 3


def test_every_attempt_carries_a_signature_the_receiver_verifies():
    with WebhookReceiver(statuses=[500, 500]) as receiver:
        delivery = WebhookDeliveryFactory(webhook__url=receiver.url())

        _deliver(delivery)

    verified = [
        signature_matches(
            secret=delivery.webhook.secret,
            timestamp=request.headers["X-Atlas-Timestamp"],
            body=request.body.decode(),
            header=request.headers["X-Atlas-Signature"],
        )
        for request in receiver.received
    ]
    assert verified == [True, True, True]


def test_a_delivery_sends_the_event_headers_and_the_body_as_logged():
    with WebhookReceiver() as receiver:
        delivery = WebhookDeliveryFactory(webhook__url=receiver.url())

        _deliver(delivery)

    (request,) = receiver.received
    assert request.path == "/hook"
    assert request.headers["X-Atlas-Event"] == "release.made"
    assert request.headers["X-Atlas-Delivery"] == str(delivery.pk)
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Atlas-Signature"].startswith("sha256=")
    assert json.loads(request.body) == json.loads(delivery.body)


def test_a_signature_with_another_secret_does_not_verify():
    with WebhookReceiver() as receiver:
        delivery = WebhookDeliveryFactory(webhook__url=receiver.url())

        _deliver(delivery)

    (request,) = receiver.received
    assert not signature_matches(
        secret="whsec_someone_else",
        timestamp=request.headers["X-Atlas-Timestamp"],
        body=request.body.decode(),
        header=request.headers["X-Atlas-Signature"],
    )


def test_a_delivery_that_always_fails_gives_up_after_the_last_attempt(settings):
    settings.ATLAS_WEBHOOK_MAX_ATTEMPTS = 4
    with WebhookReceiver(statuses=[503] * 10) as receiver:
        delivery = WebhookDeliveryFactory(webhook__url=receiver.url())

        _deliver(delivery)

    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        Status.FAILED,
        4,
        "HTTP 503",
    )
    assert (delivery.response_status, delivery.delivered_at) == (503, None)
    assert len(receiver.received) == 4


def test_an_unreachable_receiver_is_logged_as_a_connection_error(settings):
    settings.ATLAS_WEBHOOK_MAX_ATTEMPTS = 2
    with WebhookReceiver() as receiver:
        url = receiver.url()
    delivery = WebhookDeliveryFactory(webhook__url=url)

    _deliver(delivery)

    assert (delivery.status, delivery.attempts, delivery.response_status) == (
        Status.FAILED,
        2,
        None,
    )
    assert delivery.last_error.startswith("ConnectionError: ")


def test_a_redirect_is_not_followed():
    with (
        WebhookReceiver() as elsewhere,
        WebhookReceiver(statuses=[302] * 10, location=elsewhere.url("/stolen")) as receiver,
    ):
        delivery = WebhookDeliveryFactory(webhook__url=receiver.url())

        _deliver(delivery)

    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        Status.FAILED,
        5,
        "HTTP 302: redirects are not followed",
    )
    assert elsewhere.received == []


def test_a_private_host_is_refused_without_a_request_when_private_hosts_are_not_allowed(
    settings,
):
    settings.ATLAS_WEBHOOK_ALLOW_PRIVATE = False
    with WebhookReceiver() as receiver:
        delivery = WebhookDeliveryFactory(webhook__url=receiver.url())

        _deliver(delivery)

    assert (delivery.status, delivery.attempts) == (Status.FAILED, 1)
    assert delivery.last_error == (
        "Refused: 127.0.0.1 resolves to a private, loopback or reserved address "
        "(ATLAS_WEBHOOK_ALLOW_PRIVATE is off)."
    )
    assert receiver.received == []


def test_a_deactivated_hook_is_not_sent():
    with WebhookReceiver() as receiver:
        delivery = WebhookDeliveryFactory(webhook__url=receiver.url(), webhook__active=False)

        _deliver(delivery)

    assert (delivery.status, delivery.last_error) == (
        Status.FAILED,
        "The webhook was deactivated.",
    )
    assert receiver.received == []


def test_a_delivered_delivery_is_not_sent_again():
    with WebhookReceiver() as receiver:
        delivery = WebhookDeliveryFactory(webhook__url=receiver.url())
        _deliver(delivery)

        _deliver(delivery)

    assert (delivery.status, delivery.attempts) == (Status.DELIVERED, 1)
    assert len(receiver.received) == 1
