"""The Celery app. Its configuration is the CELERY_* block of server/settings.py.

The database, not the broker, is the source of truth for a job (see workers/services/jobs.py):
tasks only carry job ids, acks come late, and a lease sweep requeues jobs of dead workers.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")

app = Celery("neuron_atlas")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["workers", "annotations"])
