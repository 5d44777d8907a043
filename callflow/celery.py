"""The Celery app: `celery -A callflow worker`.

Configuration lives in Django settings under the CELERY_ namespace. The embedded broker
(`filesystem://`) is callflow.broker's transport, which never hands a reader a message
file that is still being written. Beat and the worker record a heartbeat around the outbox
sweep (ivr_runtime.health), which the designer and the admin show.
"""

import logging
import os

from celery import Celery, signals
from kombu.transport import TRANSPORT_ALIASES

log = logging.getLogger(__name__)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "callflow.settings")

TRANSPORT_ALIASES["filesystem"] = "callflow.broker:Transport"

#: the task whose scheduling (beat) and running (a worker) are the heartbeats
SWEEP = "ivr_runtime.sweep_outbox"

app = Celery("callflow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.before_task_publish.connect
def _beat_heartbeat(sender=None, **_kwargs) -> None:
    # Only beat schedules the sweep; recorded before publishing, so a beat that cannot reach
    # the broker still shows as alive (the worker's heartbeat tells the rest).
    if sender == SWEEP:
        _heartbeat("beat")


@signals.task_postrun.connect
def _worker_heartbeat(sender=None, **_kwargs) -> None:
    if getattr(sender, "name", None) == SWEEP:
        _heartbeat("worker")


def _heartbeat(kind: str) -> None:
    from django.db import DatabaseError

    from ivr_runtime.health import heartbeat_record

    try:
        heartbeat_record(kind)
    except DatabaseError:  # a database outage must not stop the sweep (it says so itself)
        log.warning("could not record the %s heartbeat", kind, exc_info=True)
