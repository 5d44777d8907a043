import importlib

from django.apps import apps
from django.contrib.auth.models import Group

roles_migration = importlib.import_module("flows.migrations.0002_roles")


def test_the_roles_migration_creates_groups_with_growing_permissions(db):
    # A transactional test elsewhere may have flushed what the migration made: run it again.
    Group.objects.all().delete()
    roles_migration.create_roles(apps, None)
    perms = {g.name: {p.codename for p in g.permissions.all()} for g in Group.objects.all()}
    assert perms["viewer"] < perms["editor"] < perms["publisher"]
    assert "publish_flow" in perms["publisher"] and "publish_flow" not in perms["editor"]

    roles_migration.create_roles(apps, None)  # idempotent
    assert Group.objects.count() == 3
