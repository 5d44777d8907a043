"""Fixtures shared by the whole suite: users in each role and API clients for them."""

import pytest
from django.contrib.auth.models import Group, Permission, User
from rest_framework.test import APIClient

from flows.roles import EDITOR, PUBLISHER, VIEWER, sync_roles


def _user(username: str, role: str | None, **extra) -> User:
    user = User.objects.create_user(username=username, password="pw-" + username, **extra)
    if role:
        # sync_roles: a transactional test elsewhere may have flushed the migration's groups
        user.groups.add(sync_roles(Group, Permission)[role])
    return user


@pytest.fixture
def viewer(db) -> User:
    return _user("vera", VIEWER)


@pytest.fixture
def editor(db) -> User:
    return _user("eddie", EDITOR)


@pytest.fixture
def publisher(db) -> User:
    return _user("pia", PUBLISHER)


def _client(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def anon_api() -> APIClient:
    return _client(None)


@pytest.fixture
def viewer_api(viewer) -> APIClient:
    return _client(viewer)


@pytest.fixture
def editor_api(editor) -> APIClient:
    return _client(editor)


@pytest.fixture
def publisher_api(publisher) -> APIClient:
    return _client(publisher)
