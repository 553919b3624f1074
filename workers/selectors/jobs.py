"""Reading jobs and artifacts through what the user may see."""

from server.errors import NotFound
from workers import access
from workers.models import Artifact, Job


def jobs_for_user(*, user):
    return Job.objects.filter(network__in=access.networks_visible_to(user)).select_related(
        "network", "layer", "created_by"
    )


def job_get_for_user(*, user, job_id):
    """The job if the user may see it; 404 for missing and hidden alike."""
    job = jobs_for_user(user=user).filter(pk=job_id).first()
    if job is None or not access.can(user, "job.view", job):
        raise NotFound(f"No job {job_id}.")
    return job


def jobs_cancellable_by(*, user, jobs):
    """The ids of those of ``jobs`` (queued or running) that ``user`` may cancel.

    The policy answers for a job from its network and its author (workers/access.py), so it
    is asked once per network and authorship, not once per job: a list stays at a constant
    number of queries.
    """
    answers = {}
    cancellable = set()
    for job in jobs:
        if job.status not in Job.ACTIVE_STATUSES:
            continue
        key = (job.network_id, job.created_by_id == user.pk)
        if key not in answers:
            answers[key] = access.can(user, "job.cancel", job)
        if answers[key]:
            cancellable.add(job.pk)
    return cancellable


def artifacts_of(*, job):
    return (
        Artifact.objects.filter(job=job)
        .select_related("unit", "layer")
        .order_by("kind", "unit__index")
    )


def artifact_get_for_user(*, user, artifact_id):
    artifact = (
        Artifact.objects.filter(pk=artifact_id, network__in=access.networks_visible_to(user))
        .select_related("network", "layer", "unit")
        .first()
    )
    if artifact is None:
        raise NotFound(f"No artifact {artifact_id}.")
    return artifact
