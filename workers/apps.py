from django.apps import AppConfig


class WorkersConfig(AppConfig):
    name = "workers"
    verbose_name = "Networks, jobs and artifacts"

    def ready(self):
        from workers import worker_process  # noqa: F401  (connects the Celery signal handlers)
