"""CoNLL IOB2: layout, reading back, spacy convert reading the same entities."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from models.formats import conll
from models.records import DocumentRecord, Problem, SpanRecord
from tests.conftest import ROOT
from tests.models.test_formats_roundtrip import sample

SECOND = DocumentRecord(
    text="Vladimir Poutine a reçu Xi Jinping à Moscou. Le Kremlin a signé.",
    spans=[SpanRecord(0, 16, "PER"), SpanRecord(24, 34, "PER"), SpanRecord(48, 55, "ORG")],
)


def _write(path: Path, *records: DocumentRecord) -> conll.Writer:
    with conll.Writer(path) as writer:
        for record in records:
            writer.write(record)
    return writer


def test_conll_layout_is_iob2_with_docstart_and_sentences(tmp_path: Path) -> None:
    path = tmp_path / "t.conll"
    _write(path, SECOND)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[:4] == ["-DOCSTART- -X- O O", "", "Vladimir B-PER", "Poutine I-PER"]
    assert lines[lines.index(". O") + 1] == ""  # a blank line between the two sentences
    assert "Kremlin B-ORG" in lines and "Le O" in lines and "Jinping I-PER" in lines


def test_conll_read_rebuilds_text_and_entities(tmp_path: Path) -> None:
    path = tmp_path / "t.conll"
    writer = _write(path, sample(), SECOND)
    assert writer.count == 2 and writer.overlapping == 0
    first, second = conll.read(path)
    assert isinstance(first, DocumentRecord) and isinstance(second, DocumentRecord)
    assert [first.text[s.start : s.end] for s in first.spans] == [
        "Xi",
        "Poutine",
        "Pékin",
        "Chine",
        "ONU",
    ]
    assert [(second.text[s.start : s.end], s.label) for s in second.spans] == [
        ("Vladimir Poutine", "PER"),
        ("Xi Jinping", "PER"),
        ("Kremlin", "ORG"),
    ]
    assert first.line == 2 and second.line > first.line


def test_conll_overlaps_are_counted_and_longest_kept(tmp_path: Path) -> None:
    record = DocumentRecord(
        text=SECOND.text, spans=[SpanRecord(0, 16, "PER"), SpanRecord(9, 16, "MISC")]
    )
    writer = _write(tmp_path / "t.conll", record)
    assert writer.overlapping == 1
    (back,) = conll.read(tmp_path / "t.conll")
    assert isinstance(back, DocumentRecord) and [s.label for s in back.spans] == ["PER"]


def test_conll_bad_tags_are_problems_with_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.conll"
    path.write_text(
        "-DOCSTART- -X- O O\n\nXi B-PER\nva X-LOC\n\n-DOCSTART- -X- O O\n\nPékin B-LOC\nseul\n"
        "-DOCSTART- -X- O O\n\nMoscou B-LOC\n",
        encoding="utf-8",
    )
    first, second, third = conll.read(path)
    assert isinstance(first, Problem) and first.line == 4 and first.source == str(path)
    assert isinstance(second, Problem) and second.line == 9
    assert isinstance(third, DocumentRecord) and third.text == "Moscou"


def test_conll_spacy_convert_reads_the_same_entities(tmp_path: Path) -> None:
    path = tmp_path / "t.conll"
    records = [sample(), SECOND]
    _write(path, *records)
    out = tmp_path / "out"
    out.mkdir()
    subprocess.run(
        [sys.executable, "-m", "spacy", "convert", str(path), str(out), "--converter", "ner"],
        check=True,
        capture_output=True,
    )
    from spacy.tokens import DocBin
    from spacy.vocab import Vocab

    docs = list(DocBin().from_disk(out / "t.spacy").get_docs(Vocab()))
    assert len(docs) == len(records)
    for doc, record in zip(docs, records, strict=True):
        want = [(" ".join(record.text[s.start : s.end].split()), s.label) for s in record.spans]
        assert [(ent.text, ent.label_) for ent in doc.ents] == want


def test_conll_sample_file_reads() -> None:
    records = list(conll.read(ROOT / "resources" / "samples" / "conll.conll"))
    assert [type(r) for r in records] == [DocumentRecord, DocumentRecord]
