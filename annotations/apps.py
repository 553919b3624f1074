from django.apps import AppConfig


class AnnotationsConfig(AppConfig):
    name = "annotations"
    verbose_name = "Projects and annotations"

    def ready(self):
        # Jobs live in workers, which never imports this app: it announces a finished job
        # with a signal, and the project's webhooks hear of it here.
        from workers.signals import job_finished

        job_finished.connect(_job_finished, dispatch_uid="annotations.webhooks.job_finished")


def _job_finished(sender, *, job_id, status, **kwargs):
    from annotations.services.webhooks import webhooks_emit_job

    webhooks_emit_job(job_id=job_id, status=status)
