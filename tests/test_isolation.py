"""The suite's own isolation (tests/worker.py): the migrations' rows are put back under
their own keys whatever a transactional test left, a worker that does not start in time is
not left running on the test database, and the Celery app is put back as it was."""

from __future__ import annotations

import os

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection

from tests.worker import (  # noqa: F401 (fixture)
    CeleryProcess,
    assert_isolated,
    celery_conf,
    celery_conf_restore,
    database_restored_after,
    restore_migration_data,
    use_broker,
)


def keys(model) -> dict:
    return {tuple(row[1:]): row[0] for row in model.objects.values_list("pk", *NATURAL[model])}


NATURAL = {
    ContentType: ("app_label", "model"),
    Permission: ("content_type__app_label", "codename"),
}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("database_restored_after")
def test_the_migration_data_is_put_back_over_what_post_migrate_wrote_again():
    restore_migration_data()  # the rows as the migrations made them (saved at set-up)
    migrated = {model: keys(model) for model in NATURAL}
    # What a transactional test without serialized rollback leaves: flushed, then the
    # post_migrate signal writes content types and permissions again, under new keys.
    call_command("flush", verbosity=0, interactive=False, reset_sequences=False)
    assert keys(ContentType).keys() == migrated[ContentType].keys()
    assert keys(ContentType) != migrated[ContentType]
    assert not Group.objects.exists()
    restore_migration_data()
    # the same rows (content types are made again on load, so their keys may differ)
    assert {model: keys(model).keys() for model in NATURAL} == {
        model: found.keys() for model, found in migrated.items()
    }
    # and serialized rollback loads the same rows over them without a conflict
    connection.creation.deserialize_db_from_string(connection._test_serialized_contents)


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
