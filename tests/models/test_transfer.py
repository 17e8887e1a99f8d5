"""Import and export jobs over a real store: batches, dedupe, validation, round trips."""

from __future__ import annotations

import codecs
import gc
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from models import transfer
from models.commands import AddEntity
from models.events import AddArgument, AddEvent, SetEventState
from models.formats import jsonl
from models.jobs import run
from models.layer_io import layer_record
from models.layers import LayerInfo, find_layer
from models.records import (
    ArgumentRecord,
    DocumentRecord,
    EventRecord,
    Progress,
    SpanRecord,
    StanceRecord,
)
from models.schema import Document, Layer
from models.stance import AddEvidence, SetStance
from models.store import ProjectInfo, Store
from models.transfer import TransferError, export, import_file, import_texts

TEXTS = [
    "Vladimir Poutine 🇷🇺 a reçu Xi Jinping à Moscou.\n\nL’accord  est signé.",
    "Le Pe\u0301kin de Xi 👩\u200d👩\u200d👧 et\tla Chine\r\nfin",
]


def _annotated(text: str, index: int) -> DocumentRecord:
    def span(needle: str, label: str) -> SpanRecord:
        start = text.index(needle)
        return SpanRecord(start, start + len(needle), label)

    xi = span("Xi", "PER")
    return DocumentRecord(
        text=text,
        title=f"doc {index}",
        meta={"source": f"{index}.txt"},
        spans=sorted([xi, span("Xi", "MISC"), span("e" if index else "Moscou", "LOC")], key=_key),
        stance=[
            StanceRecord("CHINE", "favorable", ((0, 2), (3, 7))),
            StanceRecord("RUSSIE", "neutre"),
        ],
        events=[
            EventRecord(
                "RENCONTRE_SOMMET", (1, 3), (ArgumentRecord("participant", xi.start, xi.end),)
            )
        ],
        annotator="alice",
        status="done" if index == 0 else "in_progress",
    )


def _key(span: SpanRecord) -> tuple[int, int, str]:
    return span.start, span.end, span.label


def _write(path: Path, records: list[DocumentRecord]) -> Path:
    with jsonl.Writer(path) as writer:
        for record in records:
            writer.write(record)
    return path


def _layer(store: Store, project: ProjectInfo, annotator: str, text: str) -> DocumentRecord:
    with store.reading() as session:
        document_id = session.scalar(
            select(Document.id).where(Document.project_id == project.id, Document.text == text)
        )
    assert document_id is not None
    layer = find_layer(store, document_id, store.annotator_id(annotator))
    assert layer is not None
    with store.reading() as session:
        return layer_record(session, document_id, layer.id)


def test_transfer_import_texts_reports_bad_files_and_imports_the_rest(
    store: Store, project: ProjectInfo, tmp_path: Path
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_bytes(codecs.BOM_UTF8 + b"Un\r\ntexte\r\n")
    (tmp_path / "sub" / "b.txt").write_text("Deux\n", "utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "latin1.txt").write_bytes(b"caf\xe9")
    report = run(import_texts(store, project.id, [tmp_path], batch_size=1))
    assert (report.added, report.duplicates) == (2, 0)
    assert sorted(Path(p.source).name for p in report.problems) == ["empty.txt", "latin1.txt"]
    again = run(import_texts(store, project.id, [tmp_path]))
    assert (again.added, again.duplicates) == (0, 2)
    assert store.count_documents(project.id, store.annotator_id("alice")) == 2
    texts = {store.document(row.id).text for row in store.document_rows(project.id, 1, 0, 10)}
    assert texts == {"Un\r\ntexte\r\n", "Deux\n"}


def test_transfer_jsonl_round_trip_under_another_annotator(
    store: Store, project: ProjectInfo, tmp_path: Path
) -> None:
    records = [_annotated(text, i) for i, text in enumerate(TEXTS)]
    report = run(import_file(store, project.id, _write(tmp_path / "in.jsonl", records)))
    assert (report.added, report.layers, report.problems) == (2, 2, [])
    out = tmp_path / "out.jsonl"
    exported = run(export(store, project.id, out, source="alice"))
    assert (exported.documents, exported.annotated) == (2, 2)
    again = run(import_file(store, project.id, out, annotator="bob"))
    assert (again.added, again.duplicates, again.layers) == (0, 2, 2)
    for record in records:
        bob = _layer(store, project, "bob", record.text)
        assert (bob.spans, bob.stance, bob.events) == (record.spans, record.stance, record.events)
        assert (bob.annotator, bob.status, bob.title) == ("bob", record.status, record.title)


def test_transfer_invalid_file_imports_nothing_unless_skip_invalid(
    store: Store, project: ProjectInfo, tmp_path: Path
) -> None:
    good = _annotated(TEXTS[0], 0)
    path = _write(tmp_path / "in.jsonl", [good])
    bad_lines = [
        {"text": "abc", "spans": [{"start": 0, "end": 2, "label": "GPE"}]},
        {"text": "e\u0301t\u00e9", "spans": [{"start": 1, "end": 3, "label": "PER"}]},
        {
            "text": "Xi ici",
            "events": [
                {
                    "type": "RENCONTRE_SOMMET",
                    "trigger": {"start": 3, "end": 6},
                    "args": [{"role": "participant", "start": 0, "end": 2}],
                }
            ],
        },
        {"text": "Xi ici", "stance": [{"target": "MARS", "value": "favorable"}]},
    ]
    with path.open("a", encoding="utf-8") as handle:
        handle.write("{broken\n")
        for item in bad_lines:
            handle.write(json.dumps(item) + "\n")
    report = run(import_file(store, project.id, path))
    assert report.added == 0 and store.count_documents(project.id, 1) == 0
    reasons = {(p.line, p.reason.split(" (")[0]) for p in report.problems}
    assert (2, "bad JSON: Expecting property name enclosed in double quotes") in reasons
    assert (3, "unknown entity label 'GPE'") in reasons
    assert any(line == 4 and "cuts a character" in reason for line, reason in reasons)
    assert any(line == 5 and "matches no entity" in reason for line, reason in reasons)
    assert (6, "unknown stance target 'MARS'") in reasons
    skipped = run(import_file(store, project.id, path, skip_invalid=True))
    assert (skipped.added, skipped.layers) == (1, 1)
    assert len(skipped.problems) == len(report.problems)


def test_transfer_problem_after_written_batches_takes_everything_back(
    store: Store, project: ProjectInfo, tmp_path: Path
) -> None:
    """Batches written before the problem is found are deleted again; a layer that existed
    before the import is not touched (its record waits for the end of the check)."""
    kept = _annotated(TEXTS[0], 0)
    run(import_file(store, project.id, _write(tmp_path / "first.jsonl", [kept])))
    changed = DocumentRecord(text=kept.text, spans=[SpanRecord(0, 8, "PER")], annotator="alice")
    new = DocumentRecord(text="Paris et Lyon", spans=[SpanRecord(0, 5, "GPE")], annotator="bob")
    path = _write(tmp_path / "second.jsonl", [new, changed, DocumentRecord(text=TEXTS[1])])
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"text": 3}\n')
    report = run(import_file(store, project.id, path, add_labels=True, batch_size=1))
    assert [(p.line, p.reason) for p in report.problems] == [(4, '"text" must be a string')]
    assert (report.added, report.duplicates, report.layers, report.labels_added) == (0, 0, 0, [])
    assert store.count_documents(project.id, 1) == 1
    alice = _layer(store, project, "alice", kept.text)
    assert (alice.spans, alice.stance, alice.status) == (kept.spans, kept.stance, kept.status)
    assert [name for name, _ in store.annotators()] == ["alice"]
    with store.reading() as session:
        assert session.scalars(select(Layer.id)).all() == [1]  # bob's layer was deleted
    schema = store.project(project.name).schema  # type: ignore[union-attr]
    assert schema.entity("GPE") is None


def test_transfer_reimport_replaces_layers_and_a_repeated_text_keeps_its_last(
    store: Store, project: ProjectInfo, tmp_path: Path
) -> None:
    records = [_annotated(text, i) for i, text in enumerate(TEXTS)]
    run(import_file(store, project.id, _write(tmp_path / "first.jsonl", records)))
    first = DocumentRecord(text=TEXTS[0], spans=[SpanRecord(0, 8, "PER")], annotator="alice")
    last = DocumentRecord(text=TEXTS[0], spans=[SpanRecord(9, 16, "PER")], annotator="alice")
    other = DocumentRecord(text=TEXTS[1], annotator="alice", status="done")
    path = _write(tmp_path / "second.jsonl", [first, other, last])
    for batch_size in (1, 1000):
        report = run(import_file(store, project.id, path, batch_size=batch_size))
        assert (report.added, report.duplicates, report.layers, report.problems) == (0, 3, 3, [])
        assert _layer(store, project, "alice", TEXTS[0]).spans == last.spans
        replaced = _layer(store, project, "alice", TEXTS[1])
        assert (replaced.spans, replaced.stance, replaced.events) == ([], [], [])
        assert replaced.status == "done"
    assert store.count_documents(project.id, 1) == 2


def test_transfer_add_labels_extends_the_schema(
    store: Store, project: ProjectInfo, tmp_path: Path
) -> None:
    record = DocumentRecord(text="Paris et Lyon", spans=[SpanRecord(0, 5, "GPE")])
    path = _write(tmp_path / "in.jsonl", [record])
    report = run(import_file(store, project.id, path, add_labels=True, annotator="carol"))
    assert report.problems == [] and report.labels_added == ["GPE"]
    schema = store.project(project.name).schema  # type: ignore[union-attr]
    assert schema.entity("GPE") is not None and len(schema.entity_ids) == 5
    assert _layer(store, project, "carol", record.text).spans == record.spans


def test_transfer_export_status_and_documents_without_layer(
    store: Store, project: ProjectInfo, tmp_path: Path
) -> None:
    records = [_annotated(text, i) for i, text in enumerate(TEXTS)]
    run(import_file(store, project.id, _write(tmp_path / "in.jsonl", records)))
    store.add_documents(project.id, [DocumentRecord(text="Sans annotation.", title="nu")])
    out = tmp_path / "any.jsonl"
    run(export(store, project.id, out, source="alice"))
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [row["title"] for row in rows] == ["doc 0", "doc 1", "nu"]
    assert rows[2]["spans"] == [] and rows[2]["annotator"] is None and rows[2]["status"] is None
    done = run(export(store, project.id, tmp_path / "done.jsonl", source="alice", status="done"))
    assert (done.documents, done.annotated) == (1, 1)
    lines = (tmp_path / "done.jsonl").read_text("utf-8").splitlines()
    assert [json.loads(line)["title"] for line in lines] == ["doc 0"]


def test_transfer_export_source_must_be_clear(
    store: Store, project: ProjectInfo, tmp_path: Path
) -> None:
    record = _annotated(TEXTS[0], 0)
    path = _write(tmp_path / "in.jsonl", [record])
    run(import_file(store, project.id, path))
    only = run(export(store, project.id, tmp_path / "a.jsonl"))
    assert only.source == "alice"
    run(import_file(store, project.id, path, annotator="bob"))
    with pytest.raises(TransferError, match="--source"):
        run(export(store, project.id, tmp_path / "b.jsonl"))
    with pytest.raises(TransferError, match="no annotator"):
        run(export(store, project.id, tmp_path / "c.jsonl", source="model"))


def test_transfer_jsonl_round_trip_of_a_layer_edited_with_commands(
    store: Store, project: ProjectInfo, layer: LayerInfo, doc_id: int, tmp_path: Path
) -> None:
    """Stance with evidence, events with several roles, no argument or a shared trigger:
    exported and imported under another name, the layer reads back identical; suggested
    and rejected events are not annotations and stay out of the file."""
    text = store.document(doc_id).text

    def entity(needle: str, label: str) -> int:
        start = text.index(needle)
        command = AddEntity(layer.id, start, start + len(needle), label)
        store.do(command)
        assert command.entity_id is not None
        return command.entity_id

    def event(needle: str, kind: str, state: str = "accepted") -> int:
        start = text.index(needle)
        command = AddEvent(layer.id, kind, start, start + len(needle))
        store.do(command)
        assert command.event_id is not None
        if state != "accepted":
            store.do(SetEventState(command.event_id, state=state))
        return command.event_id

    poutine, xi, moscou = (
        entity("Vladimir Poutine", "PER"),
        entity("Xi Jinping", "PER"),
        entity("Moscou", "LOC"),
    )
    visit = event("reçu", "VISITE_OFFICIELLE")
    for role, entity_id in (("hote", poutine), ("visiteur", xi), ("lieu", moscou)):
        store.do(AddArgument(visit, role, entity_id))
    summit = event("reçu", "RENCONTRE_SOMMET")
    for entity_id in (poutine, xi):
        store.do(AddArgument(summit, "participant", entity_id))
    event("accord", "ACCORD_COMMERCIAL")
    event("signé", "DECLARATION_CONJOINTE", state="suggested")
    event("Kremlin", "CONFLIT_ARME", state="rejected")
    store.do(SetStance(layer.id, "CHINE", value="favorable"))
    for needle in ("Xi Jinping à Moscou", "L’accord a été signé"):
        start = text.index(needle)
        store.do(AddEvidence(layer.id, "CHINE", start=start, end=start + len(needle)))
    store.do(SetStance(layer.id, "RUSSIE", value="neutre"))
    out = tmp_path / "alice.jsonl"
    run(export(store, project.id, out, source="alice"))
    (line,) = [json.loads(row) for row in out.read_text("utf-8").splitlines()]
    assert [e["type"] for e in line["events"]] == [
        "RENCONTRE_SOMMET",
        "VISITE_OFFICIELLE",
        "ACCORD_COMMERCIAL",
    ]
    assert line["stance"][0]["evidence"] == [
        {"start": text.index(n), "end": text.index(n) + len(n)}
        for n in ("Xi Jinping à Moscou", "L’accord a été signé")
    ]
    report = run(import_file(store, project.id, out, annotator="bob"))
    assert (report.problems, report.layers) == ([], 1)
    alice, bob = _layer(store, project, "alice", text), _layer(store, project, "bob", text)
    assert (bob.spans, bob.stance, bob.events) == (alice.spans, alice.stance, alice.events)
    assert len(alice.events[1].args) == 3 and alice.events[2].args == ()
    again = tmp_path / "bob.jsonl"
    run(export(store, project.id, again, source="bob"))
    exported = json.loads(again.read_text("utf-8"))
    assert {**exported, "annotator": "alice", "status": line["status"]} == line


def test_transfer_import_pauses_the_garbage_collector_during_its_steps_only(
    store: Store, project: ProjectInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    checks = transfer.record_problems  # type: ignore[attr-defined]

    def spying(*args: Any, **kwargs: Any) -> list[str]:
        seen.append(gc.isenabled())
        return checks(*args, **kwargs)

    monkeypatch.setattr(transfer, "record_problems", spying)
    records = [_annotated(text, i) for i, text in enumerate(TEXTS)]
    job = import_file(store, project.id, _write(tmp_path / "in.jsonl", records), batch_size=1)
    step = next(job)
    assert gc.isenabled() and step.done == 1  # on again between two steps
    assert run(job).added == 2
    assert seen == [False, False] and gc.isenabled()
    gc.disable()  # a caller that turned it off keeps it off
    try:
        run(export(store, project.id, tmp_path / "out.jsonl", source="alice"))
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_transfer_import_progress_has_a_total_for_json_lines(
    store: Store, project: ProjectInfo, tmp_path: Path
) -> None:
    records = [DocumentRecord(text=f"Dépêche {n} de Pékin.") for n in range(7)]
    path = _write(tmp_path / "in.jsonl", records)
    path.write_bytes(path.read_bytes() + b"\n   \n")  # blank lines: a total a little high
    steps: list[Progress] = []
    report = run(import_file(store, project.id, path, batch_size=3), steps.append)
    assert report.added == 7
    assert [(step.done, step.total) for step in steps] == [(3, 9), (6, 9), (7, 9), (7, 7)]
    assert jsonl.count(path) == 9 and jsonl.count(_write(tmp_path / "none.jsonl", [])) == 0
    no_newline = tmp_path / "last.jsonl"
    no_newline.write_bytes(path.read_bytes().rstrip())
    assert jsonl.count(no_newline) == 7
