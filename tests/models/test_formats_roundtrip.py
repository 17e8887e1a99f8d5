"""Write then read gives the same annotations, for every format on whatever it carries;
property-based over texts with emoji, combining marks, newlines and runs of spaces."""

from __future__ import annotations

import tempfile
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.formats import FORMATS, conll, doccano, labelstudio, prodigy, spacy_docbin
from models.formats.common import split_overlapping
from models.records import ArgumentRecord, DocumentRecord, EventRecord, SpanRecord, StanceRecord

TEXT = "Xi 😀 rencontre Poutine à Pékin.\n\nLa Chine e\u0301coute  l’ONU 👍🏽."


def sample() -> DocumentRecord:
    """One document with every kind of annotation, an emoji before the entities."""
    return DocumentRecord(
        text=TEXT,
        title="Sommet",
        meta={"source": "test", "date": "2024-05-16"},
        spans=[
            SpanRecord(0, 2, "PER"),
            SpanRecord(15, 22, "PER"),
            SpanRecord(25, 30, "LOC"),
            SpanRecord(36, 41, "LOC"),
            SpanRecord(53, 56, "ORG"),
        ],
        stance=[StanceRecord("RUSSIE", "favorable", ((0, 31),)), StanceRecord("CHINE", "neutre")],
        events=[
            EventRecord(
                "RENCONTRE_SOMMET",
                (5, 14),
                (ArgumentRecord("participant", 0, 2), ArgumentRecord("lieu", 25, 30)),
            )
        ],
        annotator="alice",
        status="done",
        external_id="doc-1",
    )


def key(record: DocumentRecord) -> dict[str, Any]:
    """What a format must give back, spans in text order."""
    return {
        "text": record.text,
        "spans": sorted((s.start, s.end, s.label) for s in record.spans),
        "stance": sorted((s.target, s.value, s.evidence) for s in record.stance),
        "events": [(e.type, e.trigger, e.args) for e in record.events],
        "meta": (record.title, record.meta, record.external_id, record.annotator, record.status),
    }


def roundtrip(module: Any, record: DocumentRecord, directory: Path, name: str) -> DocumentRecord:
    path = directory / name
    with module.Writer(path) as writer:
        writer.write(record)
    items = list(module.read(path))
    assert len(items) == 1, items
    assert isinstance(items[0], DocumentRecord), items
    return items[0]


def test_formats_roundtrip_registry_names_every_module() -> None:
    assert {"jsonl", "spacy", "prodigy", "doccano", "conll", "labelstudio"} <= set(FORMATS)
    for spec in FORMATS.values():
        module = spec.load()
        assert callable(module.read) and callable(module.Writer)


_CARRIED: dict[str, tuple[Any, str, tuple[str, ...]]] = {
    "spacy": (spacy_docbin, "out", ("spans", "stance", "events", "meta")),
    "prodigy": (prodigy, "t.jsonl", ("spans", "meta")),
    "doccano": (doccano, "t.jsonl", ("spans", "events", "meta")),
    "labelstudio": (labelstudio, "t.json", ("spans", "meta")),
}


@pytest.mark.parametrize("name", sorted(_CARRIED))
def test_formats_roundtrip_sample_keeps_what_the_format_carries(name: str, tmp_path: Path) -> None:
    module, file_name, fields = _CARRIED[name]
    back = key(roundtrip(module, sample(), tmp_path, file_name))
    want = key(sample())
    assert back["text"] == want["text"]
    for field in fields:
        assert back[field] == want[field], field


def test_formats_roundtrip_labelstudio_keeps_stance_values(tmp_path: Path) -> None:
    back = roundtrip(labelstudio, sample(), tmp_path, "t.json")
    assert [(s.target, s.value) for s in back.stance] == [
        ("RUSSIE", "favorable"),
        ("CHINE", "neutre"),
    ]


# ---- property-based ---------------------------------------------------------------------

_ALPHABET = st.sampled_from(
    [
        "a",
        "é",
        "Z",
        "'",
        "’",
        ".",
        ",",
        "-",
        " ",
        " ",
        "\n",
        "\t",
        "😀",
        "👍",
        "\u0301",
        "\u0327",
        "Poutine",
        "Xi",
        "l'",
        "Pékin",
        "10",
        "\u00a0",
    ]
)
_LABELS = st.sampled_from(["PER", "ORG", "LOC", "MISC"])


def _edges(text: str) -> list[int]:
    """Offsets that do not cut a character (no combining mark right after)."""
    return [i for i in range(len(text) + 1) if i == len(text) or not unicodedata.combining(text[i])]


@st.composite
def records(draw: Callable[..., Any]) -> DocumentRecord:
    text = "".join(draw(st.lists(_ALPHABET, min_size=1, max_size=30)))
    if not text.strip():
        text = "x" + text
    edges = _edges(text)
    pairs = st.tuples(st.sampled_from(edges), st.sampled_from(edges)).filter(lambda p: p[0] < p[1])
    spans = [
        SpanRecord(a, b, draw(_LABELS)) for a, b in draw(st.lists(pairs, max_size=5, unique=True))
    ]
    targets = draw(st.lists(st.sampled_from(["RUSSIE", "CHINE", "UKRAINE"]), unique=True))
    stance = [
        StanceRecord(t, draw(st.sampled_from(["favorable", "neutre", "defavorable"])))
        for t in targets
    ]
    events = [
        EventRecord(
            draw(st.sampled_from(["VISITE_OFFICIELLE", "SANCTIONS"])),
            trigger,
            tuple(ArgumentRecord("participant", *p) for p in draw(st.lists(pairs, max_size=2))),
        )
        for trigger in draw(st.lists(pairs, max_size=2))
    ]
    return DocumentRecord(text=text, spans=spans, stance=stance, events=events)


@pytest.mark.parametrize("name", sorted(_CARRIED))
@given(record=records())
def test_formats_roundtrip_random_texts_are_lossless(name: str, record: DocumentRecord) -> None:
    module, file_name, fields = _CARRIED[name]
    with tempfile.TemporaryDirectory() as directory:
        back = key(roundtrip(module, record, Path(directory), file_name))
    want = key(record)
    assert back["text"] == want["text"]
    for field in fields:
        assert back[field] == want[field], field


@given(record=records())
def test_formats_roundtrip_conll_keeps_entity_words(record: DocumentRecord) -> None:
    kept, _ = split_overlapping(record.spans)
    kept = [s for s in kept if record.text[s.start : s.end].split()]
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "t.conll"
        with conll.Writer(path) as writer:
            writer.write(record)
        (back,) = list(conll.read(path))
    assert isinstance(back, DocumentRecord)
    assert "".join(back.text.split()) == "".join(record.text.split())
    got = [("".join(back.text[s.start : s.end].split()), s.label) for s in back.spans]
    assert got == [("".join(record.text[s.start : s.end].split()), s.label) for s in kept]
