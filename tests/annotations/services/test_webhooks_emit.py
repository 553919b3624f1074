"""Which events become deliveries, for which hooks, and only once the change commits."""

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from annotations import tasks
from annotations.models import Role, Webhook, WebhookDelivery
from annotations.services.comments import comment_post
from annotations.services.hypotheses import hypothesis_create
from annotations.services.releases import release_create
from annotations.services.reviews import review_submit
from annotations.services.webhooks import webhooks_emit
from tests.factories.annotations import (
    CircuitFactory,
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
    WebhookFactory,
)
from tests.factories.workers import JobFactory, LayerFactory
from workers.models import Job
from workers.services.jobs import job_fail, job_succeed, jobs_sweep

pytestmark = pytest.mark.django_db

EventType = Webhook.EventType


class DeliveryRecorder:
    """Stands in for the ``deliver_webhook`` task: records the delivery ids handed to it."""

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
    return ProjectFactory(slug="curves", name="Curves")


@pytest.fixture
def layer(project):
    layer = LayerFactory(network__name="inceptionv1", name="mixed3b", channels=4)
    ProjectNetworkFactory(project=project, network=layer.network)
    return layer


@pytest.fixture
def owner(project):
    return MembershipFactory(project=project, user__username="lead", role=Role.OWNER).user


@pytest.fixture
def ada(project):
    return MembershipFactory(project=project, user__username="ada", role=Role.ANNOTATOR).user


@pytest.fixture
def rev(project):
    return MembershipFactory(project=project, user__username="rev", role=Role.REVIEWER).user


def _hook(project, *event_types):
    return WebhookFactory(project=project, event_types=list(event_types))


def _open(project, layer, ada):
    return hypothesis_create(
        project=project,
        network=layer.network,
        title="Curve detectors",
        units=["mixed3b:2"],
        actor=ada,
    )


def _payloads(hook):
    return [
        (delivery.event_type, json.loads(delivery.body))
        for delivery in WebhookDelivery.objects.filter(webhook=hook).order_by("id")
    ]


def test_an_opened_hypothesis_is_sent_after_commit_to_the_hooks_that_chose_it(
    project, layer, ada, sent, django_capture_on_commit_callbacks
):
    hook = _hook(project, EventType.HYPOTHESIS_OPENED)

    with django_capture_on_commit_callbacks(execute=True):
        hypothesis = _open(project, layer, ada)

    ((event_type, body),) = _payloads(hook)
    delivery = WebhookDelivery.objects.get(webhook=hook)
    assert sent == [delivery.pk]
    assert (event_type, delivery.status, delivery.attempts) == (
        "hypothesis.opened",
        WebhookDelivery.Status.PENDING,
        0,
    )
    assert body["type"] == "hypothesis.opened"
    assert body["project"] == {
        "slug": "curves",
        "name": "Curves",
        "url": "http://127.0.0.1:8000/p/curves/",
    }
    assert body["data"] == {
        "hypothesis": {
            "id": hypothesis.pk,
            "title": "Curve detectors",
            "status": "open",
            "version": 1,
            "author": "ada",
            "network": "inceptionv1",
            "units": ["mixed3b:2"],
            "url": f"http://127.0.0.1:8000/p/curves/hypotheses/{hypothesis.pk}/",
            "api_url": f"http://127.0.0.1:8000/api/v1/projects/curves/hypotheses/{hypothesis.pk}/",
        }
    }


def test_nothing_is_sent_before_the_transaction_commits(
    project, layer, ada, sent, django_capture_on_commit_callbacks
):
    _hook(project, EventType.HYPOTHESIS_OPENED)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _open(project, layer, ada)
        sent_before_commit = list(sent)
    for callback in callbacks:
        callback()

    assert sent_before_commit == []
    assert sent == [WebhookDelivery.objects.get().pk]


def test_a_rolled_back_change_writes_and_sends_no_delivery(
    project, layer, ada, sent, django_capture_on_commit_callbacks
):
    _hook(project, EventType.HYPOTHESIS_OPENED)

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        _open(project, layer, ada)
        raise RuntimeError("the request failed after the hypothesis was written")

    assert WebhookDelivery.objects.count() == 0
    assert sent == []


def test_a_hook_for_releases_receives_nothing_for_a_comment_mention(
    project, ada, rev, sent, django_capture_on_commit_callbacks
):
    releases = _hook(project, EventType.RELEASE_MADE)
    CircuitFactory(project=project, pk=7, name="#7")

    with django_capture_on_commit_callbacks(execute=True):
        comment_post(
            project=project, target_type="circuit", target_id="7", body="@rev look", actor=ada
        )

    assert WebhookDelivery.objects.filter(webhook=releases).count() == 0
    assert sent == []


def test_a_comment_mention_is_sent_with_who_was_mentioned(
    project, ada, rev, sent, django_capture_on_commit_callbacks
):
    hook = _hook(project, EventType.COMMENT_MENTION)
    CircuitFactory(project=project, pk=7, name="#7")

    with django_capture_on_commit_callbacks(execute=True):
        comment = comment_post(
            project=project, target_type="circuit", target_id="7", body="@rev look", actor=ada
        )

    ((event_type, body),) = _payloads(hook)
    assert event_type == "comment.mention"
    assert body["data"] == {
        "mentioned": ["rev"],
        "by": "ada",
        "target": {
            "type": "comment",
            "id": comment.pk,
            "url": f"http://127.0.0.1:8000/p/curves/comments/{comment.pk}/",
        },
        "text": "ada mentioned you on circuit #7",
    }


def test_an_inactive_hook_gets_no_delivery(project, layer, ada, sent):
    WebhookFactory(project=project, event_types=[EventType.HYPOTHESIS_OPENED], active=False)

    _open(project, layer, ada)

    assert WebhookDelivery.objects.count() == 0


def test_another_projects_hook_gets_no_delivery(project, layer, ada, sent):
    _hook(ProjectFactory(), EventType.HYPOTHESIS_OPENED)

    _open(project, layer, ada)

    assert WebhookDelivery.objects.count() == 0


def test_a_rejection_is_sent_as_a_review_and_a_decision(
    project, layer, ada, rev, sent, django_capture_on_commit_callbacks
):
    hook = _hook(project, EventType.HYPOTHESIS_REVIEWED, EventType.HYPOTHESIS_DECIDED)
    hypothesis = _open(project, layer, ada)

    with django_capture_on_commit_callbacks(execute=True):
        review = review_submit(
            hypothesis=hypothesis, expected_version=1, verdict="reject", comment="No.", actor=rev
        )

    (reviewed, decided) = _payloads(hook)
    assert (reviewed[0], decided[0]) == ("hypothesis.reviewed", "hypothesis.decided")
    assert reviewed[1]["data"]["review"] == {
        "id": review.pk,
        "reviewer": "rev",
        "verdict": "reject",
        "version": 1,
        "comment": "No.",
    }
    assert (
        decided[1]["data"]["decision"],
        decided[1]["data"]["decided_by"],
        decided[1]["data"]["hypothesis"]["status"],
    ) == ("rejected", "rev", "rejected")
    assert len(sent) == 2


def test_a_request_for_changes_is_a_review_but_no_decision(project, layer, ada, rev, sent):
    hook = _hook(project, EventType.HYPOTHESIS_REVIEWED, EventType.HYPOTHESIS_DECIDED)
    hypothesis = _open(project, layer, ada)

    review_submit(hypothesis=hypothesis, expected_version=1, verdict="request_changes", actor=rev)

    assert [event_type for event_type, _ in _payloads(hook)] == ["hypothesis.reviewed"]


def test_a_release_is_sent(project, owner, sent, django_capture_on_commit_callbacks):
    hook = _hook(project, EventType.RELEASE_MADE)

    with django_capture_on_commit_callbacks(execute=True):
        release_create(project=project, actor=owner, name="v1", notes="First.")

    ((event_type, body),) = _payloads(hook)
    assert event_type == "release.made"
    assert body["data"] == {
        "release": {
            "name": "v1",
            "notes": "First.",
            "created_by": "lead",
            "groups": 0,
            "units": 0,
            "api_url": "http://127.0.0.1:8000/api/v1/projects/curves/releases/v1/",
        }
    }


def test_a_finished_job_is_sent_to_the_projects_studying_its_network(
    project, layer, sent, django_capture_on_commit_callbacks
):
    hook = _hook(project, EventType.JOB_FINISHED, EventType.JOB_FAILED)
    elsewhere = _hook(ProjectFactory(), EventType.JOB_FINISHED)
    job = JobFactory(layer=layer, status=Job.Status.RUNNING, worker="w1")

    with django_capture_on_commit_callbacks(execute=True):
        job_succeed(job=job, worker="w1", timings={})

    ((event_type, body),) = _payloads(hook)
    assert event_type == "job.finished"
    assert body["data"]["job"] == {
        "id": job.pk,
        "kind": "first_layer_weights",
        "status": "succeeded",
        "network": "inceptionv1",
        "layer": "mixed3b",
        "units": None,
        "error_code": "",
        "error": "",
        "finished_at": Job.objects.get(pk=job.pk).finished_at.isoformat(),
        "api_url": f"http://127.0.0.1:8000/api/v1/jobs/{job.pk}/",
    }
    assert WebhookDelivery.objects.filter(webhook=elsewhere).count() == 0
    assert sent == [WebhookDelivery.objects.get(webhook=hook).pk]


def test_a_failed_job_is_sent_as_job_failed(
    project, layer, sent, django_capture_on_commit_callbacks
):
    hook = _hook(project, EventType.JOB_FINISHED, EventType.JOB_FAILED)
    job = JobFactory(layer=layer, status=Job.Status.RUNNING, worker="w1")

    with django_capture_on_commit_callbacks(execute=True):
        job_fail(job=job, worker="w1", error="out of memory", code="oom")

    ((event_type, body),) = _payloads(hook)
    assert event_type == "job.failed"
    assert (body["data"]["job"]["error_code"], body["data"]["job"]["error"]) == (
        "oom",
        "out of memory",
    )


def test_a_job_that_is_not_ours_to_finish_sends_nothing(
    project, layer, sent, django_capture_on_commit_callbacks
):
    _hook(project, EventType.JOB_FINISHED)
    job = JobFactory(layer=layer, status=Job.Status.RUNNING, worker="w1")

    with django_capture_on_commit_callbacks(execute=True):
        job_succeed(job=job, worker="someone-else", timings={})

    assert WebhookDelivery.objects.count() == 0


def test_the_data_of_an_event_no_hook_wants_is_never_made(project, sent):
    _hook(project, EventType.RELEASE_MADE)
    made = []

    deliveries = webhooks_emit(
        project=project,
        event_type=EventType.HYPOTHESIS_OPENED,
        data=lambda: made.append("made") or {},
    )

    assert (deliveries, made) == ([], [])


def test_a_job_the_sweep_gives_up_on_is_sent_as_job_failed(
    project, layer, sent, django_capture_on_commit_callbacks
):
    hook = _hook(project, EventType.JOB_FAILED)
    job = JobFactory(
        layer=layer,
        status=Job.Status.RUNNING,
        worker="w1",
        attempts=3,
        max_attempts=3,
        lease_expires_at=timezone.now() - timedelta(minutes=1),
    )

    with django_capture_on_commit_callbacks(execute=True):
        jobs_sweep()

    ((event_type, body),) = _payloads(hook)
    assert (event_type, body["data"]["job"]["id"], body["data"]["job"]["error_code"]) == (
        "job.failed",
        job.pk,
        "attempts_exhausted",
    )
