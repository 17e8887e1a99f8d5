"""Glose native JSONL: one document a line, a Prodigy-compatible superset.

``{"id", "text", "title", "meta", "spans": [{"start", "end", "label"}],
"stance": [{"target", "value", "evidence": [{"start", "end"}]}],
"events": [{"type", "trigger": {"start", "end"}, "args": [{"role", "start", "end"}]}],
"annotator", "status"}``; only ``text`` is required. Offsets are Python code points (Unicode
characters), end exclusive. A span may carry its ``text``, which must then match.
``"id"`` is the document's external id, written when known.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from models.formats.common import (
    FormatError,
    JsonlWriter,
    as_int,
    check_span,
    count_lines,
    read_jsonl_records,
)
from models.records import (
    ArgumentRecord,
    DocumentRecord,
    EventRecord,
    Problem,
    SpanRecord,
    StanceRecord,
)

count = count_lines  # the records of a file, for the import's progress


def read(path: Path) -> Iterator[DocumentRecord | Problem]:
    """Records of ``path`` one line at a time; a bad line is a Problem with its number."""
    return read_jsonl_records(path, decode)


def sniff(path: Path) -> bool:
    """True when the first non-blank line is a JSON object with a string "text"."""
    with path.open("rb") as handle:
        for raw in handle:
            if raw.strip():
                try:
                    item = json.loads(raw.decode("utf-8-sig"))
                except ValueError:
                    return False
                return isinstance(item, dict) and isinstance(item.get("text"), str)
    return False


def decode(item: dict[str, Any]) -> DocumentRecord:
    """The record of one JSON object; FormatError names the field that is wrong."""
    text = item.get("text")
    if not isinstance(text, str):
        raise FormatError("missing text" if text is None else '"text" must be a string')
    external_id = item.get("id")
    if external_id is not None and not isinstance(external_id, str | int):
        raise FormatError('"id" must be a string or a number')
    return DocumentRecord(
        text=text,
        title=_typed(item, "title", str, ""),
        meta=_typed(item, "meta", dict, {}),
        spans=_spans(text, _typed(item, "spans", list, [])),
        stance=[_stance(text, entry, f"stance[{i}]") for i, entry in _items(item, "stance")],
        events=[_event(text, entry, f"events[{i}]") for i, entry in _items(item, "events")],
        annotator=_typed(item, "annotator", str, None),
        status=_typed(item, "status", str, None),
        external_id=None if external_id is None else str(external_id),
    )


def _typed(item: dict[str, Any], key: str, kind: type, default: Any) -> Any:
    value = item.get(key)
    if value is None:
        return default
    if not isinstance(value, kind):
        raise FormatError(f'"{key}" must be {_KIND_NAMES[kind]}')
    return value


_KIND_NAMES: dict[type, str] = {str: "a string", dict: "an object", list: "a list"}


def _items(item: dict[str, Any], key: str) -> Iterator[tuple[int, Any]]:
    return enumerate(_typed(item, key, list, []))


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FormatError(f"{where} must be an object")
    return value


def _string(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value:
        raise FormatError(f'{where}: "{key}" must be a non-empty string')
    return value


def _offsets(text: str, entry: Any, where: str) -> tuple[int, int]:
    entry = _object(entry, where)
    start = as_int(entry.get("start"), f'{where}: "start"')
    end = as_int(entry.get("end"), f'{where}: "end"')
    try:
        check_span(text, start, end, entry.get("text"))
    except FormatError as error:
        raise FormatError(f"{where}: {error}") from None
    return start, end


def _spans(text: str, entries: list[Any]) -> list[SpanRecord]:
    """The spans of a line. The usual span (an object of integer offsets inside the text and
    a label, nothing else) is taken at once; any other goes through ``_span``, which checks
    a quoted text or names the error."""
    spans = []
    length = len(text)
    for index, entry in enumerate(entries):
        try:
            start, end, label = entry["start"], entry["end"], entry["label"]
        except (KeyError, TypeError):
            start = None
        if (
            type(start) is int
            and type(end) is int
            and 0 <= start < end <= length
            and type(label) is str
            and label
            and len(entry) == 3
        ):
            spans.append(SpanRecord(start, end, label))
        else:
            spans.append(_span(text, entry, f"spans[{index}]"))
    return spans


def _span(text: str, entry: Any, where: str) -> SpanRecord:
    start, end = _offsets(text, entry, where)
    return SpanRecord(start, end, _string(entry, "label", where))


def _stance(text: str, entry: Any, where: str) -> StanceRecord:
    entry = _object(entry, where)
    evidence = tuple(
        _offsets(text, span, f"{where}.evidence[{i}]") for i, span in _items(entry, "evidence")
    )
    return StanceRecord(_string(entry, "target", where), _string(entry, "value", where), evidence)


def _event(text: str, entry: Any, where: str) -> EventRecord:
    entry = _object(entry, where)
    trigger = _offsets(text, entry.get("trigger"), f"{where}.trigger")
    args = []
    for i, arg in _items(entry, "args"):
        start, end = _offsets(text, arg, f"{where}.args[{i}]")
        args.append(ArgumentRecord(_string(arg, "role", f"{where}.args[{i}]"), start, end))
    return EventRecord(_string(entry, "type", where), trigger, tuple(args))


def to_json(record: DocumentRecord) -> dict[str, Any]:
    """The JSON object of one record (keys in the documented order)."""
    item: dict[str, Any] = {} if record.external_id is None else {"id": record.external_id}
    item.update(
        text=record.text,
        title=record.title,
        meta=record.meta,
        spans=[{"start": s.start, "end": s.end, "label": s.label} for s in record.spans],
        stance=[
            {
                "target": s.target,
                "value": s.value,
                "evidence": [{"start": start, "end": end} for start, end in s.evidence],
            }
            for s in record.stance
        ],
        events=[
            {
                "type": e.type,
                "trigger": {"start": e.trigger[0], "end": e.trigger[1]},
                "args": [{"role": a.role, "start": a.start, "end": a.end} for a in e.args],
            }
            for e in record.events
        ],
        annotator=record.annotator,
        status=record.status,
    )
    return item


class Writer(JsonlWriter):
    """Streams records to ``path``, one JSON object a line (UTF-8, not ASCII-escaped)."""

    def encode(self, record: DocumentRecord) -> dict[str, Any]:
        return to_json(record)
