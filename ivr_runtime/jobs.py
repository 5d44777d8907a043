"""Handing work to the workers: the one place services give Celery a job.

Tasks call services, never the reverse (`ivr_runtime.tasks` is imported by no service):
a service names the task it wants run. `job_publish` finds it in the Celery app by that
name (the app registers `ivr_runtime.tasks` when Django starts, `apps.py`), so eager mode
still runs it at once, and sends it without retrying: when the broker cannot be reached it
logs why and returns False, and the row it is about waits for its sweep.
"""

from __future__ import annotations

import logging

from celery import current_app

log = logging.getLogger(__name__)


def job_publish(task: str, *args: int, countdown: float | None = None, what: str) -> bool:
    """Send `task` with `args` (row ids) to the workers; False (logged) when the broker is
    unreachable. `what` names the work in that log line ("SMS 12", "callback 3")."""
    try:
        current_app.tasks[task].apply_async(
            args,
            countdown=countdown,
            retry=False,
            # the arguments' repr given: Celery would otherwise build it with its saferepr
            argsrepr=repr(args),
            kwargsrepr="{}",
        )
    except Exception as exc:  # any broker failure: the sweep hands the work over later
        log.warning("%s waits for the sweep: the broker is unreachable (%s)", what, exc)
        return False
    return True
