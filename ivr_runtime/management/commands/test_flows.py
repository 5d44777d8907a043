"""`manage.py test_flows PATH... [--junit FILE]`: run flow test files (callflow-test/1)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from flows.models import Flow
from flows.spec import errors, parse_definition, validate
from flows.spec.flowtests import check_tests, is_test_file
from flows.spec.migrations import UnknownFormat, migrate
from flows.spec.validate import DefinitionParseError
from ivr_runtime.flowtests import junit as junit_xml
from ivr_runtime.flowtests.runner import SuiteResult, run_tests


class Command(BaseCommand):
    help = (
        "Run flow test files (callflow-test/1): each test a call through the real engine, at "
        "its clock, with its HTTP answers; nothing is sent or kept. A test runs on its flow's "
        "file when one of the PATHs is that flow (callflow/1), else on the flow's draft here "
        "(or the version it names). A directory stands for the *.json files in it and below; "
        "those that are neither tests nor flows are left alone. Exits 1 when a test fails, "
        "2 when a file cannot be used (every one is named), before running any."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "paths", nargs="+", metavar="PATH", help="a test file, a flow file or a directory"
        )
        parser.add_argument("--junit", metavar="FILE", help="also write the results as JUnit XML")

    def handle(self, *args, paths, junit: str | None, **options):
        files = _Files()
        for name, text, named in _json_files(paths):
            files.add(name, text, named=named)
        runs = files.runs()
        if files.problems:  # every file's problems, and no test run
            raise CommandError("\n".join(files.problems), returncode=2)
        results: list[tuple[str, SuiteResult]] = []
        for run in runs:
            suite = run_tests(run.flow, run.tests, definition=run.definition)
            results.append((run.name, suite))
            self._print(run, suite)
        total = sum(len(s.tests) for _, s in results)
        failed = sum(s.failed for _, s in results)
        if junit:
            try:
                Path(junit).write_text(junit_xml.report(results), encoding="utf-8")
            except OSError as exc:
                raise CommandError(f"{junit}: cannot be written: {exc.strerror}.") from exc
        summary = (
            f"{total} test(s) in {len(results)} file(s): {total - failed} passed, {failed} failed."
        )
        if failed:
            self.stdout.write(self.style.ERROR(summary))
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS(summary))

    def _print(self, run: _Run, suite: SuiteResult) -> None:
        self.stdout.write(f"{run.name} (flow {suite.flow}, {run.source}):")
        for test in suite.tests:
            if test.passed:
                self.stdout.write(f"  {self.style.SUCCESS('PASS')} {test.name}")
                continue
            self.stdout.write(f"  {self.style.ERROR('FAIL')} {test.name}")
            for failure in test.failures:
                self.stdout.write(f"       {failure}")
            if test.path:
                self.stdout.write(f"       path: {' > '.join(test.path)}")


@dataclass(frozen=True)
class _Run:
    name: str
    flow: Flow
    tests: list[dict[str, Any]]
    #: the flow file's definition, or None for the flow's draft here
    definition: dict[str, Any] | None
    source: str


class _Files:
    """The test files and flow files given, and the problems that stop them."""

    def __init__(self) -> None:
        self.tests: list[tuple[str, dict[str, Any]]] = []
        self.flows: dict[str, tuple[str, dict[str, Any]]] = {}
        self.problems: list[str] = []

    def add(self, name: str, text: str, *, named: bool) -> None:
        """`named`: given by name (else found in a directory, and skipped unless it is a
        test or a flow)."""
        try:
            data = parse_definition(text)
        except DefinitionParseError as exc:
            if named:
                self.problems.append(f"{name}: {exc.path}: {exc.message}")
            return
        if is_test_file(data):
            found = check_tests(data)
            self.problems += [f"{name}: {p.path}: {p.message}" for p in found]
            if not found:
                self.tests.append((name, data))
            return
        try:
            definition = migrate(data)
        except UnknownFormat:
            if named:
                self.problems.append(
                    f"{name}: $.format: neither a flow test file (callflow-test/1) nor a flow "
                    "(callflow/1)."
                )
            return
        self._add_flow(name, definition)

    def _add_flow(self, name: str, definition: dict[str, Any]) -> None:
        found = errors(validate(definition))
        self.problems += [f"{name}: {p.path}: {p.message}" for p in found]
        slug = definition.get("slug")
        if found or not isinstance(slug, str):
            return
        if slug in self.flows:
            self.problems.append(f"{name}: $.slug: flow {slug!r} is also {self.flows[slug][0]}.")
            return
        self.flows[slug] = (name, definition)

    def runs(self) -> list[_Run]:
        if not self.tests and not self.problems:
            self.problems.append("No flow test files (callflow-test/1) among the PATHs.")
        runs = []
        here = {f.slug: f for f in Flow.objects.filter(slug__in={d["flow"] for _, d in self.tests})}
        for name, document in self.tests:
            slug = document["flow"]
            if slug in self.flows:
                file, definition = self.flows[slug]
                flow = here.get(slug) or Flow(
                    slug=slug, name=definition["name"], definition=definition
                )
                runs.append(_Run(name, flow, document["tests"], definition, f"as in {file}"))
            elif slug in here:
                runs.append(_Run(name, here[slug], document["tests"], None, "its draft here"))
            else:
                self.problems.append(
                    f"{name}: $.flow: no flow {slug!r}: give its file too, or import it first."
                )
        return runs


def _json_files(paths: list[str]) -> list[tuple[str, str, bool]]:
    """(name, text, given by name) of each file: a directory's *.json files, below too."""
    files: list[tuple[str, str, bool]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = [(str(p), _read(p), False) for p in sorted(path.rglob("*.json")) if p.is_file()]
            if not found:
                raise CommandError(f"{raw}: no *.json files in it.", returncode=2)
            files += found
        elif path.is_file():
            files.append((raw, _read(path), True))
        else:
            raise CommandError(f"{raw}: no such file or directory.", returncode=2)
    return files


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"{path}: cannot be read: {exc}.", returncode=2) from exc
