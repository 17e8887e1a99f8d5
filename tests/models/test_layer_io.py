"""layer_io: the checks run on every imported record, and bulk layer writes on both backends."""

from __future__ import annotations

import pytest

from models.labels import load_default
from models.layer_io import existing_layers, layer_record, record_problems, write_layers
from models.layers import LayerInfo
from models.records import DocumentRecord, EventRecord, SpanRecord, StanceRecord
from models.store import ProjectInfo, Store


@pytest.mark.parametrize(
    ("text", "span", "reason"),
    [
        ("e\u0301té", (1, 3), "cuts a character"),  # starts on a combining accent
        ("Pe\u0301kin", (0, 2), "cuts a character"),  # ends before one
        ("👩\u200d👩", (1, 3), "cuts a character"),  # starts on a zero width joiner
        ("👍\U0001f3fd ok", (0, 1), "cuts a character"),  # ends before a skin tone
        ("abc", (2, 5), "outside the text"),
        ("abc", (2, 2), "outside the text"),
    ],
)
def test_layer_io_span_that_cuts_a_character_or_leaves_the_text_is_refused(
    text: str, span: tuple[int, int], reason: str
) -> None:
    record = DocumentRecord(text=text, spans=[SpanRecord(*span, "PER")])
    [problem] = record_problems(record, load_default(), new_labels=False)
    assert reason in problem and f"span PER [{span[0]}, {span[1]})" in problem


def test_layer_io_accented_and_typographic_edges_pass_and_bad_text_is_named() -> None:
    text = "« Élysée » – l’accord 🇫🇷 signé"
    spans = [SpanRecord(2, 8, "LOC"), SpanRecord(11, 21, "MISC"), SpanRecord(22, 24, "LOC")]
    assert (
        record_problems(DocumentRecord(text, spans=spans), load_default(), new_labels=False) == []
    )
    surrogate = DocumentRecord(text="ab\ud800c", spans=[SpanRecord(0, 1, "PER")])
    assert record_problems(surrogate, load_default(), new_labels=False) == [
        "the text holds an unpaired surrogate at offset 2"
    ]
    unknown = DocumentRecord(text="abc", spans=[SpanRecord(0, 1, "GPE")])
    assert record_problems(unknown, load_default(), new_labels=True) == []
    assert (
        "unknown entity label 'GPE'"
        in record_problems(unknown, load_default(), new_labels=False)[0]
    )


def test_layer_io_write_layers_creates_new_layers_and_replaces_existing_ones(
    store: Store, project: ProjectInfo, doc_id: int, layer: LayerInfo
) -> None:
    (other,) = store.add_documents(project.id, [DocumentRecord(text="Xi à Pékin.")])
    assert other is not None
    bob = store.annotator_id("bob")
    text = store.document(doc_id).text
    xi = text.index("Xi")
    mine = DocumentRecord(
        text,
        spans=[SpanRecord(xi, xi + 10, "MISC"), SpanRecord(xi, xi + 10, "PER")],
        stance=[StanceRecord("CHINE", "favorable", ((xi, xi + 2),))],
        events=[EventRecord("RENCONTRE_SOMMET", (0, 8), ())],
        status="done",
    )
    theirs = DocumentRecord("Xi à Pékin.", spans=[SpanRecord(5, 10, "LOC")])
    with store.transaction() as session:
        created = write_layers(session, {(doc_id, layer.annotator_id): mine, (other, bob): theirs})
        found = existing_layers(session, [(doc_id, layer.annotator_id), (other, bob), (other, 99)])
    assert created == [found[other, bob]] and found[doc_id, layer.annotator_id] == layer.id
    with store.reading() as session:
        replaced = layer_record(session, doc_id, layer.id)
        new = layer_record(session, other, created[0])
    assert (replaced.spans, replaced.stance, replaced.events) == (
        mine.spans,
        mine.stance,
        mine.events,
    )
    assert (replaced.status, new.status, new.spans) == ("done", "in_progress", theirs.spans)
