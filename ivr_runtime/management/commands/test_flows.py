"""`manage.py test_flows PATH... [--junit FILE]`: run flow test files (callflow-test/1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from flows.models import Flow
from flows.spec.flowtests import check_tests, is_test_file, parse_tests
from flows.spec.validate import DefinitionParseError
from ivr_runtime.flowtests import junit as junit_xml
from ivr_runtime.flowtests.runner import SuiteResult, run_tests


class Command(BaseCommand):
    help = (
        "Run flow test files (callflow-test/1) on their flows' drafts, or the versions the "
        "tests name: each test a call through the real engine, at its clock, with its HTTP "
        "answers; nothing is sent or kept. A directory stands for the test files in it and "
        "below (other JSON files are left alone). Exits 1 when a test fails, 2 when a file "
        "cannot be run, before running any."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH", help="a test file or a directory")
        parser.add_argument("--junit", metavar="FILE", help="also write the results as JUnit XML")

    def handle(self, *args, paths, junit: str | None, **options):
        loaded, errors = [], []
        for name, text in _test_files(paths):
            try:
                loaded.append((name, *_load(name, text)))
            except CommandError as exc:
                errors.append(str(exc))
        if errors:  # every file's errors, and no test run
            raise CommandError("\n".join(errors), returncode=2)
        results: list[tuple[str, SuiteResult]] = []
        for name, flow, document in loaded:
            suite = run_tests(flow, document["tests"])
            results.append((name, suite))
            self._print(name, suite)
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

    def _print(self, name: str, suite: SuiteResult) -> None:
        self.stdout.write(f"{name} (flow {suite.flow}):")
        for test in suite.tests:
            if test.passed:
                self.stdout.write(f"  {self.style.SUCCESS('PASS')} {test.name}")
                continue
            self.stdout.write(f"  {self.style.ERROR('FAIL')} {test.name}")
            for failure in test.failures:
                self.stdout.write(f"       {failure}")
            if test.path:
                self.stdout.write(f"       path: {' > '.join(test.path)}")


def _test_files(paths: list[str]) -> list[tuple[str, str]]:
    files: list[tuple[str, str]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = [
                (str(p), text)
                for p in sorted(path.rglob("*.json"))
                if p.is_file() and _is_test_text(text := _read(p))
            ]
            if not found:
                raise CommandError(
                    f"{raw}: no flow test files (callflow-test/1) in it.", returncode=2
                )
            files += found
        elif path.is_file():
            files.append((raw, _read(path)))
        else:
            raise CommandError(f"{raw}: no such file or directory.", returncode=2)
    return files


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"{path}: cannot be read: {exc}.", returncode=2) from exc


def _is_test_text(text: str) -> bool:
    try:
        return is_test_file(json.loads(text))
    except ValueError:
        return False


def _load(name: str, text: str) -> tuple[Flow, dict[str, Any]]:
    try:
        document = parse_tests(text)
    except DefinitionParseError as exc:
        raise CommandError(f"{name}: {exc.path}: {exc.message}", returncode=2) from exc
    if not is_test_file(document):
        raise CommandError(
            f'{name}: $.format: not a flow test file: expected "format": "callflow-test/1".',
            returncode=2,
        )
    problems = check_tests(document)
    if problems:
        lines = "\n".join(f"  {name}: {p.path}: {p.message}" for p in problems)
        raise CommandError(
            f"{name}: the tests have {len(problems)} error(s); none was run:\n{lines}", returncode=2
        )
    flow = Flow.objects.filter(slug=document["flow"]).first()
    if flow is None:
        raise CommandError(
            f"{name}: $.flow: no flow {document['flow']!r} here: import it first.", returncode=2
        )
    return flow, document
