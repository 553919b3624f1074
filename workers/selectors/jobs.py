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
