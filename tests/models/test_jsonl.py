"""Native JSONL: write then read is identical; bad lines are Problems with their line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.formats import jsonl
from models.records import (
    ArgumentRecord,
    DocumentRecord,
    EventRecord,
    Problem,
    SpanRecord,
    StanceRecord,
)
from tests.conftest import ROOT

SAMPLE = ROOT / "resources" / "samples" / "sample.jsonl"
TEXT = "Poutine 🤝 Xi à Pe\u0301kin\u2028: «\u00a0amitié\u00a0»\r\nfin"


def _record() -> DocumentRecord:
    return DocumentRecord(
        text=TEXT,
        title="titre",
        meta={"source": "a.txt", "n": [1, 2]},
        spans=[SpanRecord(0, 7, "PER"), SpanRecord(10, 12, "PER"), SpanRecord(15, 21, "LOC")],
        stance=[StanceRecord("CHINE", "favorable", ((26, 32),))],
        events=[EventRecord("RENCONTRE_SOMMET", (8, 9), (ArgumentRecord("participant", 0, 7),))],
        annotator="alice",
        status="done",
        external_id="doc-1",
    )


def test_jsonl_write_then_read_is_identical(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    with jsonl.Writer(path) as writer:
        writer.write(_record())
        writer.write(DocumentRecord(text="seul"))
    raw = path.read_text("utf-8")
    assert raw.count("\n") == 2  # one line per document, U+2028 and CRLF escaped or kept inline
    assert "🤝" in raw and "amitié" in raw  # not ASCII-escaped
    first, second = jsonl.read(path)
    assert first == _record()
    assert second == DocumentRecord(text="seul")
    assert (first.line, second.line) == (1, 2)


def test_jsonl_sample_file_reads(tmp_path: Path) -> None:
    records = list(jsonl.read(SAMPLE))
    assert records and all(isinstance(r, DocumentRecord) for r in records)
    first = records[0]
    assert isinstance(first, DocumentRecord)
    assert {first.text[s.start : s.end] for s in first.spans} >= {"Vladimir Poutine", "Pékin"}
    assert jsonl.sniff(SAMPLE)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "bad JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"title": "x"}', "missing text"),
        ('{"text": 3}', '"text" must be a string'),
        ('{"text": "abc", "spans": {}}', '"spans" must be a list'),
        ('{"text": "abc", "spans": [{"start": 0, "end": 9, "label": "X"}]}', "outside the text"),
        ('{"text": "abc", "spans": [{"start": 2, "end": 2, "label": "X"}]}', "end 2 <= start 2"),
        ('{"text": "abc", "spans": [{"start": "0", "end": 1, "label": "X"}]}', "integer"),
        ('{"text": "abc", "spans": [{"start": 0, "end": 1}]}', '"label"'),
        ('{"text": "abc", "spans": [{"start": 0, "end": 1, "label": ""}]}', '"label"'),
        ('{"text": "abc", "spans": [{"start": true, "end": 1, "label": "X"}]}', "integer"),
        ('{"text": "abc", "spans": [{"start": -1, "end": 1, "label": "X"}]}', "outside"),
        ('{"text": "abc", "spans": [["0", 1, "X"]]}', "spans[0] must be an object"),
        ('{"text": "abc", "spans": [{"start": 0, "end": 1, "label": "X", "text": "b"}]}', "match"),
        ('{"text": "abc", "stance": [{"target": "T", "value": 1}]}', '"value"'),
        ('{"text": "abc", "events": [{"type": "E", "trigger": [0, 1]}]}', "trigger"),
    ],
)
def test_jsonl_bad_line_is_a_problem_with_its_line(tmp_path: Path, line: str, reason: str) -> None:
    path = tmp_path / "bad.jsonl"
    good = json.dumps({"text": "ok"})
    path.write_text(f"{good}\n\n{line}\n{good}\n", "utf-8")
    items = list(jsonl.read(path))
    assert [type(item) for item in items] == [DocumentRecord, Problem, DocumentRecord]
    problem = items[1]
    assert isinstance(problem, Problem)
    assert (problem.source, problem.line) == (str(path), 3)
    assert reason in problem.reason
    assert items[2].line == 4  # type: ignore[union-attr]


def test_jsonl_span_with_more_fields_reads_like_a_plain_one(tmp_path: Path) -> None:
    path = tmp_path / "spans.jsonl"
    spans = [
        {"start": 0, "end": 3, "label": "PER", "text": "Poutine"[:3]},
        {"start": 4, "end": 7, "label": "LOC", "token_start": 1},
        {"start": 8, "end": 9, "label": "MISC"},
    ]
    path.write_text(json.dumps({"text": "Pou tin e", "spans": spans}), "utf-8")
    (record,) = jsonl.read(path)
    assert isinstance(record, DocumentRecord)
    assert record.spans == [
        SpanRecord(0, 3, "PER"),
        SpanRecord(4, 7, "LOC"),
        SpanRecord(8, 9, "MISC"),
    ]


def test_jsonl_undecodable_line_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"text": "caf\xe9"}\n{"text": "ok"}\n')
    problem, record = jsonl.read(path)
    assert isinstance(problem, Problem) and problem.line == 1 and "0xe9" in problem.reason
    assert isinstance(record, DocumentRecord)
