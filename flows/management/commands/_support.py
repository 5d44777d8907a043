"""What the flow commands share: reading files into import sources, printing reports."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from flows.imports import ImportedFlow, ImportFailed, ImportReport, ImportSource
from flows.spec.jsontext import JSONTooLarge


def read_sources(paths: list[str]) -> list[ImportSource]:
    """One source per file; a directory stands for the *.json files in it."""
    sources: list[ImportSource] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.glob("*.json") if p.is_file())
            if not files:
                raise CommandError(f"{raw}: the directory has no *.json files.")
        elif path.is_file():
            files = [path]
        else:
            raise CommandError(f"{raw}: no such file or directory.")
        for file in files:
            sources.append(ImportSource(str(file), _read(file)))
    return sources


def _read(file: Path) -> bytes:
    """The file's bytes; one larger than a flow document may be is refused unread."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        with file.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise CommandError(f"{file}: cannot be read: {exc.strerror}.") from exc
    if len(data) > limit:
        size = file.stat().st_size
        raise CommandError(f"{file}: {JSONTooLarge(size, limit).message}")
    return data


def import_failed_message(exc: ImportFailed) -> str:
    lines = [f"Nothing was imported: {len(exc.errors)} error(s)."]
    lines += [f"  {error}" for error in exc.errors]
    return "\n".join(lines)


def report_lines(report: ImportReport) -> list[str]:
    lines = []
    for flow in report.flows:
        if flow.created:
            what = "created"
        elif flow.changed:
            what = "draft changed"
        else:
            what = "unchanged"
        if flow.published:
            what += f", published as version {flow.published_version}"
        elif flow.published_version:
            what += f" (published version {flow.published_version})"
        lines.append(f"{flow.slug} ({flow.file}): {what}")
        lines += conversion_lines(flow)
        lines += [
            f"  warning: {w.path}{f' (node {w.node!r})' if w.node else ''}: {w.message}"
            for w in flow.warnings
        ]
    for tests in report.tests:
        what = "stored" if tests.changed else "unchanged"
        lines.append(f"{tests.slug} ({tests.file}): {tests.count} flow test(s) {what}")
    if report.dry_run:
        lines.append("Dry run: nothing was written.")
    return lines


#: the report's sections, in the order a supervisor should read them
SECTIONS = (
    ("placeholder", "placeholders (replace each before publishing):"),
    ("approximated", "approximated (check them):"),
    ("dropped", "left out (no effect here):"),
)


def conversion_lines(flow: ImportedFlow) -> list[str]:
    """The conversion report of one flow: what needs work first, then what converted."""
    lines: list[str] = []
    if flow.converted_from:
        changed = [n for n in flow.report if n.kind != "converted"] or flow.notes
        lines.append(
            f"  converted from {flow.converted_from}; "
            + ("not converted, or converted with changes:" if changed else "everything converted.")
        )
        for kind, title in SECTIONS:
            found = [n for n in flow.report if n.kind == kind]
            if found:
                lines.append(f"    {title}")
                lines += [f"    - {note}" for note in found]
        if not flow.report:
            lines += [f"    - {note}" for note in flow.notes]
        same = [n.node for n in flow.report if n.kind == "converted" and n.node]
        if same:
            lines.append(f"  converted as they were ({len(same)} nodes): {', '.join(same)}")
    if flow.held and flow.held_by:
        lines.append(
            f"  Not published: it enters {', '.join(flow.held_by)}, imported as a draft for its "
            "placeholder nodes: replace them there, or publish anyway with --publish "
            "--allow-placeholders."
        )
    elif flow.held:
        lines.append(
            f"  Not published: the flow has placeholder nodes ({', '.join(flow.placeholders)}): "
            "replace them, or publish anyway with --publish --allow-placeholders."
        )
    elif flow.placeholders and not flow.published:
        lines.append(
            f"  imported as a draft with {len(flow.placeholders)} placeholder node(s) "
            f"({', '.join(flow.placeholders)}): replace them, or publish anyway with "
            "--publish --allow-placeholders."
        )
    return lines
