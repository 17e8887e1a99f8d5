"""Prodigy ner_manual JSONL: tokens aligned with spans, hashes, reading Prodigy's own files."""

from __future__ import annotations

import json
from pathlib import Path

from models.formats import prodigy
from models.records import DocumentRecord, Problem, SpanRecord
from tests.conftest import ROOT
from tests.models.test_formats_roundtrip import sample


def test_prodigy_writes_tokens_that_align_with_spans(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    record = sample()
    record.spans.append(SpanRecord(26, 28, "LOC"))  # inside the token "Pékin"
    with prodigy.Writer(path) as writer:
        writer.write(record)
    task = json.loads(path.read_text(encoding="utf-8"))
    tokens = task["tokens"]
    assert all(record.text[t["start"] : t["end"]] == t["text"] for t in tokens)
    assert [t["id"] for t in tokens] == list(range(len(tokens)))
    for span in task["spans"]:
        assert tokens[span["token_start"]]["start"] == span["start"]
        assert tokens[span["token_end"]]["end"] == span["end"]
    assert task["answer"] == "accept" and task["_view_id"] == "ner_manual"
    assert isinstance(task["_input_hash"], int) and isinstance(task["_task_hash"], int)
    assert task["meta"]["title"] == "Sommet"


def test_prodigy_hashes_are_stable(tmp_path: Path) -> None:
    hashes = []
    for name in ("a.jsonl", "b.jsonl"):
        with prodigy.Writer(tmp_path / name) as writer:
            writer.write(sample())
        task = json.loads((tmp_path / name).read_text(encoding="utf-8"))
        hashes.append((task["_input_hash"], task["_task_hash"]))
    assert hashes[0] == hashes[1]


def test_prodigy_reads_tasks_without_tokens_and_rejects(tmp_path: Path) -> None:
    path = tmp_path / "db-out.jsonl"
    lines = [
        {
            "text": "Xi à Pékin",
            "spans": [{"start": 5, "end": 10, "label": "LOC"}],
            "answer": "accept",
        },
        {"text": "rien", "answer": "reject"},
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    first, second = prodigy.read(path)
    assert isinstance(first, DocumentRecord) and first.spans == [SpanRecord(5, 10, "LOC")]
    assert first.line == 1
    assert isinstance(second, DocumentRecord) and second.status == "skipped"


def test_prodigy_bad_lines_are_problems_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"text": "Xi", "spans": []}\n'
        "{not json\n"
        '{"text": "Xi", "spans": [{"start": 0, "end": 9, "label": "PER"}]}\n'
        '{"text": "Xi", "spans": [{"start": 0, "end": 2, "label": "PER", "text": "Yi"}]}\n'
        '{"spans": []}\n',
        encoding="utf-8",
    )
    items = list(prodigy.read(path))
    problems = [item for item in items if isinstance(item, Problem)]
    assert [p.line for p in problems] == [2, 3, 4, 5]
    assert all(p.source == str(path) for p in problems)
    assert "text" in problems[3].reason


def test_prodigy_sample_file_reads_and_is_sniffed() -> None:
    path = ROOT / "resources" / "samples" / "prodigy.jsonl"
    records = list(prodigy.read(path))
    assert len(records) == 2 and all(isinstance(r, DocumentRecord) for r in records)
    assert prodigy.sniff(path)
