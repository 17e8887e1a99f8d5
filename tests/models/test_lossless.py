"""Lossless through the store: records imported as annotator A, exported with each format,
the file imported as annotator B: layers A and B hold the same annotations, for everything
the format carries (``models.transfer.CARRIES``). Property-based over texts with emoji,
combining marks, newlines and runs of spaces. CoNLL rebuilds the text (one space between
tokens), so for it only the entities' words and labels are compared."""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from models.formats import jsonl
from models.jobs import run
from models.labels import load_default
from models.layer_io import layer_record
from models.records import ArgumentRecord, DocumentRecord, EventRecord, SpanRecord, StanceRecord
from models.schema import Annotator, Document, Layer
from models.store import Store
from models.transfer import CARRIES, export, import_file

SCHEMA = load_default()
# pieces are atomic: an offset between two pieces never cuts a character
PIECES = [
    "Poutine",
    "Xi",
    "Pékin",
    "Pe\u0301kin",  # e + combining acute
    "c\u0327a",  # c + combining cedilla
    "l’",
    "L'",
    "ONU",
    "10",
    ".",
    ",",
    "-",
    " ",
    "  ",
    "\n",
    "\n\n",
    "\t",
    "\u00a0",
    "😀",
    "🇷🇺",
    "👍🏽",
    "👩\u200d👩\u200d👧",
]
FILES = {
    "jsonl": "out.jsonl",
    "spacy": "out",
    "prodigy": "out.jsonl",
    "doccano": "out.jsonl",
    "labelstudio": "out.json",
    "conll": "out.conll",
}
_projects = itertools.count()


@st.composite
def records(draw: Callable[..., Any]) -> DocumentRecord:
    pieces = draw(st.lists(st.sampled_from(PIECES), min_size=1, max_size=24))
    text = "".join(["Xi ", *pieces])  # never blank
    edges = list(itertools.accumulate([0, 3, *(len(piece) for piece in pieces)]))
    ranges = st.tuples(st.sampled_from(edges), st.sampled_from(edges)).filter(
        lambda pair: pair[0] < pair[1]
    )
    bounds = draw(st.lists(st.sampled_from(edges), unique=True, max_size=8).map(sorted))
    spans = [
        SpanRecord(start, end, draw(st.sampled_from(SCHEMA.entity_ids)))
        for start, end in zip(bounds[::2], bounds[1::2], strict=False)
    ]
    targets = draw(st.lists(st.sampled_from(SCHEMA.stance_targets), unique=True, max_size=3))
    values = st.sampled_from([value.id for value in SCHEMA.stance_values])
    stance = [
        StanceRecord(target.id, draw(values), tuple(draw(st.lists(ranges, max_size=2))))
        for target in targets
    ]
    events = []
    for _ in range(draw(st.integers(0, 2))):
        kind = draw(st.sampled_from(SCHEMA.events))
        args = []
        if spans and kind.roles:
            chosen = draw(st.lists(st.sampled_from(spans), max_size=2))
            roles = st.sampled_from(kind.roles)
            args = [ArgumentRecord(draw(roles), span.start, span.end) for span in chosen]
        events.append(EventRecord(kind.id, draw(ranges), tuple(args)))
    return DocumentRecord(
        text=text, spans=spans, stance=stance, events=events, title="t", status="done"
    )


def _layer(store: Store, project_id: int, annotator: str) -> DocumentRecord:
    with store.reading() as session:
        document_id, layer_id = session.execute(
            select(Document.id, Layer.id)
            .join(Layer, Layer.document_id == Document.id)
            .join(Annotator, Annotator.id == Layer.annotator_id)
            .where(Document.project_id == project_id, Annotator.name == annotator)
        ).one()
        return layer_record(session, document_id, layer_id)


def _words(text: str, spans: list[SpanRecord]) -> list[tuple[str, str]]:
    """Entity texts without whitespace (CoNLL puts a space between tokens, and spaCy splits a
    flag emoji in two) and labels; whitespace-only entities left out (CoNLL cannot hold them)."""
    found = [("".join(text[s.start : s.end].split()), s.label) for s in spans]
    return [(words, label) for words, label in found if words]


def _expected(record: DocumentRecord, carries: frozenset[str]) -> dict[str, Any]:
    stance = sorted(
        (s.target, s.value, s.evidence if "evidence" in carries else ()) for s in record.stance
    )
    return {
        "spans": record.spans,
        "stance": stance if "stance" in carries else [],
        "events": record.events if "events" in carries else [],
        "status": record.status,
    }


@pytest.mark.parametrize("fmt", sorted(FILES))
@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(record=records())
def test_lossless_export_then_import_under_another_annotator(
    store: Store, fmt: str, record: DocumentRecord
) -> None:
    project = store.ensure_project(f"lossless-{next(_projects)}")
    with tempfile.TemporaryDirectory() as directory:
        source = Path(directory) / "in.jsonl"
        with jsonl.Writer(source) as writer:
            writer.write(record)
        imported = run(import_file(store, project.id, source, annotator="A"))
        assert imported.problems == [] and imported.layers == 1
        a = _layer(store, project.id, "A")
        out = Path(directory) / FILES[fmt]
        exported = run(export(store, project.id, out, fmt=fmt, source="A", dev_fraction=0.5))
        assert exported.annotated == 1
        again = run(import_file(store, project.id, out, fmt=fmt, annotator="B"))
    assert again.problems == []
    if fmt == "conll":  # a document without entities is a plain text there: no layer
        assert again.layers == (1 if _words(a.text, a.spans) else 0)
        if again.layers:
            b = _layer(store, project.id, "B")
            assert "".join(b.text.split()) == "".join(a.text.split())
            assert _words(b.text, b.spans) == _words(a.text, a.spans)
        return
    assert again.layers == 1
    b = _layer(store, project.id, "B")
    assert (again.added, again.duplicates) == (0, 1)  # the exact text: the same document
    carries = CARRIES[fmt]
    got = _expected(b, carries)
    assert got == _expected(a, carries)
    assert got["spans"] == sorted(record.spans, key=lambda s: (s.start, s.end, s.label))


def test_lossless_format_table_matches_the_formats() -> None:
    """The README table (CARRIES) names every format of the registry."""
    from models.formats import FORMATS

    assert set(CARRIES) == set(FORMATS) == set(FILES)
    assert all("entities" in carried for carried in CARRIES.values())
    assert {name for name, carried in CARRIES.items() if "text" not in carried} == {"conll"}
