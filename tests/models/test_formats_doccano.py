"""doccano JSONL: sequence labelling, and entities/relations when there are events."""

from __future__ import annotations

import json
from pathlib import Path

from models.formats import doccano
from models.records import ArgumentRecord, DocumentRecord, EventRecord, Problem, SpanRecord
from tests.conftest import ROOT
from tests.models.test_formats_roundtrip import sample


def test_doccano_without_events_writes_sequence_labels(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    record = sample()
    record.events = []
    with doccano.Writer(path) as writer:
        writer.write(record)
    item = json.loads(path.read_text(encoding="utf-8"))
    assert item["label"][0] == [0, 2, "PER"] and "entities" not in item
    assert item["title"] == "Sommet" and item["source"] == "test"


def test_doccano_events_become_trigger_entities_and_relations(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    record = sample()
    record.events.append(EventRecord("SANCTIONS", (42, 49), (ArgumentRecord("cible", 33, 35),)))
    with doccano.Writer(path) as writer:
        writer.write(record)
    item = json.loads(path.read_text(encoding="utf-8"))
    labels = [e["label"] for e in item["entities"]]
    assert "EVENT:RENCONTRE_SOMMET" in labels and doccano.ARGUMENT_LABEL in labels
    assert {r["type"] for r in item["relations"]} == {"participant", "lieu", "cible"}
    (back,) = doccano.read(path)
    assert isinstance(back, DocumentRecord)
    assert back.events == record.events
    assert sorted(back.spans, key=lambda s: s.start) == record.spans


def test_doccano_reads_labels_key_and_meta(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(
        json.dumps({"id": 7, "text": "Xi à Pékin", "labels": [[5, 10, "LOC"]], "Comments": []}),
        encoding="utf-8",
    )
    (record,) = doccano.read(path)
    assert isinstance(record, DocumentRecord)
    assert record.spans == [SpanRecord(5, 10, "LOC")]
    assert record.meta == {"id": 7, "Comments": []}


def test_doccano_bad_lines_are_problems_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"text": "Xi", "label": [[0, 2]]}\n'
        '{"text": "Xi", "label": [[1, 0, "PER"]]}\n'
        '{"text": "Xi", "entities": [], "relations": [{"id": 1, "from_id": 3, "to_id": 4, '
        '"type": "x"}]}\n'
        "[1, 2]\n",
        encoding="utf-8",
    )
    problems = list(doccano.read(path))
    assert all(isinstance(p, Problem) and p.source == str(path) for p in problems)
    assert [p.line for p in problems if isinstance(p, Problem)] == [1, 2, 3, 4]


def test_doccano_sample_file_reads_and_is_sniffed() -> None:
    path = ROOT / "resources" / "samples" / "doccano.jsonl"
    records = list(doccano.read(path))
    assert [type(r) for r in records] == [DocumentRecord, DocumentRecord]
    assert doccano.sniff(path)
    assert not doccano.sniff(ROOT / "resources" / "samples" / "prodigy.jsonl")
