"""Browser tests of the designer: Debian's Chromium through Playwright's sync API, against
the real Django server (pytest-django's live_server), the real database and the real API.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission, User

from flows.models import Flow
from flows.roles import EDITOR, PUBLISHER, VIEWER, sync_roles
from flows.services import flow_create

from .history_support import history  # noqa: F401  (the call history's calls, a fixture)

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between browser steps are still synchronous and safe.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BUILD_DIR = Path(settings.BASE_DIR) / "designer_ui" / "static" / "designer_ui" / "build"
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
HERE = Path(__file__).parent


@pytest.fixture(scope="session")
def built_assets() -> Path:
    for name in ("editor.js", "editor.css", "flowlist.js"):
        if not (BUILD_DIR / name).is_file():
            pytest.fail(
                f"The designer's assets are not built ({BUILD_DIR / name} is missing): "
                "run `make setup` (npm ci && npm run build in designer_ui/frontend/) first."
            )
    return BUILD_DIR


@pytest.fixture(scope="session")
def browser(built_assets):
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def roles(transactional_db) -> dict[str, Group]:
    """The role groups. A transactional test flushes the ones the migration made."""
    return sync_roles(Group, Permission)


def make_user(roles: dict[str, Group], username: str, role: str) -> User:
    user = User.objects.create_user(username=username, password=f"pw-{username}")
    user.groups.add(roles[role])
    return user


@pytest.fixture
def publisher_user(roles) -> User:
    return make_user(roles, "pia", PUBLISHER)


@pytest.fixture
def editor_user(roles) -> User:
    return make_user(roles, "eddie", EDITOR)


@pytest.fixture
def viewer_user(roles) -> User:
    return make_user(roles, "vera", VIEWER)


def load_definition(name: str = "flow_small.json") -> dict:
    return json.loads((HERE / name).read_text())


@pytest.fixture
def small_flow(publisher_user) -> Flow:
    return flow_create(definition=load_definition(), user=publisher_user)


class Console:
    """Console errors and uncaught exceptions of a page; a test ends with none unexpected."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.allowed: list[re.Pattern[str]] = []

    def attach(self, page) -> None:
        page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))

    def allow_status(self, status: int) -> None:
        """The browser logs an expected refusal (a 409, a 400) as a failed resource."""
        self.allowed.append(re.compile(rf"status of {status}\b"))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


class Session:
    """A signed-in browser context for one user."""

    def __init__(self, browser, base_url: str, test_name: str) -> None:
        self.context = browser.new_context(
            viewport={"width": 1440, "height": 900}, base_url=base_url
        )
        self.context.set_default_timeout(10_000)
        self.console = Console()
        self.page = self.context.new_page()
        self.console.attach(self.page)
        self.test_name = test_name
        self.shots = 0

    def login(self, username: str, next_url: str = "/designer/") -> None:
        page = self.page
        page.goto(f"/accounts/login/?next={next_url}")
        page.fill("#id_username", username)
        page.fill("#id_password", f"pw-{username}")
        page.click("#login-form input[type=submit]")
        page.wait_for_url(f"**{next_url}")

    def open_flow(self, slug: str) -> None:
        self.page.goto(f"/designer/flows/{slug}/")
        self.page.wait_for_selector(".cf-editor[data-ready]")

    def shot(self, label: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        self.shots += 1
        path = ARTIFACTS / f"{self.test_name}-{self.shots:02d}-{label}.png"
        self.page.screenshot(path=str(path))
        return path


@pytest.fixture
def sessions(browser, live_server, request) -> Iterator:
    """sessions() -> a new signed-out browser context; each must end without console errors."""
    made: list[Session] = []

    def new() -> Session:
        session = Session(browser, live_server.url, request.node.name)
        made.append(session)
        return session

    yield new
    for session in made:
        session.context.close()
    failed = request.node.stash.get(_FAILED, False)
    problems = [e for s in made for e in s.console.unexpected()]
    if problems and not failed:
        pytest.fail("console errors in the browser:\n" + "\n".join(problems))


_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed:
        item.stash[_FAILED] = True
    return report
