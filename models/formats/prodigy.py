"""Prodigy ``ner_manual`` JSONL: one annotated task a line.

Written: ``text``, ``meta`` (the document's meta plus title, external_id, annotator and
status), ``tokens`` (spaCy's French tokenizer, ``start``/``end``/``id``/``text``/``ws``),
``spans`` (``start``, ``end``, ``token_start``, ``token_end`` inclusive, ``label``),
``answer: "accept"``, ``_input_hash``, ``_task_hash`` and ``_view_id``. Tokens are split
at entity boundaries that fall inside a spaCy token, so every span aligns with tokens
(Prodigy refuses spans that do not). Hashes are murmurhash of the sorted JSON of the input
(text) and of the task (input hash and spans), as Prodigy computes its own.

Read: any Prodigy JSONL with ``text`` and ``spans`` (tokens optional). ``answer`` "reject"
or "ignore" reads as status "skipped" unless meta holds a status. Only entities travel
through this format: stance and events are not part of ner_manual.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from murmurhash.mrmr import hash as murmur  # type: ignore[import-untyped]

from models.formats.common import (
    FormatError,
    JsonlWriter,
    as_str,
    count_lines,
    first_json,
    pack_meta,
    read_jsonl_records,
    span,
    tokens,
    unpack_meta,
)
from models.records import DocumentRecord, Problem


def _hash(value: Any) -> int:
    return int(murmur(json.dumps(value, sort_keys=True, ensure_ascii=False)))


class Writer(JsonlWriter):
    """Streams Prodigy tasks; ``lang`` picks the spaCy tokenizer."""

    def __init__(self, path: Path, lang: str = "fr", **_options: Any) -> None:
        super().__init__(path)
        self.lang = lang

    def encode(self, record: DocumentRecord) -> dict[str, Any]:
        text = record.text
        spans = sorted(record.spans, key=lambda s: (s.start, s.end, s.label))
        token_spans = tokens(text, [s.start for s in spans], [s.end for s in spans], self.lang)
        first = {start: index for index, (start, _) in enumerate(token_spans)}
        last = {end: index for index, (_, end) in enumerate(token_spans)}
        task_tokens = [
            {
                "text": text[start:end],
                "start": start,
                "end": end,
                "id": index,
                "ws": index + 1 < len(token_spans) and token_spans[index + 1][0] > end,
            }
            for index, (start, end) in enumerate(token_spans)
        ]
        task_spans = [
            {
                "start": s.start,
                "end": s.end,
                "token_start": first[s.start],
                "token_end": last[s.end],
                "label": s.label,
            }
            for s in spans
        ]
        input_hash = _hash({"text": text})
        return {
            "text": text,
            "meta": pack_meta(record),
            "tokens": task_tokens,
            "spans": task_spans,
            "answer": "accept",
            "_input_hash": input_hash,
            "_task_hash": _hash({"_input_hash": input_hash, "spans": task_spans}),
            "_view_id": "ner_manual",
        }


def decode(task: dict[str, Any]) -> DocumentRecord:
    text = as_str(task["text"], "text")
    meta = task.get("meta") or {}
    if not isinstance(meta, dict):
        raise FormatError("meta must be an object")
    record = unpack_meta(text, meta)
    raw_spans = task.get("spans") or []
    if not isinstance(raw_spans, list):
        raise FormatError("spans must be a list")
    for item in raw_spans:
        record.spans.append(span(text, item["start"], item["end"], item["label"], item.get("text")))
    if record.status is None and task.get("answer") in ("reject", "ignore"):
        record.status = "skipped"
    return record


count = count_lines  # the records of a file, for the import's progress


def read(path: Path) -> Iterator[DocumentRecord | Problem]:
    return read_jsonl_records(path, decode)


def sniff(path: Path) -> bool:
    """True when the first line is a Prodigy task (tokens, hashes or an answer)."""
    task = first_json(path)
    return isinstance(task, dict) and any(
        key in task for key in ("tokens", "_input_hash", "_task_hash", "answer")
    )
