"""The spaCy export's worker processes (models.formats.docbin_workers): the same bytes as
an export without them, errors that fail the export and leave nothing, and no process
left behind, whatever happens."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from models import child
from models.formats import docbin_workers, spacy_docbin
from models.formats.common import FormatError
from models.formats.docbin_workers import WorkerError, Workers
from models.jobs import run
from models.records import DocumentRecord, SpanRecord
from models.store import Store
from models.transfer import export, import_file
from tests.models.test_formats_roundtrip import sample
from tests.models.test_formats_spacy import _hard
from tests.models.test_transfer import _write


def _records(count: int) -> list[DocumentRecord]:
    records = []
    for n in range(count):
        record = _hard() if n % 3 else sample()
        record.text += f" Dépêche {n}."  # each text its own (the store skips a text met)
        records.append(record)
    return records


def _files(out: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(out)): path.read_bytes()
        for path in sorted(out.rglob("*"))
        if path.is_file()
    }


def _ended(workers: list[Workers]) -> bool:
    return all(not pool._workers for pool in workers)  # closed: processes waited for


def test_workers_write_the_bytes_of_an_export_without_them(
    tmp_path: Path, docbin_workers: list[Workers]
) -> None:
    records = _records(23)
    for name, workers in (("alone", 0), ("one", 1), ("two", 2)):
        with spacy_docbin.Writer(
            tmp_path / name, dev_fraction=0.3, shard_size=2, workers=workers
        ) as writer:
            for record in records:
                writer.write(record)
        assert writer.overlapping == 15  # one entity of each _hard() in spans["sc"]
    assert len(docbin_workers) == 2 and _ended(docbin_workers)
    alone = _files(tmp_path / "alone")
    assert len(alone) == 12 and _files(tmp_path / "one") == alone == _files(tmp_path / "two")


def test_a_record_rejected_in_a_worker_fails_the_export_and_leaves_nothing(
    tmp_path: Path, docbin_workers: list[Workers]
) -> None:
    bad = DocumentRecord(text="Xi à Pékin.", spans=[SpanRecord(5, 12, "LOC")])
    writer = spacy_docbin.Writer(tmp_path / "out", dev_fraction=0.0, shard_size=1, workers=1)
    with pytest.raises(FormatError, match="outside the text"), writer:
        for record in [*_records(3), bad, *_records(3)]:
            writer.write(record)
    assert not (tmp_path / "out").exists()
    assert len(docbin_workers) == 1 and _ended(docbin_workers)


def test_a_worker_that_dies_fails_the_export(tmp_path: Path, docbin_workers: list[Workers]) -> None:
    writer = spacy_docbin.Writer(tmp_path / "out", dev_fraction=0.0, shard_size=1, workers=1)
    with pytest.raises(WorkerError, match="stopped"), writer:
        for number, record in enumerate(_records(40)):
            writer.write(record)
            if number == 1:
                docbin_workers[0]._workers[0].process.kill()
    assert not (tmp_path / "out").exists() and _ended(docbin_workers)


def test_without_workers_the_export_encodes_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("no process for you")

    monkeypatch.setattr(child.subprocess, "Popen", refuse)
    with spacy_docbin.Writer(tmp_path / "out", shard_size=2) as writer:
        for record in _records(7):
            writer.write(record)
    assert writer.count == 7 and len(_files(tmp_path / "out")) == 4  # 4 shards
    with pytest.raises(WorkerError, match="no process for you"):
        Workers(1, (), {})


def test_a_meta_integer_beyond_64_bits_is_encoded_in_the_export(
    tmp_path: Path, docbin_workers: list[Workers]
) -> None:
    huge = sample()
    huge.meta["big"] = 2**70  # msgpack cannot carry it to a worker, nor into user_data
    writer = spacy_docbin.Writer(tmp_path / "out", shard_size=1, workers=1)
    with pytest.raises(OverflowError), writer:
        for record in [*_records(3), huge]:
            writer.write(record)
    assert not (tmp_path / "out").exists() and _ended(docbin_workers)


def test_a_cancelled_export_stops_its_workers(
    tmp_path: Path, store: Store, docbin_workers: list[Workers]
) -> None:
    project = store.ensure_project("p")
    samples = [sample() for _ in range(600)]  # _hard()'s event role is not in the schema
    for number, record in enumerate(samples):
        record.text += f" Dépêche {number}."
    imported = run(import_file(store, project.id, _write(tmp_path / "in.jsonl", samples)))
    assert imported.added == 600, imported.problems[:1]
    out = tmp_path / "out"
    job = export(store, project.id, out, fmt="spacy", source="alice", shard_size=10, workers=1)
    next(job)  # the first page is written: the workers have started
    assert len(docbin_workers) == 1 and docbin_workers[0]._workers
    job.close()
    assert _ended(docbin_workers) and not out.exists()
    report = run(export(store, project.id, out, fmt="spacy", source="alice", workers=1))
    assert report.documents == 600 and _ended(docbin_workers)


def test_the_worker_module_runs_alone() -> None:
    # what Workers starts: it ends quietly on an empty input
    done = subprocess.run(
        [docbin_workers.sys.executable, "-m", "models.formats.docbin_workers"],
        input=b"",
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, b"")
