"""Run a flow's tests: each one a simulated call (ivr_runtime.voice.simulator) through the
real services, inside a transaction rolled back at its end, so that nothing it wrote (the
call, its steps, its texts) is kept and nothing is sent; its HTTP requests are answered by
what the test declares (`outbound_http.answered_by`), and a request it did not declare
fails the test. The clock is the test's `at` for the whole call, but for a "no-answer",
which rings out past any timeout (as in the simulator) and moves the clock on as much.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from flows.models import Flow, FlowVersion
from flows.nodes.patterns import wildcard
from flows.nodes.runtime import HttpRequest, HttpResult
from flows.spec import Problem
from flows.spec.flowtests import parse_at
from ivr_runtime import outbound_http
from ivr_runtime.models import CallSession
from ivr_runtime.voice import simulator

log = logging.getLogger(__name__)

#: a test step's key and the simulator's event it becomes
_EVENTS = {
    "press": lambda v: simulator.SimEvent(type="digits", digits=v),
    "say": lambda v: simulator.SimEvent(type="speech", speech=v),
    "silence": lambda v: simulator.SimEvent(type="silence"),
    "dial": lambda v: simulator.SimEvent(type="dial", status=v),
    "queue": lambda v: simulator.SimEvent(type="queue", result=v),
    "record": lambda v: simulator.SimEvent(type="record", duration=v),
    "redirect": lambda v: simulator.SimEvent(type="redirect", result=v),
    "hangup": lambda v: simulator.SimEvent(type="hangup"),
}


@dataclass
class TestResult:
    name: str
    failures: list[str] = field(default_factory=list)
    path: list[str] = field(default_factory=list)
    #: the path with the exit taken from each node (the designer lights it up)
    steps: list[dict[str, Any]] = field(default_factory=list)
    heard: list[str] = field(default_factory=list)
    sms: list[dict[str, str]] = field(default_factory=list)
    http: list[dict[str, Any]] = field(default_factory=list)
    ends: str = ""
    outcome: str = ""
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.failures

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed, "seconds": round(self.seconds, 3)}


@dataclass
class SuiteResult:
    flow: str
    tests: list[TestResult]

    @property
    def passed(self) -> bool:
        return all(t.passed for t in self.tests)

    @property
    def failed(self) -> int:
        return sum(not t.passed for t in self.tests)

    def as_dict(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "passed": self.passed,
            "total": len(self.tests),
            "failed": self.failed,
            "tests": [t.as_dict() for t in self.tests],
        }


def run_tests(
    flow: Flow,
    tests: list[dict[str, Any]],
    *,
    definition: dict[str, Any] | None = None,
    seconds: float | None = None,
) -> SuiteResult:
    """Run `tests` (checked: flows.spec.flowtests) on the flow's draft, or on `definition`
    (the one about to be published, or a flow file's), or on the version a test names. A
    flow not saved (a flow file's that the database does not hold) is saved inside each
    test's transaction, and rolled back with it. `seconds`: tests not started within it fail
    as not run."""
    deadline = None if seconds is None else time.monotonic() + seconds
    results = []
    for test in tests:
        if deadline is not None and time.monotonic() >= deadline:
            results.append(
                TestResult(
                    name=test["name"],
                    failures=[
                        f"not run: the run's {seconds:g} s (FLOW_TESTS_SECONDS) were used up; "
                        "manage.py test_flows runs them all"
                    ],
                )
            )
        else:
            results.append(run_test(flow, test, definition=definition))
    return SuiteResult(flow.slug, results)


def run_test(
    flow: Flow, test: dict[str, Any], *, definition: dict[str, Any] | None = None
) -> TestResult:
    result = TestResult(name=test["name"])
    started = time.perf_counter()
    unsaved = flow.pk is None  # a flow file's (test_flows): saved for the test, gone with it
    try:
        with transaction.atomic():
            try:
                if unsaved:
                    flow.save()
                _Call(flow, test, result, definition).run()
            except _Refused as exc:
                result.failures.append(str(exc))
            finally:
                transaction.set_rollback(True)
    except Exception as exc:  # a fault of the runtime is the test's failure, not a crash
        log.exception("flow test %r of %s could not run", test["name"], flow.slug)
        result.failures.append(f"the test could not run: {type(exc).__name__}: {exc}")
    finally:
        if unsaved:
            flow.pk = None
    result.seconds = time.perf_counter() - started
    return result


class _Call:
    def __init__(
        self,
        flow: Flow,
        test: dict[str, Any],
        result: TestResult,
        definition: dict[str, Any] | None,
    ):
        self.flow, self.test, self.result = flow, test, result
        self.definition = self._definition(definition)
        self.now = self._clock()
        self.answers = [_HttpAnswer.of(a) for a in test.get("http", [])]
        self.session: str | None = None
        self.answer: dict[str, Any] = {}
        #: what the caller heard since their last step
        self.heard: list[str] = []

    def _definition(self, given: dict[str, Any] | None) -> dict[str, Any]:
        number = self.test.get("version")
        if number is None:
            return given if given is not None else self.flow.definition
        version = FlowVersion.objects.filter(flow=self.flow, number=number).first()
        if version is None:
            raise _Refused(f"flow {self.flow.slug!r} has no version {number}")
        return version.definition

    def _clock(self) -> datetime:
        at = self.test.get("at")
        if not at:
            return timezone.now()
        moment = parse_at(at)
        if moment is None:
            raise _Refused(f"'at' {at!r} is not a date and time")
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(self.definition.get("timezone") or "UTC"))
        return moment

    def run(self) -> None:
        with outbound_http.answered_by(self._http):
            if not self._send(simulator.SimEvent(type="start"), "the call could not start"):
                return
            for number, step in enumerate(self.test.get("steps", []), start=1):
                if not self._step(number, step):
                    break
        self._expect()

    def _outbound(self, event: simulator.SimEvent) -> simulator.SimOutbound | None:
        """An outbound test call, as it starts: the flow calls the test's caller."""
        if event.type != "start" or self.test.get("direction") != "outbound":
            return None
        return simulator.SimOutbound(
            to=self.test.get("caller") or simulator.DEFAULT_CALLER,
            answered_by=self.test.get("answered_by", "human"),
            variables=self.test.get("vars", {}),
        )

    def _send(self, event: simulator.SimEvent, what: str) -> bool:
        outbound = self._outbound(event)
        try:
            answer = simulator.simulate(
                flow=self.flow,
                session_id=self.session,
                source="draft",
                caller=self.test.get("caller"),
                event=event,
                outbound_call=outbound,
                variables=self.test.get("vars") if event.type == "start" and not outbound else None,
                now=self.now,
                definition=self.definition,
            )
        except simulator.SimulationError as exc:
            self.result.failures.append(f"{what}: {exc}")
            return False
        self.session = answer["session"] or self.session
        self.answer = answer
        self.heard = list(answer["prompts"])
        self.result.heard += answer["prompts"]
        self.result.sms += answer["sms"]
        return True

    def _step(self, number: int, step: dict[str, Any]) -> bool:
        ((key, value),) = step.items()
        where = f"step {number} ({key}{'' if value is True else ' ' + repr(value)})"
        if key == "expect_say":
            heard = " / ".join(self.heard) or "nothing"
            if value.casefold() not in " ".join(self.heard).casefold():
                self.result.failures.append(f"{where}: the caller heard {heard!r}")
                return False
            return True
        if self.answer.get("ended") and key != "hangup":
            self.result.failures.append(f"{where}: the call had already ended")
            return False
        event = _EVENTS[key](value)
        sent = self._send(event, where)
        if event.type == "dial" and event.status == "no-answer":
            self.now += simulator.RING_OUT  # it rang out: the clock stays past that
        return sent

    def _http(self, request: HttpRequest) -> HttpResult:
        for answer in self.answers:
            if answer.matches(request):
                result = answer.result()
                break
        else:
            self.result.failures.append(
                f"HTTP {request.method} {request.url}: no answer declared for it in 'http'"
            )
            result = HttpResult(ok=False, status=None, data=None, error="no answer declared")
        self.result.http.append(
            {"method": request.method, "url": request.url, "status": result.status}
        )
        return result

    def _expect(self) -> None:
        answer, expect = self.answer, self.test.get("expect", {})
        self.result.steps = list(answer.get("path", []))
        self.result.path = [step["node"] for step in self.result.steps]
        self.result.ends = "hangup" if answer.get("ended") else "waiting"
        row = CallSession.objects.filter(call_sid=self.session).values("outcome", "state").first()
        self.result.outcome = row["outcome"] if row else ""
        final_vars = dict(row["state"].get("vars", {})) if row else {}
        if "path" in expect and not _in_order(expect["path"], self.result.path):
            self.result.failures.append(
                f"expected the path to pass {' > '.join(expect['path'])} in this order; "
                f"it went {' > '.join(self.result.path) or 'nowhere'}"
            )
        for wanted in expect.get("sms", []):
            if not any(_text_matches(wanted, sent) for sent in self.result.sms):
                sent = "; ".join(f"{m['to']}: {m['body']!r}" for m in self.result.sms)
                self.result.failures.append(
                    f"expected a text{_describe(wanted)}; sent {sent or 'none'}"
                )
        if expect.get("no_sms") and self.result.sms:
            self.result.failures.append(
                f"expected no text; sent {len(self.result.sms)} ({self.result.sms[0]['body']!r})"
            )
        ends = expect.get("ends")
        if ends and ends not in (self.result.ends, self.result.outcome):
            now = "hung up" if self.result.ends == "hangup" else "is still waiting for the caller"
            self.result.failures.append(
                f"expected the call to end {ends!r} ({_ENDINGS.get(ends, ends)}); it {now}, "
                f"with outcome {self.result.outcome!r} "
                f"({_ENDINGS.get(self.result.outcome, self.result.outcome)})"
            )
        for name, value in expect.get("vars", {}).items():
            actual = final_vars.get(name, _MISSING)
            if actual != value:
                shown = "not set" if actual is _MISSING else repr(actual)
                self.result.failures.append(f"expected var {name!r} to be {value!r}; it is {shown}")


_MISSING = object()
#: what a test's `ends` and a call's outcome mean, in a supervisor's words
_ENDINGS = {
    "hangup": "hung up",
    "waiting": "waiting for the caller",
    **{
        value: str(label)[:1].lower() + str(label)[1:]
        for value, label in CallSession.Outcome.choices
    },
}


class _Refused(Exception):
    """The test cannot run as written (a version that does not exist)."""


@dataclass(frozen=True)
class _HttpAnswer:
    pattern: Any  # an RE2 pattern (flows.nodes.patterns.wildcard)
    method: str | None
    answer: dict[str, Any]

    @classmethod
    def of(cls, answer: dict[str, Any]) -> _HttpAnswer:
        return cls(wildcard(answer["url"]), answer.get("method"), answer)

    def matches(self, request: HttpRequest) -> bool:
        if self.method is not None and self.method != request.method.upper():
            return False
        return self.pattern.fullmatch(request.url) is not None

    def result(self) -> HttpResult:
        if "error" in self.answer:
            return HttpResult(ok=False, status=None, data=None, error=self.answer["error"])
        status = self.answer.get("status", 200)
        if not 200 <= status < 300:
            return HttpResult(ok=False, status=status, data=None, error=f"HTTP {status}")
        return HttpResult(ok=True, status=status, data=self.answer.get("json"), elapsed_ms=0)


def _in_order(wanted: list[str], path: list[str]) -> bool:
    """Whether `path` passes the `wanted` nodes in this order (others may come between)."""
    remaining = iter(path)
    return all(node in remaining for node in wanted)


def _text_matches(wanted: dict[str, str], sent: dict[str, str]) -> bool:
    if "to" in wanted and wanted["to"] != sent["to"]:
        return False
    return wanted.get("contains", "").casefold() in sent["body"].casefold()


def _describe(wanted: dict[str, str]) -> str:
    to = f" to {wanted['to']}" if "to" in wanted else ""
    contains = f" containing {wanted['contains']!r}" if wanted.get("contains") else ""
    return to + contains


def publish_check(flow: Flow, definition: dict[str, Any]) -> list[Problem]:
    """The flow's stored tests run on the definition about to be published: a problem for
    each one that fails (flows.services.PUBLISH_CHECKS)."""
    if not flow.tests:
        return []
    suite = run_tests(flow, flow.tests, definition=definition, seconds=settings.FLOW_TESTS_SECONDS)
    problems = []
    for index, test in enumerate(suite.tests):
        if not test.passed:
            more = f" (and {len(test.failures) - 1} more)" if len(test.failures) > 1 else ""
            problems.append(
                Problem(f"Test {test.name!r} fails: {test.failures[0]}{more}", f"$.tests[{index}]")
            )
    return problems
