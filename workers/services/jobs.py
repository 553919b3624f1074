"""The life of a job: request, enqueue, claim, progress, cancel, finish, and the lease sweep.

The database is the source of truth. Every state change is one conditional ``UPDATE`` so that
two workers, a duplicate broker delivery, or a sweep racing a worker can never both win.
"""

import hashlib
import json
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from server.errors import (
    Conflict,
    InvalidTransition,
    PermissionDenied,
    UnknownReference,
    ValidationFailed,
)
from workers import access
from workers.jobkinds import JOB_KINDS, REQUESTABLE_KINDS
from workers.models import Job
from workers.signals import job_finished_after_commit

logger = logging.getLogger(__name__)

Status = Job.Status


def _canonical_hash(payload):
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _enqueue_after_commit(job_id, *, countdown=None):
    transaction.on_commit(lambda: _enqueue(job_id, countdown))


def _enqueue(job_id, countdown):
    """Hand the job to the broker. When the broker cannot take it, the job stays queued with
    no ``enqueued_at`` and the next sweep sends it: the request that made it still succeeds."""
    from workers.tasks import run_job

    try:
        run_job.apply_async(args=[job_id], countdown=countdown)
    except Exception as error:  # kombu, redis and socket errors alike: the row is the job
        logger.warning("job %s: the broker refused it (%r); the sweep will send it", job_id, error)
        Job.objects.filter(pk=job_id, status=Status.QUEUED).update(enqueued_at=None)


def job_request(*, network, kind, layer_name, unit_indices=None, params=None, actor, enqueue=True):
    """Return the job for this request, creating and enqueueing it unless an identical one
    is queued, running or finished successfully. Returns ``(job, created)``.

    ``enqueue=False`` leaves a new job queued for the caller to run in-process (``render``).
    ``layer_name=None``: one job over several layers (a kind that ``covers_layers``).
    """
    if actor is not None and not access.can(actor, "job.create", network):
        raise PermissionDenied("You may not create jobs for this network.")
    job_kind = JOB_KINDS.get(kind)
    if job_kind is None or not job_kind.requestable:
        known = ", ".join(REQUESTABLE_KINDS)
        raise ValidationFailed(
            f"Unknown job kind {kind!r}.", fields={"kind": [f"One of: {known}."]}
        )
    if network.status != network.Status.READY:
        raise Conflict(
            f"Network {network.name} is {network.status}: it has no layers to render yet.",
            code="network_not_ready",
            fields={"network": [f"The network is {network.status}, not ready."]},
        )
    if layer_name is None and not job_kind.covers_layers:
        raise ValidationFailed(
            f"A {kind} job needs a layer.", fields={"layer": ["Name one of the network's layers."]}
        )
    if layer_name is None and unit_indices is not None:
        raise ValidationFailed(
            "Units are chosen within one layer: name the layer, or leave the units out.",
            fields={"units": ["Only with a layer."]},
        )
    layer = None if layer_name is None else network.layers.filter(name=layer_name).first()
    if layer is None and layer_name is not None:
        raise UnknownReference(
            f"Network {network.name} has no layer {layer_name!r}.",
            code="unknown_layer",
            fields={"layer": [f"No layer {layer_name!r} in {network.name}."]},
        )
    units = None if layer is None else _validate_units(layer, unit_indices)
    clean_params = job_kind.clean_params(params or {}, network=network, layer=layer, actor=actor)
    params_hash = _canonical_hash(clean_params)
    request_hash = _canonical_hash(
        {
            "kind": kind,
            "network": network.pk,
            "layer": None if layer is None else layer.name,
            "units": units,
            "params": params_hash,
        }
    )
    existing = Job.objects.filter(request_hash=request_hash, status__in=Job.REUSABLE_STATUSES)
    job = existing.first()
    if job is not None:
        return job, False
    try:
        with transaction.atomic():
            job = Job.objects.create(
                kind=kind,
                network=network,
                layer=layer,
                unit_indices=units,
                params=clean_params,
                params_hash=params_hash,
                request_hash=request_hash,
                max_attempts=settings.ATLAS_JOB_MAX_ATTEMPTS,
                created_by=actor,
                enqueued_at=timezone.now(),
            )
    except IntegrityError:
        # Someone created the identical job between our read and our insert.
        return existing.get(), False
    if enqueue:
        _enqueue_after_commit(job.pk)
    return job, True


def job_request_inspection(*, network, actor):
    """Queue the inspect_network job of a network being registered (after commit)."""
    job = Job.objects.create(
        kind=Job.Kind.INSPECT_NETWORK,
        network=network,
        layer=None,
        params={},
        params_hash=_canonical_hash({}),
        request_hash=_canonical_hash({"kind": Job.Kind.INSPECT_NETWORK, "network": network.pk}),
        max_attempts=settings.ATLAS_JOB_MAX_ATTEMPTS,
        created_by=actor,
        enqueued_at=timezone.now(),
    )
    _enqueue_after_commit(job.pk)
    return job


def _validate_units(layer, unit_indices):
    if unit_indices is None:
        return None
    units = sorted(set(unit_indices))
    out_of_range = [index for index in units if not 0 <= index < layer.channels]
    if not units or out_of_range:
        shown = ", ".join(str(index) for index in out_of_range[:10])
        # Units a layer does not have are references to nothing (422); none at all is a 400.
        error = UnknownReference if units else ValidationFailed
        raise error(
            f"Layer {layer.name} has units 0-{layer.channels - 1}.",
            code="unknown_unit",
            fields={"units": [f"Not units of {layer.name}: {shown}." if units else "Empty."]},
        )
    return units


def job_claim(*, job_id, worker, device):
    """Take a queued job for ``worker``; None if it is not (or no longer) ours to run.

    A job whose attempts are used up is failed here instead of being run again.
    """
    now = timezone.now()
    lease = now + timedelta(seconds=settings.ATLAS_JOB_LEASE_SECONDS)
    claimable = Job.objects.filter(pk=job_id, status=Status.QUEUED, cancel_requested=False)
    exhausted = claimable.filter(attempts__gte=F("max_attempts")).update(
        status=Status.FAILED,
        error_code="attempts_exhausted",
        error="The job was started the maximum number of times without finishing; its "
        "worker was lost each time (crash, kill or lost lease).",
        finished_at=now,
        lease_expires_at=None,
    )
    if exhausted:
        logger.warning("job %s failed: attempts exhausted", job_id)
        job_finished_after_commit(job_id=job_id, status=Status.FAILED)
        return None
    Job.objects.filter(pk=job_id, status=Status.QUEUED, cancel_requested=True).update(
        status=Status.CANCELLED, finished_at=now
    )
    # One transaction: a connection dropped between the claim and reading the job back must
    # leave it queued for the task's retry, not running under a worker that never ran it.
    with transaction.atomic():
        claimed = claimable.filter(attempts__lt=F("max_attempts")).update(
            status=Status.RUNNING,
            attempts=F("attempts") + 1,
            worker=worker,
            device=device,
            lease_expires_at=lease,
            started_at=now,
            finished_at=None,
            progress=0.0,
            progress_message="starting",
            error="",
            error_code="",
        )
        if not claimed:
            return None
        return Job.objects.select_related("network", "layer").get(pk=job_id)


def _running_by(job, worker):
    return Job.objects.filter(pk=job.pk, status=Status.RUNNING, worker=worker)


class JobCancelled(Exception):
    """Raised inside a running job when someone asked to cancel it."""


class JobLost(Exception):
    """Raised inside a running job that no longer belongs to this worker (its lease ran out)."""


class ProgressReporter:
    """Reports a running job's progress at most every few tenths of a second, renews the lease
    and tells the job when it was cancelled or taken away."""

    def __init__(self, job, worker, min_interval=None, on_progress=None):
        self.job = job
        self.worker = worker
        self.on_progress = on_progress
        self.min_interval = (
            settings.ATLAS_PROGRESS_MIN_INTERVAL_SECONDS if min_interval is None else min_interval
        )
        self._last = 0.0

    def __call__(self, done, total, message="", *, force=False):
        if self.on_progress is not None:
            self.on_progress(done, total, message)
        now = time.monotonic()
        if not force and now - self._last < self.min_interval:
            return
        self._last = now
        fraction = 0.0 if total <= 0 else min(1.0, done / total)
        lease = timezone.now() + timedelta(seconds=settings.ATLAS_JOB_LEASE_SECONDS)
        updated = _running_by(self.job, self.worker).update(
            progress=fraction, progress_message=message[:200], lease_expires_at=lease
        )
        if not updated:
            raise JobLost(f"job {self.job.pk} is no longer running on {self.worker}")
        if Job.objects.filter(pk=self.job.pk, cancel_requested=True).exists():
            raise JobCancelled(f"job {self.job.pk} was cancelled")


def job_succeed(*, job, worker, timings):
    now = timezone.now()
    retried = job.transient_retries
    updated = _running_by(job, worker).update(
        status=Status.SUCCEEDED,
        progress=1.0,
        progress_message=f"done, retried {retried}x after transient errors" if retried else "done",
        finished_at=now,
        lease_expires_at=None,
        timings=timings,
    )
    if updated:
        job_finished_after_commit(job_id=job.pk, status=Status.SUCCEEDED)
    return updated


def job_fail(*, job, worker, error, code, timings=None):
    updated = _running_by(job, worker).update(
        status=Status.FAILED,
        error=str(error)[:5000],
        error_code=code[:40],
        finished_at=timezone.now(),
        lease_expires_at=None,
        timings=timings or {},
    )
    if updated:
        job_finished_after_commit(job_id=job.pk, status=Status.FAILED)
    return updated


def job_mark_cancelled(*, job, worker):
    return _running_by(job, worker).update(
        status=Status.CANCELLED, finished_at=timezone.now(), lease_expires_at=None
    )


TRANSIENT_BACKOFF_MAX_SECONDS = 60.0


def job_release(*, job, worker, cause):
    """Give a running job back to the queue after a transient error (``cause`` says which),
    without spending its attempt, to run again after a backoff; fail it instead once its
    transient retries are used up. Returns the job's new status, or None if it was not ours.
    """
    now = timezone.now()
    limit = settings.ATLAS_JOB_MAX_TRANSIENT_RETRIES
    retry = job.transient_retries + 1
    with transaction.atomic():
        released = (
            _running_by(job, worker)
            .filter(transient_retries__lt=limit)
            .update(
                status=Status.QUEUED,
                attempts=F("attempts") - 1,
                transient_retries=F("transient_retries") + 1,
                lease_expires_at=None,
                worker="",
                enqueued_at=now,
                progress_message=f"retried after {cause}"[:200],
            )
        )
        if released:
            backoff = settings.ATLAS_JOB_TRANSIENT_BACKOFF_SECONDS * 2 ** (retry - 1)
            _enqueue_after_commit(job.pk, countdown=min(backoff, TRANSIENT_BACKOFF_MAX_SECONDS))
            return Status.QUEUED
    failed = _running_by(job, worker).update(
        status=Status.FAILED,
        error_code="transient_errors",
        error=f"Gave up after {limit} retries after transient errors; the last: {cause}"[:5000],
        finished_at=now,
        lease_expires_at=None,
    )
    if failed:
        job_finished_after_commit(job_id=job.pk, status=Status.FAILED)
    return Status.FAILED if failed else None


def job_cancel(*, job, actor):
    """Cancel a queued job at once; ask a running one to stop at its next checkpoint."""
    if actor is not None and not access.can(actor, "job.cancel", job):
        raise PermissionDenied("You may not cancel this job.")
    now = timezone.now()
    if Job.objects.filter(pk=job.pk, status=Status.QUEUED).update(
        status=Status.CANCELLED, cancel_requested=True, finished_at=now
    ):
        return Job.objects.get(pk=job.pk)
    if Job.objects.filter(pk=job.pk, status=Status.RUNNING).update(cancel_requested=True):
        return Job.objects.get(pk=job.pk)
    current = Job.objects.get(pk=job.pk)
    raise InvalidTransition(f"The job already {current.status}; there is nothing to cancel.")


def job_leases_renew(*, worker, job_ids):
    """Extend the leases of ``job_ids``, the jobs this worker is running now (its heartbeat)."""
    lease = timezone.now() + timedelta(seconds=settings.ATLAS_JOB_LEASE_SECONDS)
    return Job.objects.filter(pk__in=job_ids, status=Status.RUNNING, worker=worker).update(
        lease_expires_at=lease
    )


def jobs_sweep(*, now=None):
    """Requeue jobs whose worker vanished, fail those out of attempts, resend stale queued jobs.

    Returns ``{"requeued": [...], "failed": [...], "resent": [...]}`` job ids.
    """
    now = now or timezone.now()
    expired = Job.objects.filter(status=Status.RUNNING, lease_expires_at__lt=now)
    result = {"requeued": [], "failed": [], "resent": []}
    for job in expired.only("pk", "attempts", "max_attempts", "worker"):
        guard = Job.objects.filter(pk=job.pk, status=Status.RUNNING, lease_expires_at__lt=now)
        if job.attempts >= job.max_attempts:
            if guard.update(
                status=Status.FAILED,
                error_code="attempts_exhausted",
                error=f"The worker running attempt {job.attempts} of {job.max_attempts} was "
                f"lost ({job.worker or 'unknown worker'} stopped renewing its lease); giving up.",
                finished_at=now,
                lease_expires_at=None,
            ):
                result["failed"].append(job.pk)
                job_finished_after_commit(job_id=job.pk, status=Status.FAILED)
            continue
        if guard.filter(cancel_requested=True).update(
            status=Status.CANCELLED, finished_at=now, lease_expires_at=None
        ):
            continue
        with transaction.atomic():
            if guard.update(
                status=Status.QUEUED,
                lease_expires_at=None,
                worker="",
                enqueued_at=now,
                progress_message="requeued after a lost worker",
            ):
                result["requeued"].append(job.pk)
                _enqueue_after_commit(job.pk)
    stale_before = now - timedelta(seconds=settings.ATLAS_REQUEUE_QUEUED_AFTER_SECONDS)
    stale = Job.objects.filter(status=Status.QUEUED).filter(
        Q(enqueued_at__lt=stale_before) | Q(enqueued_at__isnull=True)
    )
    for job_id in stale.values_list("pk", flat=True):
        with transaction.atomic():
            if Job.objects.filter(pk=job_id, status=Status.QUEUED).update(enqueued_at=now):
                result["resent"].append(job_id)
                _enqueue_after_commit(job_id)
    if any(result.values()):
        logger.warning("job sweep: %s", result)
    return result
