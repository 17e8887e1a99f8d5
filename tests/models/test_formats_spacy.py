"""spaCy DocBin: ents/cats/spans mapping, split, overlaps, config that trains."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import tracemalloc
import zlib
from pathlib import Path
from typing import Any

import pytest
import srsly
from hypothesis import given

from models.formats import spacy_docbin
from models.formats.common import split_overlapping
from models.records import (
    ArgumentRecord,
    DocumentRecord,
    EventRecord,
    Problem,
    SpanRecord,
    StanceRecord,
)
from tests.conftest import CORPUS
from tests.models.test_formats_roundtrip import records, sample


def _docs(path: Path) -> list[Any]:
    from spacy.tokens import DocBin
    from spacy.vocab import Vocab

    return [
        doc
        for file in spacy_docbin.shard_files(path)
        for doc in DocBin().from_disk(file).get_docs(Vocab())
    ]


def test_spacy_docbin_maps_entities_stance_and_events(tmp_path: Path) -> None:
    record = sample()
    record.spans.append(SpanRecord(15, 30, "MISC"))  # overlaps Poutine and Pékin
    record.spans.append(SpanRecord(26, 28, "LOC"))  # inside a token
    values = ("favorable", "neutre", "defavorable")
    with spacy_docbin.Writer(tmp_path, dev_fraction=0.0, stance_values=values) as writer:
        writer.write(record)
    assert writer.split_counts == {"train": 1, "dev": 0} and writer.overlapping == 3
    (doc,) = _docs(tmp_path / "train.spacy")
    assert doc.text == record.text
    assert [(e.text, e.label_) for e in doc.ents][:2] == [
        ("Xi", "PER"),
        ("Poutine à Pékin", "MISC"),
    ]
    assert len(doc.spans["sc"]) == 3
    assert doc.cats["stance:RUSSIE=favorable"] == 1.0
    assert doc.cats["stance:RUSSIE=neutre"] == 0.0
    assert "stance:UKRAINE=neutre" not in doc.cats
    assert [(s.text, s.label_) for s in doc.spans["events"]] == [("rencontre", "RENCONTRE_SOMMET")]
    (back,) = spacy_docbin.read(tmp_path)
    assert isinstance(back, DocumentRecord)
    assert sorted(back.spans, key=lambda s: (s.start, s.end)) == sorted(
        record.spans, key=lambda s: (s.start, s.end)
    )


# newlines, a double space, a tab, astral characters, entities that begin or end inside a
# word or on a space, adjacent entities, an event trigger inside an entity
HARD = "Xi\tJinping 😀🇷🇺 a reçu  Poutine\n\nà Pékin-Ouest ; l’ONU 👍🏽 approuve. "


def _hard() -> DocumentRecord:
    def at(word: str, start: int = 0, end: int | None = None) -> tuple[int, int]:
        offset = HARD.index(word)
        return offset + start, offset + (len(word) if end is None else end)

    return DocumentRecord(
        text=HARD,
        title="Difficile",
        meta={"source": "test"},
        spans=[
            SpanRecord(*at("Xi\tJinping"), "PER"),
            SpanRecord(*at("Jinping 😀", 3, 9), "MISC"),  # "ping 😀": mid-word, overlapping
            SpanRecord(*at("  Poutine", 1), "PER"),  # " Poutine": begins on a space
            SpanRecord(*at("Pékin-Ouest", 0, 5), "LOC"),  # "Pékin" of "Pékin-Ouest"
            SpanRecord(*at("Pékin-Ouest", 5), "LOC"),  # "-Ouest": adjacent to it
            SpanRecord(*at("l’ONU 👍🏽", 2), "ORG"),  # "ONU 👍🏽"
            SpanRecord(*at("approuve. "), "MISC"),  # ends with the text's last space
        ],
        stance=[StanceRecord("RUSSIE", "favorable", ((0, 10),))],
        events=[
            EventRecord("RENCONTRE_SOMMET", at("reçu", 1, 3), (ArgumentRecord("hôte", 0, 10),))
        ],
        external_id="hard-1",
    )


def _payload(path: Path) -> dict[str, Any]:
    message: dict[str, Any] = srsly.msgpack_loads(zlib.decompress(path.read_bytes()))
    return message


def _check_docs_match_records(out: Path, written: list[DocumentRecord]) -> None:
    """spaCy's DocBin reads the export into Docs that hold the records' annotations, and
    writes these Docs back in the export's bytes (but the norms spaCy adds to strings)."""
    from spacy.tokens import DocBin
    from spacy.vocab import Vocab

    files = spacy_docbin.shard_files(out / "train.spacy")
    docs = [doc for file in files for doc in DocBin().from_disk(file).get_docs(Vocab())]
    assert len(docs) == len(written)
    for doc, record in zip(docs, written, strict=True):
        kept, left = split_overlapping(record.spans)
        assert doc.text == record.text
        assert [(e.start_char, e.end_char, e.label_) for e in doc.ents] == [
            (s.start, s.end, s.label) for s in kept
        ]
        assert [(s.start_char, s.end_char, s.label_) for s in doc.spans.get("sc", [])] == [
            (s.start, s.end, s.label) for s in left
        ]
        assert [(s.start_char, s.end_char, s.label_) for s in doc.spans.get("events", [])] == [
            (*e.trigger, e.type) for e in record.events
        ]
        assert doc.cats == {spacy_docbin.category(s.target, s.value): 1.0 for s in record.stance}
        back = spacy_docbin.record_of(doc)  # what user_data holds
        assert (back.title, back.meta, back.external_id, back.annotator, back.status) == (
            record.title,
            record.meta,
            record.external_id,
            record.annotator,
            record.status,
        )
        assert [e.args for e in back.events] == [e.args for e in record.events]
        assert [s.evidence for s in back.stance] == [s.evidence for s in record.stance]
    again = DocBin(attrs=spacy_docbin.ATTRS, store_user_data=True, docs=docs).to_bytes()
    ours, theirs = _payload(files[0]), srsly.msgpack_loads(zlib.decompress(again))
    assert list(ours) == list(theirs)
    for key in ours:
        if key != "strings":
            assert ours[key] == theirs[key], key
    norms = {token.norm_ for doc in docs for token in doc}
    assert set(ours["strings"]) <= set(theirs["strings"]) <= set(ours["strings"]) | norms


def test_spacy_docbin_is_what_spacy_reads_and_writes(tmp_path: Path) -> None:
    written = [_hard(), sample(), DocumentRecord(text=""), DocumentRecord(text="  ")]
    with spacy_docbin.Writer(tmp_path, dev_fraction=0.0) as writer:
        for record in written:
            writer.write(record)
    assert writer.overlapping == 1
    _check_docs_match_records(tmp_path, written)
    (doc, *_) = _docs(tmp_path / "train.spacy")
    assert [(e.text, e.label_) for e in doc.ents][1:4] == [
        (" Poutine", "PER"),
        ("Pékin", "LOC"),
        ("-Ouest", "LOC"),
    ]


@given(record=records())
def test_spacy_docbin_random_records_are_what_spacy_reads_and_writes(
    record: DocumentRecord,
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        with spacy_docbin.Writer(Path(directory), dev_fraction=0.0) as writer:
            writer.write(record)
        _check_docs_match_records(Path(directory), [record])


def test_spacy_docbin_tokens_split_at_entity_edges_only_where_needed(tmp_path: Path) -> None:
    with spacy_docbin.Writer(tmp_path, dev_fraction=0.0) as writer:
        writer.write(_hard())
        writer.write(DocumentRecord(text=HARD))
    annotated, plain = _docs(tmp_path / "train.spacy")
    assert [(t.text, t.whitespace_) for t in plain] == [
        ("Xi", ""),
        ("\t", ""),
        ("Jinping", " "),
        ("😀", ""),
        ("🇷", ""),
        ("🇺", " "),
        ("a", " "),
        ("reçu", " "),
        (" ", ""),
        ("Poutine", ""),
        ("\n\n", ""),
        ("à", " "),
        ("Pékin-Ouest", " "),
        (";", " "),
        ("l’", ""),
        ("ONU", " "),
        ("👍", ""),
        ("🏽", " "),
        ("approuve", ""),
        (".", " "),
    ]
    split = {"Jin", "ping", "Pékin", "-Ouest", "r", "eç", "u"}
    assert split <= {t.text for t in annotated} and not split & {t.text for t in plain}
    assert annotated[-1].text == " "  # an entity ends with the text's last space


def test_spacy_docbin_refuses_a_span_outside_its_text(tmp_path: Path) -> None:
    record = DocumentRecord(text="Xi à Pékin.", spans=[SpanRecord(5, 12, "LOC")])
    writer = spacy_docbin.Writer(tmp_path / "out", dev_fraction=0.0)
    with pytest.raises(ValueError, match="outside the text"), writer:
        writer.write(DocumentRecord(text="Poutine", spans=[SpanRecord(0, 7, "PER")]))
        writer.write(record)
    assert not (tmp_path / "out").exists()


def test_spacy_docbin_split_is_deterministic_and_order_free(tmp_path: Path) -> None:
    texts = [f"Document {n} sur la Chine." for n in range(40)]
    assert [spacy_docbin.in_dev(t, 0.25, 3) for t in texts] == [
        spacy_docbin.in_dev(t, 0.25, 3) for t in texts
    ]
    dev = sum(spacy_docbin.in_dev(t, 0.25, 3) for t in texts)
    assert 0 < dev < 40
    assert [spacy_docbin.in_dev(t, 0.25, 3) for t in texts] != [
        spacy_docbin.in_dev(t, 0.25, 4) for t in texts
    ]
    assert not any(spacy_docbin.in_dev(t, 0.0, 3) for t in texts)


def test_spacy_docbin_bad_file_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "x.spacy"
    path.write_bytes(b"not a docbin")
    (problem,) = spacy_docbin.read(path)
    assert isinstance(problem, Problem) and problem.source == str(path)


def test_spacy_docbin_writes_each_split_as_a_folder_of_shards(tmp_path: Path) -> None:
    records = [
        DocumentRecord(text=f"Xi {n} à Pékin.", spans=[SpanRecord(0, 2, "PER")]) for n in range(5)
    ]
    with spacy_docbin.Writer(tmp_path, dev_fraction=0.0, shard_size=2) as writer:
        for record in records:
            writer.write(record)
    assert sorted(p.name for p in (tmp_path / "train.spacy").iterdir()) == [
        "0000.spacy",
        "0001.spacy",
        "0002.spacy",
    ]
    assert [len(_docs(f)) for f in spacy_docbin.shard_files(tmp_path / "train.spacy")] == [2, 2, 1]
    assert [p.name for p in (tmp_path / "dev.spacy").iterdir()] == ["0000.spacy"]  # empty
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dev.spacy", "train.spacy"]
    back = list(spacy_docbin.read(tmp_path))
    assert [(r.text, r.spans) for r in back if isinstance(r, DocumentRecord)] == [
        (r.text, r.spans) for r in records
    ]
    assert [r.text for r in spacy_docbin.read(tmp_path / "train.spacy" / "0002.spacy")] == [
        records[4].text
    ]


def test_spacy_docbin_replaces_an_older_export_and_leaves_nothing_on_failure(
    tmp_path: Path,
) -> None:
    (tmp_path / "train.spacy").write_bytes(b"an older single-file export")
    (tmp_path / "dev.spacy").mkdir()
    (tmp_path / "dev.spacy" / "0007.spacy").write_bytes(b"a stale shard")
    with spacy_docbin.Writer(tmp_path, dev_fraction=0.0) as writer:
        writer.write(sample())
    assert [len(_docs(tmp_path / name)) for name in ("train.spacy", "dev.spacy")] == [1, 0]
    with pytest.raises(RuntimeError), spacy_docbin.Writer(tmp_path, dev_fraction=1.0) as writer:
        writer.write(sample())
        raise RuntimeError("cancelled")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dev.spacy", "train.spacy"]
    assert [len(_docs(tmp_path / name)) for name in ("train.spacy", "dev.spacy")] == [1, 0]
    with pytest.raises(RuntimeError), spacy_docbin.Writer(tmp_path / "new") as writer:
        writer.write(sample())
        raise RuntimeError("cancelled")
    assert not (tmp_path / "new").exists()


def _peak_bytes(out: Path, documents: int) -> int:
    record = sample()
    tracemalloc.start()
    with spacy_docbin.Writer(out, dev_fraction=0.0, shard_size=10) as writer:
        for _ in range(documents):
            writer.write(record)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_spacy_docbin_memory_stays_flat_beyond_a_shard(tmp_path: Path) -> None:
    _peak_bytes(tmp_path / "warm", 10)  # spaCy's imports and the French vocab
    # 10 shards of 10: more than a worker holds (docbin_workers.DEPTH), sent or queued
    small, large = _peak_bytes(tmp_path / "a", 100), _peak_bytes(tmp_path / "b", 1000)
    assert large < 1.5 * small, (small, large)


def test_spacy_docbin_config_trains_on_the_sample_corpus(tmp_path: Path) -> None:
    with spacy_docbin.Writer(tmp_path, dev_fraction=0.4, seed=1) as writer:
        for path in sorted(CORPUS.glob("*.txt")):
            text = path.read_text(encoding="utf-8")
            names = re.finditer(r"Poutine|Xi Jinping|Pékin|Chine|Russie", text)
            meets = re.finditer(r"rencontr\w+", text)
            writer.write(
                DocumentRecord(
                    text=text,
                    spans=[
                        SpanRecord(*m.span(), "PER" if "i" in m[0][:2] else "LOC") for m in names
                    ],
                    stance=[StanceRecord("RUSSIE", "favorable")],
                    events=[EventRecord("RENCONTRE_SOMMET", m.span()) for m in meets],
                )
            )
    assert writer.has_ner and writer.has_cats and writer.has_events
    config = spacy_docbin.write_config(tmp_path, writer.has_ner, writer.has_cats, writer.has_events)
    text = config.read_text(encoding="utf-8")
    assert 'lang = "fr"' in text and 'spans_key = "events"' in text
    command = [sys.executable, "-m", "spacy", "train", "config.cfg"]
    command += ["--paths.train", "train.spacy", "--paths.dev", "dev.spacy"]
    command += ["--training.max_steps", "2", "--training.eval_frequency", "1"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "spancat" in done.stdout and "textcat_multilabel" in done.stdout
