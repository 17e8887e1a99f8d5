"""Label Studio JSON: an array of tasks, offsets in UTF-16 code units as Label Studio's
browser front end counts them (an emoji takes two), converted with ``Utf16Map``.

A task::

    {"data": {"text": ..., <meta fields, title, external_id, annotator, status>},
     "annotations": [{"result": [
        {"id", "from_name": "label", "to_name": "text", "type": "labels",
         "value": {"start", "end", "text", "labels": [LABEL]}},
        {"id", "from_name": "stance_TARGET", "to_name": "text", "type": "choices",
         "value": {"choices": [VALUE]}}]}]}

Carries entities and stance (without evidence); events are not written. The writer streams
the array ("[", tasks joined by ",\\n", "]"). The reader holds the file's text in memory
(no ijson) but decodes and yields one task at a time, with its line number; it reads the
first annotation that is not cancelled, else the first prediction. A span whose ``text``
does not match, or whose offsets fall inside an emoji, is a Problem.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from models.formats.common import (
    FormatError,
    TextWriter,
    as_int,
    as_str,
    describe,
    pack_meta,
    problem,
    span,
    unpack_meta,
)
from models.offsets import Utf16Map
from models.records import DocumentRecord, Problem, StanceRecord

LABELS = "label"
STANCE_PREFIX = "stance_"


def task(record: DocumentRecord) -> dict[str, Any]:
    """The Label Studio task of ``record``."""
    text = record.text
    units = Utf16Map(text)
    result: list[dict[str, Any]] = [
        {
            "id": f"e{index}",
            "from_name": LABELS,
            "to_name": "text",
            "type": "labels",
            "value": {
                "start": units.to_utf16(s.start),
                "end": units.to_utf16(s.end),
                "text": text[s.start : s.end],
                "labels": [s.label],
            },
        }
        for index, s in enumerate(record.spans)
    ]
    result += [
        {
            "id": f"s{index}",
            "from_name": STANCE_PREFIX + s.target,
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [s.value]},
        }
        for index, s in enumerate(record.stance)
    ]
    data = {**pack_meta(record), "text": text}
    return {"data": data, "annotations": [{"result": result}]}


class Writer(TextWriter):
    """Streams a JSON array of tasks."""

    header = "["
    footer = "\n]\n"

    def write(self, record: DocumentRecord) -> None:
        out = self._out()
        out.write(",\n" if self.count else "\n")
        out.write(json.dumps(task(record), ensure_ascii=False))
        self.count += 1


def _code_point(units: Utf16Map, value: Any, what: str) -> int:
    unit = as_int(value, what)
    offset = units.from_utf16(unit)
    if units.to_utf16(offset) != unit:
        raise FormatError(f"{what} {unit} falls inside a character of two UTF-16 units")
    return offset


def decode(item: dict[str, Any]) -> DocumentRecord:
    data = item["data"]
    if not isinstance(data, dict):
        raise FormatError("data must be an object")
    text = as_str(data["text"], "data.text")
    record = unpack_meta(text, {k: v for k, v in data.items() if k != "text"})
    annotations = [a for a in item.get("annotations") or [] if not a.get("was_cancelled")]
    chosen = (annotations or item.get("predictions") or [{}])[0]
    units = Utf16Map(text)
    for result in chosen.get("result") or []:
        value = result["value"]
        if result.get("type") == "labels":
            start = _code_point(units, value["start"], "start")
            end = _code_point(units, value["end"], "end")
            for label in value["labels"]:
                record.spans.append(span(text, start, end, label, value.get("text")))
        elif result.get("type") == "choices" and result["from_name"].startswith(STANCE_PREFIX):
            target = result["from_name"].removeprefix(STANCE_PREFIX)
            for choice in value["choices"]:
                record.stance.append(StanceRecord(target, as_str(choice, "choice")))
    return record


def read(path: Path) -> Iterator[DocumentRecord | Problem]:
    """Tasks of a Label Studio JSON array (or a single task object), one at a time."""
    text = path.read_text(encoding="utf-8-sig")
    decoder = json.JSONDecoder()
    position = _skip(text, 0)
    single = text.startswith("{", position)
    if not single:
        if not text.startswith("[", position):
            yield problem(path, 1, "expected a JSON array of Label Studio tasks")
            return
        position = _skip(text, position + 1)
        if text.startswith("]", position):
            return
    line = 1 + text.count("\n", 0, position)
    while True:
        try:
            value, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            yield problem(path, error.lineno, f"invalid JSON: {error.msg} (column {error.colno})")
            return
        try:
            if not isinstance(value, dict):
                raise FormatError("a task must be a JSON object")
            record = decode(value)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            yield problem(path, line, describe(error))
        else:
            record.line = line
            yield record
        following = _skip(text, end)
        if single or text.startswith("]", following):
            return
        if not text.startswith(",", following):
            where = line + text.count("\n", position, following)
            yield problem(path, where, "expected ',' or ']' after a task")
            return
        start = _skip(text, following + 1)
        line += text.count("\n", position, start)
        position = start


def _skip(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position
