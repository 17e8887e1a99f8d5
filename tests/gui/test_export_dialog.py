"""File ▸ Export…: the dialog runs the export as a background job and shows its report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from gui.export_dialog import ExportDialog
from models.formats import jsonl
from models.formats.docbin_workers import Workers
from models.jobs import run
from models.records import DocumentRecord, SpanRecord, StanceRecord
from models.store import ProjectInfo, Store
from models.transfer import import_file
from tests.gui.conftest import screenshot, wait_done

TEXT = "Xi 😀 a reçu Vladimir Poutine à Pékin."


@pytest.fixture
def project(store: Store, tmp_path: Path) -> ProjectInfo:
    project = store.ensure_project("test")
    poutine = TEXT.index("Vladimir Poutine")
    records = [
        DocumentRecord(
            text=TEXT,
            spans=[
                SpanRecord(poutine, poutine + 16, "PER"),
                SpanRecord(poutine + 9, poutine + 16, "MISC"),  # overlaps
            ],
            stance=[StanceRecord("CHINE", "favorable")],
            annotator="alice",
            status="done",
        ),
        DocumentRecord(text="Pas encore fait.", annotator="alice", status="in_progress"),
    ]
    path = tmp_path / "in.jsonl"
    with jsonl.Writer(path) as writer:
        for record in records:
            writer.write(record)
    assert run(import_file(store, project.id, path)).problems == []
    return project


def _export(qtbot: QtBot, dialog: ExportDialog, fmt: str, path: Path) -> str:
    dialog.format.setCurrentIndex(dialog.format.findData(fmt))
    dialog.path.setText(str(path))
    assert dialog.export_button.isEnabled()
    with qtbot.waitSignal(dialog.exportEnded, timeout=60000):
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert dialog.output.isVisible() and dialog.export_button.isEnabled()
    return dialog.output.toPlainText()


def test_export_dialog_writes_jsonl_and_spacy(
    qtbot: QtBot, store: Store, project: ProjectInfo, tmp_path: Path
) -> None:
    dialog = ExportDialog(store, project, "alice")
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.source.currentData() == "alice" and dialog.status.currentData() == "done"
    assert not dialog.export_button.isEnabled()  # no output path yet

    report = _export(qtbot, dialog, "jsonl", tmp_path / "out.jsonl")
    assert "1 document(s) written" in report
    (line,) = (tmp_path / "out.jsonl").read_text("utf-8").splitlines()
    assert json.loads(line)["text"] == TEXT and len(json.loads(line)["spans"]) == 2
    assert not dialog.dev_fraction.isEnabled()

    dialog.status.setCurrentIndex(dialog.status.findData("any"))
    dialog.format.setCurrentIndex(dialog.format.findData("spacy"))
    assert dialog.path.text() == str(tmp_path / "out")  # a folder for spaCy
    assert dialog.dev_fraction.isEnabled()
    dialog.dev_fraction.setValue(0.0)
    report = _export(qtbot, dialog, "spacy", tmp_path / "spacy")
    assert "2 document(s) written" in report
    assert 'Warning: 1 overlapping entities moved to doc.spans["sc"]' in report
    names = sorted(path.name for path in (tmp_path / "spacy").iterdir())
    assert names == ["config.cfg", "dev.spacy", "train.spacy"]
    screenshot(dialog, "export_dialog")


def test_export_dialog_cancel_stops_the_job(
    qtbot: QtBot, store: Store, project: ProjectInfo, tmp_path: Path
) -> None:
    dialog = ExportDialog(store, project, "alice")
    qtbot.addWidget(dialog)
    dialog.path.setText(str(tmp_path / "out.jsonl"))
    worker = dialog.start()
    assert worker is not None and dialog.start() is None  # one export at a time
    dialog.cancel()
    with qtbot.waitSignal(dialog.exportEnded, timeout=60000):
        pass
    assert dialog.worker is None
    text = dialog.output.toPlainText()
    assert text.startswith(("Export cancelled", "1 document(s) written"))


def test_export_dialog_opens_from_the_file_menu_and_imports_annotations(
    qtbot: QtBot, store: Store, project: ProjectInfo, tmp_path: Path, child_jobs: list[str]
) -> None:
    from PySide6.QtCore import QSettings

    from gui.main_window import MainWindow
    from gui.settings import Settings

    settings = Settings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    window = MainWindow(store, project, "alice", settings)
    qtbot.addWidget(window)
    dialog = window.show_export()
    qtbot.addWidget(dialog)
    assert dialog.isVisible() and dialog.source.currentData() == "alice"
    dialog.reject()
    path = tmp_path / "more.jsonl"
    with jsonl.Writer(path) as writer:
        writer.write(DocumentRecord(text="Pékin", spans=[SpanRecord(0, 5, "LOC")], annotator="bob"))
    worker = window.import_annotations(path)
    assert child_jobs == ["models.transfer:import_file_of"]
    wait_done(qtbot, worker, 60_000)
    qtbot.waitUntil(lambda: window.import_report is not None)
    assert window.import_report.text().startswith("1 document(s) imported")
    assert ("bob", "human") in store.annotators()  # his layer's annotator
    window.close()


def test_export_dialog_spacy_export_of_many_documents_uses_worker_processes(
    qtbot: QtBot,
    store: Store,
    project: ProjectInfo,
    tmp_path: Path,
    docbin_workers: list[Workers],
) -> None:
    records = [
        DocumentRecord(text=f"Dépêche {n} : {TEXT}", annotator="alice", status="done")
        for n in range(250)
    ]
    path = tmp_path / "many.jsonl"
    with jsonl.Writer(path) as writer:
        for item in records:
            writer.write(item)
    assert run(import_file(store, project.id, path)).added == 250
    dialog = ExportDialog(store, project, "alice")
    qtbot.addWidget(dialog)
    dialog.show()
    report = _export(qtbot, dialog, "spacy", tmp_path / "spacy")
    assert "251 document(s) written" in report  # and the one done before
    assert len(docbin_workers) == 1 and not docbin_workers[0]._workers  # started, stopped
    shards = sorted((tmp_path / "spacy").rglob("*.spacy"))
    assert len(shards) >= 3
