"""The Celery application. Workers: `celery -A harvester worker`; schedule: `celery -A harvester beat`."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "harvester.settings")

app = Celery("harvester")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
