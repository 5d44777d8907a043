"""The suite's own isolation (tests/worker.py): a worker that does not start in time is not
left running on the test database, and the Celery app is put back as it was."""

from __future__ import annotations

import os

import pytest

from tests.worker import (  # noqa: F401 (fixture)
    CeleryProcess,
    assert_isolated,
    celery_conf,
    celery_conf_restore,
    database_restored_after,
    restore_migration_data,
    use_broker,
)


def test_a_worker_that_does_not_start_in_time_is_not_left_running(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "callflow.settings",
        "CALLFLOW_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
    }
    worker = CeleryProcess("worker", env, tmp_path)
    with pytest.raises(AssertionError, match="timed out .* waiting for the worker to start"):
        worker.start(ready_timeout=0.2)  # it takes longer than that to import Celery
    assert worker.process.poll() is not None
    assert worker not in CeleryProcess.running()


def test_the_celery_app_is_put_back_as_it_was():
    from callflow.celery import app

    assert_isolated()
    saved = celery_conf()
    app.conf.broker_transport_options = {"global_keyprefix": "elsewhere:"}
    use_broker("redis://127.0.0.1:1/14")
    with pytest.raises(AssertionError, match="broker_url 'redis://127.0.0.1:1/14'"):
        assert_isolated()
    celery_conf_restore(saved)
    assert celery_conf() == saved
    assert_isolated()
