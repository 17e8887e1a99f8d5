"""The headless commands end to end through models.cli.main with a temporary database."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from models import cli
from models.jobs import Job
from models.records import Progress
from models.store import ProjectInfo, Store
from tests.conftest import ROOT

SAMPLE = ROOT / "resources" / "samples" / "sample.jsonl"


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "cli.sqlite")


def _documents(db: str) -> int:
    store = Store.open(db)
    try:
        project = store.project()
        return 0 if project is None else store.count_documents(project.id, 0)
    finally:
        store.close()


def test_cli_import_texts_reports_refused_files_and_is_idempotent(
    db: str, corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "binary.txt").write_bytes(b"abc\x00def")
    assert cli.main(["import", str(corpus_dir), str(bad), "--db", db, "--project", "p"]) == 1
    out, err = capsys.readouterr()
    assert "5 document(s) added" in out
    assert f"{bad / 'binary.txt'}:1: binary file" in err
    assert f"{bad / 'empty.txt'}: empty file" in err
    assert _documents(db) == 5
    assert cli.main(["--db", db, "import", str(corpus_dir)]) == 0
    out, _ = capsys.readouterr()
    assert "0 document(s) added, 5 already there" in out


def test_cli_jsonl_import_export_round_trip(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["import", str(SAMPLE), "--db", db]) == 0
    out = tmp_path / "out.jsonl"
    assert cli.main(["export", "--format", "jsonl", "--out", str(out), "--db", db]) == 0
    original = [json.loads(line) for line in SAMPLE.read_text("utf-8").splitlines()]
    exported = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert exported == original
    assert cli.main(["export", "--out", str(out), "--status", "done", "--db", db]) == 0
    assert len(out.read_text("utf-8").splitlines()) == 1
    assert "1 document(s) written" in capsys.readouterr().out


def test_cli_bad_jsonl_imports_nothing_unless_skip_invalid(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text(SAMPLE.read_text("utf-8") + '{"text": "x", "spans": [{"start": 0}]}\n', "utf-8")
    assert cli.main(["import", str(path), "--db", db]) == 1
    assert f"{path}:3: spans[0]" in capsys.readouterr().err
    assert _documents(db) == 0
    assert cli.main(["import", str(path), "--db", db, "--skip-invalid", "--annotator", "zoe"]) == 1
    assert _documents(db) == 2
    capsys.readouterr()
    assert cli.main(["stats", "--db", db]) == 0
    stats = capsys.readouterr().out
    assert "2 document(s)" in stats and "zoe (human): done 1, in_progress 1" in stats
    assert "zoe: PER import 3" in stats


def test_cli_preannotate_runs_the_job(
    db: str, corpus_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import models.refresh

    @dataclass
    class Report:
        documents: int
        entities: int

    calls: list[dict[str, Any]] = []

    def fake(store: Store, project: ProjectInfo, **options: Any) -> Job[Report]:
        calls.append({"project": project.name, **options})
        yield Progress(1, 1)
        return Report(5, 42)

    monkeypatch.setattr(models.refresh, "preannotate_learning", fake)
    assert cli.main(["preannotate", "--db", db]) == 2  # no project yet
    assert "no project" in capsys.readouterr().err
    cli.main(["import", str(corpus_dir), "--db", db])
    argv = ["preannotate", "--db", db, "--batch-size", "8", "--n-process", "2", "--redo"]
    assert cli.main(argv) == 0
    assert calls == [
        {"project": "default", "learn": True, "batch_size": 8, "n_process": 2, "redo": True}
    ]
    assert "5 document(s) pre-annotated, 42 entities" in capsys.readouterr().out


def test_cli_bad_database_and_usage_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_db = tmp_path / "notes.sqlite"
    not_db.write_text("hello, not a database", "utf-8")
    assert cli.main(["stats", "--db", str(not_db)]) == 2
    err = capsys.readouterr().err
    assert "not a SQLite database" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert cli.main(["export", "--db", str(tmp_path / "x.sqlite")]) == 2  # --out missing
    assert cli.main(["frobnicate"]) == 2


def test_cli_db_upgrade_prints_revision(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["db", "upgrade", "--db", db]) == 0
    first = capsys.readouterr().out
    assert "upgraded from an empty database to revision" in first
    assert cli.main(["db", "upgrade", "--db", db]) == 0
    assert "already at revision" in capsys.readouterr().out
