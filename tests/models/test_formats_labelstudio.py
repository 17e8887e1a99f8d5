"""Label Studio JSON: UTF-16 offsets, streamed array, text checks, line numbers."""

from __future__ import annotations

import json
from pathlib import Path

from models.formats import labelstudio
from models.records import DocumentRecord, Problem, SpanRecord
from tests.conftest import ROOT
from tests.models.test_formats_roundtrip import sample


def test_labelstudio_offsets_are_utf16_units(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    with labelstudio.Writer(path) as writer:
        writer.write(sample())
        writer.write(DocumentRecord(text="sans annotation"))
    tasks = json.loads(path.read_text(encoding="utf-8"))
    assert len(tasks) == 2
    result = tasks[0]["annotations"][0]["result"]
    poutine = result[1]["value"]
    assert (poutine["start"], poutine["end"], poutine["text"]) == (16, 23, "Poutine")  # 😀 = 2
    stance = [r for r in result if r["type"] == "choices"]
    assert stance[0]["from_name"] == "stance_RUSSIE" and stance[0]["value"]["choices"] == [
        "favorable"
    ]
    assert tasks[0]["data"]["title"] == "Sommet"


def _task(start: int, end: int, quoted: str, text: str = "😀 Xi à Pékin") -> dict[str, object]:
    value = {"start": start, "end": end, "text": quoted, "labels": ["LOC"]}
    result = [{"from_name": "label", "to_name": "text", "type": "labels", "value": value}]
    return {"data": {"text": text}, "annotations": [{"result": result}]}


def test_labelstudio_bad_tasks_are_problems_with_line(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    tasks = [_task(8, 13, "Pékin"), _task(8, 13, "Pekin"), _task(1, 4, "?"), {"data": {}}]
    path.write_text("[\n" + ",\n".join(json.dumps(t) for t in tasks) + "\n]", encoding="utf-8")
    first, *problems = labelstudio.read(path)
    assert isinstance(first, DocumentRecord) and first.spans == [SpanRecord(7, 12, "LOC")]
    assert first.line == 2
    assert all(isinstance(p, Problem) and p.source == str(path) for p in problems)
    assert [p.line for p in problems if isinstance(p, Problem)] == [3, 4, 5]
    assert "Pekin" in str(problems[0]) and "UTF-16" in str(problems[1])


def test_labelstudio_reads_a_single_task_and_rejects_other_json(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text(json.dumps(_task(8, 13, "Pékin")), encoding="utf-8")
    (record,) = labelstudio.read(path)
    assert isinstance(record, DocumentRecord)
    path.write_text('"text"', encoding="utf-8")
    (problem,) = labelstudio.read(path)
    assert isinstance(problem, Problem) and problem.line == 1
    path.write_text("[]", encoding="utf-8")
    assert list(labelstudio.read(path)) == []


def test_labelstudio_sample_file_reads() -> None:
    records = list(labelstudio.read(ROOT / "resources" / "samples" / "labelstudio.json"))
    assert [type(r) for r in records] == [DocumentRecord, DocumentRecord]
