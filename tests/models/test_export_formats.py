"""``glose export`` and ``glose import`` for every format: files, warnings, auto detection,
all-or-nothing imports, paging, cancel; and the README's training walk-through."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import event, insert

from models import cli
from models.commands import SetStatus
from models.formats import FORMATS
from models.jobs import run
from models.layers import model_annotator_id, open_layer
from models.records import DocumentRecord, SpanRecord, StanceRecord
from models.schema import Entity, Layer
from models.stance import SetStance
from models.store import Store
from models.transfer import detect_format, export, import_file

TEXT = "Xi 😀 a reçu Vladimir Poutine à Pékin.\n\nLa Chine e\u0301coute  l’ONU."
OUTPUTS = {
    "jsonl": "out.jsonl",
    "spacy": "spacy",
    "prodigy": "prodigy.jsonl",
    "doccano": "doccano.jsonl",
    "labelstudio": "ls.json",
    "conll": "out.conll",
}


def _at(needle: str, label: str, text: str = TEXT) -> SpanRecord:
    start = text.index(needle)
    return SpanRecord(start, start + len(needle), label)


def _record() -> DocumentRecord:
    """Overlapping entities (Vladimir Poutine / Poutine), stance with evidence."""
    spans = [_at("Xi", "PER"), _at("Vladimir Poutine", "PER"), _at("Poutine", "MISC")]
    spans += [_at("Pékin", "LOC"), _at("ONU", "ORG")]
    return DocumentRecord(
        text=TEXT,
        title="Sommet",
        spans=sorted(spans, key=lambda s: (s.start, s.end, s.label)),
        stance=[StanceRecord("CHINE", "favorable", ((0, 2),))],
        annotator="alice",
        status="done",
    )


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = tmp_path / "in.jsonl"
    with FORMATS["jsonl"].load().Writer(path) as writer:
        writer.write(_record())
        writer.write(DocumentRecord(text="Un texte sans annotation.", title="vide"))
    url = str(tmp_path / "glose.sqlite")
    assert cli.main(["import", str(path), "--db", url]) == 0
    return url


@pytest.mark.parametrize("fmt", sorted(OUTPUTS))
def test_export_formats_cli_writes_each_format_and_imports_it_back(
    fmt: str, db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / OUTPUTS[fmt]
    argv = ["export", "--db", db, "--format", fmt, "--out", str(out), "--source", "alice"]
    assert cli.main([*argv, "--dev-fraction", "0.5", "--seed", "3"]) == 0
    captured = capsys.readouterr()
    assert f"2 document(s) written to {out} (1 with annotations of alice)" in captured.out
    if fmt == "spacy":
        assert sorted(p.name for p in out.iterdir()) == ["config.cfg", "dev.spacy", "train.spacy"]
        assert '1 overlapping entities moved to doc.spans["sc"]' in captured.err
    if fmt == "conll":
        assert "1 overlapping entities left out" in captured.err
    if fmt in ("prodigy", "doccano", "conll"):
        assert "does not carry stance: left out of 1 document(s)" in captured.err
    assert detect_format(out).name == fmt  # --format auto: by extension, then content
    argv = ["import", str(out), "--db", db, "--format", "auto", "--annotator", "bob"]
    assert cli.main(argv) == 0
    captured = capsys.readouterr()
    assert "1 annotated layer(s) written, 0 problem(s)" in captured.out
    if fmt != "conll":  # the exact text: the same documents
        assert "0 document(s) added, 2 already there" in captured.out


@pytest.mark.parametrize("fmt", sorted(OUTPUTS))
def test_export_formats_bad_record_imports_nothing_unless_skip_invalid(
    fmt: str, sqlite_store: Store, tmp_path: Path
) -> None:
    project = sqlite_store.ensure_project("p")
    path = tmp_path / OUTPUTS[fmt]
    bad = DocumentRecord(text="Le GPE Pékin.", spans=[_at("Pékin", "GPE", "Le GPE Pékin.")])
    with FORMATS[fmt].load().Writer(path, dev_fraction=0.0) as writer:
        writer.write(_record())
        writer.write(bad)
    report = run(import_file(sqlite_store, project.id, path))
    (problem,) = report.problems
    assert report.added == 0 and "unknown entity label 'GPE'" in problem.reason
    assert problem.source.startswith(str(path)) and problem.line > 1
    skipped = run(import_file(sqlite_store, project.id, path, skip_invalid=True))
    assert (skipped.added, skipped.layers, len(skipped.problems)) == (1, 1, 1)
    added = run(import_file(sqlite_store, project.id, path, add_labels=True, annotator="bob"))
    assert (added.added, added.labels_added, added.problems) == (1, ["GPE"], [])


def _fill(store: Store, documents: int) -> int:
    """A project of ``documents`` annotated documents (Core inserts)."""
    project = store.ensure_project("big")
    records = [DocumentRecord(text=f"{TEXT} n°{n}") for n in range(documents)]
    ids = store.add_documents(project.id, records)
    alice = store.annotator_id("alice")
    with store.transaction() as session:
        layer_ids = session.scalars(
            insert(Layer).returning(Layer.id, sort_by_parameter_order=True),
            [{"document_id": i, "annotator_id": alice, "status": "done"} for i in ids],
        ).all()
        spans = [_at("Xi", "PER"), _at("Pékin", "LOC")]
        session.execute(
            insert(Entity),
            [
                {
                    "layer_id": i,
                    "start": s.start,
                    "end": s.end,
                    "label": s.label,
                    "origin": "import",
                }
                for i in layer_ids
                for s in spans
            ],
        )
    return project.id


def test_export_formats_reads_a_page_of_documents_in_a_few_queries(
    sqlite_store: Store, tmp_path: Path
) -> None:
    project_id = _fill(sqlite_store, 450)
    statements: list[str] = []
    listen = (sqlite_store.engine, "before_cursor_execute")
    record = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(*listen, record)
    try:
        report = run(export(sqlite_store, project_id, tmp_path / "o.jsonl", source="alice"))
    finally:
        event.remove(*listen, record)
    assert (report.documents, report.annotated) == (450, 450)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) < 40  # 3 pages of 200: a listing and 6 queries each, not 6 a document
    assert len((tmp_path / "o.jsonl").read_text("utf-8").splitlines()) == 450


def test_export_formats_cancel_leaves_no_partial_file(sqlite_store: Store, tmp_path: Path) -> None:
    project_id = _fill(sqlite_store, 450)
    out = tmp_path / "o.jsonl"
    job = export(sqlite_store, project_id, out, source="alice")
    step = next(job)
    assert step.done == 200 and out.is_file()
    job.close()  # what the GUI's Cancel does between two steps
    assert not out.exists()


def test_export_formats_readme_walkthrough_trains_spacy(
    corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """README "Training a model from your annotations", as written (real fr_core_news_sm),
    the analyst's corrections made with the store's commands, training cut to two steps."""
    db = str(tmp_path / "glose.sqlite")
    assert cli.main(["import", str(corpus_dir), "--db", db]) == 0
    assert cli.main(["preannotate", "--db", db]) == 0
    store = Store.open(db)
    try:
        project = store.project()
        assert project is not None
        alice = store.annotator_id("alice")
        model = model_annotator_id(store, project.model_annotator)
        for row in store.document_rows(project.id, alice, 0, 10):
            layer = open_layer(store, row.id, alice, model, create=True)
            assert layer is not None
            store.do(SetStance(layer_id=layer.id, target="RUSSIE", value="favorable"))
            store.do(SetStatus(layer_id=layer.id, status="done"))
    finally:
        store.close()
    out = tmp_path / "training"
    argv = ["export", "--db", db, "--format", "spacy", "--out", str(out), "--source", "alice"]
    assert cli.main([*argv, "--status", "done", "--dev-fraction", "0.2", "--seed", "0"]) == 0
    captured = capsys.readouterr()
    assert "5 document(s) written" in captured.out and "holds no document" not in captured.err
    command = [sys.executable, "-m", "spacy", "train", "config.cfg"]
    command += ["--paths.train", "train.spacy", "--paths.dev", "dev.spacy", "--output", "model"]
    command += ["--training.max_steps", "2", "--training.eval_frequency", "1"]
    done = subprocess.run(command, cwd=out, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (out / "model" / "model-last" / "ner").is_dir()
    assert (out / "model" / "model-last" / "textcat_multilabel").is_dir()
