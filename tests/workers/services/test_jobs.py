from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from annotations.models import Role
from server.errors import InvalidTransition, PermissionDenied, ValidationFailed
from tests.factories.annotations import MembershipFactory, ProjectNetworkFactory, UserFactory
from tests.factories.workers import JobFactory, LayerFactory
from workers import tasks
from workers.models import Job
from workers.services import jobs as job_services
from workers.services.jobs import (
    JobCancelled,
    JobLost,
    ProgressReporter,
    job_cancel,
    job_claim,
    job_leases_renew,
    job_request,
    jobs_sweep,
)

pytestmark = pytest.mark.django_db

Status = Job.Status


@pytest.fixture
def sent(monkeypatch):
    """Job ids handed to the broker (after commit), instead of a real broker."""
    ids = []
    monkeypatch.setattr(job_services, "_enqueue_after_commit", ids.append)
    return ids


@pytest.fixture
def first_layer():
    return LayerFactory(name="features.0", order=0, channels=4)


@pytest.fixture
def annotator(first_layer):
    user = UserFactory()
    link = ProjectNetworkFactory(network=first_layer.network)
    MembershipFactory(project=link.project, user=user, role=Role.ANNOTATOR)
    return user


def test_job_request_creates_and_enqueues_a_job(first_layer, annotator, sent):
    job, created = job_request(
        network=first_layer.network,
        kind="first_layer_weights",
        layer_name="features.0",
        actor=annotator,
    )

    assert created is True
    assert job.status == Status.QUEUED
    assert job.params == {"pixels_per_weight": 8, "normalize": "unit"}
    assert job.created_by == annotator
    assert sent == [job.pk]


def test_identical_request_returns_the_same_job_without_enqueueing(first_layer, annotator, sent):
    first, _ = job_request(
        network=first_layer.network,
        kind="first_layer_weights",
        layer_name="features.0",
        params={"normalize": "unit"},
        actor=annotator,
    )
    again, created = job_request(
        network=first_layer.network,
        kind="first_layer_weights",
        layer_name="features.0",
        params={"pixels_per_weight": 8},
        actor=annotator,
    )

    assert created is False
    assert again.pk == first.pk
    assert sent == [first.pk]
    assert Job.objects.count() == 1


def test_request_after_a_failed_job_creates_a_new_one(first_layer, annotator, sent):
    failed, _ = job_request(
        network=first_layer.network,
        kind="first_layer_weights",
        layer_name="features.0",
        actor=annotator,
    )
    Job.objects.filter(pk=failed.pk).update(status=Status.FAILED)

    job, created = job_request(
        network=first_layer.network,
        kind="first_layer_weights",
        layer_name="features.0",
        actor=annotator,
    )

    assert created is True
    assert job.pk != failed.pk


def test_different_units_are_different_jobs(first_layer, annotator, sent):
    whole, _ = job_request(
        network=first_layer.network,
        kind="first_layer_weights",
        layer_name="features.0",
        actor=annotator,
    )
    some, created = job_request(
        network=first_layer.network,
        kind="first_layer_weights",
        layer_name="features.0",
        unit_indices=[2, 1, 2],
        actor=annotator,
    )

    assert created is True
    assert some.unit_indices == [1, 2]
    assert some.pk != whole.pk


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "dream"}, "kind"),
        ({"layer_name": "features.99"}, "layer"),
        ({"unit_indices": [4]}, "units"),
        ({"unit_indices": []}, "units"),
        ({"params": {"pixels_per_weight": 0}}, "params.pixels_per_weight"),
        ({"params": {"pixels_per_weight": True}}, "params.pixels_per_weight"),
        ({"params": {"normalize": "global"}}, "params.normalize"),
        ({"params": {"colour": "red"}}, "params.colour"),
    ],
)
def test_bad_requests_are_refused_with_the_field_and_create_nothing(
    first_layer, annotator, sent, changes, field
):
    request = {
        "network": first_layer.network,
        "kind": "first_layer_weights",
        "layer_name": "features.0",
        "actor": annotator,
        **changes,
    }

    with pytest.raises(ValidationFailed) as error:
        job_request(**request)

    assert list(error.value.fields) == [field]
    assert Job.objects.count() == 0
    assert sent == []


def test_first_layer_weights_refuses_a_deeper_layer(first_layer, annotator, sent):
    LayerFactory(network=first_layer.network, name="features.1", order=1)

    with pytest.raises(ValidationFailed) as error:
        job_request(
            network=first_layer.network,
            kind="first_layer_weights",
            layer_name="features.1",
            actor=annotator,
        )

    assert error.value.code == "unsupported_layer"
    assert Job.objects.count() == 0


def test_a_viewer_cannot_request_a_job(first_layer, sent):
    viewer = UserFactory()
    link = ProjectNetworkFactory(network=first_layer.network)
    MembershipFactory(project=link.project, user=viewer, role=Role.VIEWER)

    with pytest.raises(PermissionDenied):
        job_request(
            network=first_layer.network,
            kind="first_layer_weights",
            layer_name="features.0",
            actor=viewer,
        )

    assert Job.objects.count() == 0


def test_claim_marks_the_job_running_with_a_lease_and_an_attempt():
    job = JobFactory()

    claimed = job_claim(job_id=job.pk, worker="host:1", device="cpu")

    assert claimed.status == Status.RUNNING
    assert claimed.attempts == 1
    assert claimed.worker == "host:1"
    assert claimed.device == "cpu"
    assert claimed.lease_expires_at > timezone.now()


def test_a_second_claim_of_the_same_job_gets_nothing():
    job = JobFactory()
    job_claim(job_id=job.pk, worker="host:1", device="cpu")

    assert job_claim(job_id=job.pk, worker="host:2", device="cpu") is None
    job.refresh_from_db()
    assert job.worker == "host:1"
    assert job.attempts == 1


def test_claim_fails_a_job_that_used_up_its_attempts():
    job = JobFactory(attempts=3, max_attempts=3)

    assert job_claim(job_id=job.pk, worker="host:1", device="cpu") is None
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert job.error_code == "attempts_exhausted"
    assert job.attempts == 3


def test_a_claim_cut_off_before_reading_the_job_back_leaves_it_queued(monkeypatch):
    job = JobFactory()

    def dropped(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    with monkeypatch.context() as outage:
        outage.setattr(Job.objects, "select_related", dropped)
        with pytest.raises(OperationalError):
            job_claim(job_id=job.pk, worker="host:1", device="cpu")

    job.refresh_from_db()
    assert (job.status, job.attempts, job.worker) == (Status.QUEUED, 0, "")


def test_cancel_of_a_queued_job_is_immediate():
    job = JobFactory()

    cancelled = job_cancel(job=job, actor=None)

    assert cancelled.status == Status.CANCELLED
    assert job_claim(job_id=job.pk, worker="host:1", device="cpu") is None


def test_cancel_of_a_running_job_stops_it_at_the_next_report():
    job = job_claim(job_id=JobFactory().pk, worker="host:1", device="cpu")
    report = ProgressReporter(job, "host:1", min_interval=0)

    job_cancel(job=job, actor=None)

    with pytest.raises(JobCancelled):
        report(1, 4, "unit 1")


def test_cancel_of_a_finished_job_is_an_invalid_transition():
    job = JobFactory(status=Status.SUCCEEDED)

    with pytest.raises(InvalidTransition):
        job_cancel(job=job, actor=None)

    job.refresh_from_db()
    assert job.cancel_requested is False


def test_progress_reports_are_throttled():
    job = job_claim(job_id=JobFactory().pk, worker="host:1", device="cpu")
    report = ProgressReporter(job, "host:1", min_interval=60)

    report(1, 4, "unit 1")
    report(3, 4, "unit 3")

    job.refresh_from_db()
    assert job.progress == 0.25
    assert job.progress_message == "unit 1"


def test_a_worker_whose_job_was_taken_away_is_told_so():
    job = job_claim(job_id=JobFactory().pk, worker="host:1", device="cpu")
    Job.objects.filter(pk=job.pk).update(status=Status.QUEUED, worker="")

    with pytest.raises(JobLost):
        ProgressReporter(job, "host:1", min_interval=0)(1, 4)


def test_heartbeat_renews_only_this_workers_leases():
    mine = job_claim(job_id=JobFactory().pk, worker="host:1", device="cpu")
    theirs = job_claim(job_id=JobFactory().pk, worker="host:2", device="cpu")
    soon = timezone.now() + timedelta(seconds=1)
    Job.objects.update(lease_expires_at=soon)

    assert job_leases_renew(worker="host:1", job_ids=[mine.pk, theirs.pk]) == 1

    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.lease_expires_at > soon
    assert theirs.lease_expires_at == soon


def test_heartbeat_leaves_a_job_its_worker_no_longer_runs_to_expire():
    running = job_claim(job_id=JobFactory().pk, worker="host:1", device="cpu")
    abandoned = job_claim(job_id=JobFactory().pk, worker="host:1", device="cpu")
    soon = timezone.now() + timedelta(seconds=1)
    Job.objects.update(lease_expires_at=soon)

    assert job_leases_renew(worker="host:1", job_ids=[running.pk]) == 1

    abandoned.refresh_from_db()
    assert abandoned.lease_expires_at == soon


def test_sweep_requeues_a_job_whose_lease_expired(sent):
    job = job_claim(job_id=JobFactory().pk, worker="host:1", device="cpu")
    Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))

    result = jobs_sweep()

    job.refresh_from_db()
    assert result == {"requeued": [job.pk], "failed": [], "resent": []}
    assert job.status == Status.QUEUED
    assert job.worker == ""
    assert job.attempts == 1
    assert sent == [job.pk]


def test_sweep_leaves_a_job_with_a_live_lease_alone(sent):
    job = job_claim(job_id=JobFactory().pk, worker="host:1", device="cpu")

    assert jobs_sweep() == {"requeued": [], "failed": [], "resent": []}
    job.refresh_from_db()
    assert job.status == Status.RUNNING
    assert sent == []


def test_sweep_fails_a_lost_job_on_its_last_attempt(sent):
    job = JobFactory(attempts=2, max_attempts=3)
    job_claim(job_id=job.pk, worker="host:1", device="cpu")
    Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))

    result = jobs_sweep()

    job.refresh_from_db()
    assert result["failed"] == [job.pk]
    assert job.status == Status.FAILED
    assert job.error_code == "attempts_exhausted"
    assert "attempt 3 of 3" in job.error
    assert sent == []


def test_sweep_resends_a_job_queued_long_ago(settings, sent):
    settings.ATLAS_REQUEUE_QUEUED_AFTER_SECONDS = 60
    stale = JobFactory(enqueued_at=timezone.now() - timedelta(minutes=5))
    JobFactory(enqueued_at=timezone.now())

    result = jobs_sweep()

    assert result == {"requeued": [], "failed": [], "resent": [stale.pk]}
    assert sent == [stale.pk]


class UnreachableBroker:
    """Stands in for the ``run_job`` task while the broker is down: every send fails."""

    def apply_async(self, args, countdown=None):
        raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def test_a_job_the_broker_refuses_is_kept_queued_with_no_enqueue_time(
    first_layer, annotator, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(tasks, "run_job", UnreachableBroker())

    with django_capture_on_commit_callbacks(execute=True):
        job, created = job_request(
            network=first_layer.network,
            kind="first_layer_weights",
            layer_name="features.0",
            actor=annotator,
        )

    job.refresh_from_db()
    assert created is True
    assert (job.status, job.enqueued_at, job.attempts) == (Status.QUEUED, None, 0)


def test_the_sweep_sends_a_job_the_broker_refused_at_once(settings, sent):
    settings.ATLAS_REQUEUE_QUEUED_AFTER_SECONDS = 600
    refused = JobFactory(enqueued_at=None)
    JobFactory(enqueued_at=timezone.now() - timedelta(seconds=30))

    result = jobs_sweep()

    refused.refresh_from_db()
    assert result == {"requeued": [], "failed": [], "resent": [refused.pk]}
    assert sent == [refused.pk]
    assert refused.enqueued_at is not None
