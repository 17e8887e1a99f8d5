"""Correction memory: counts per form, decisions, PhraseMatcher additions, reasons."""

from __future__ import annotations

import pytest

from models.memory import SUPPRESS, Memory, form_of

TEXT = "Xi a reçu Poutine. Previous slide. Le Kremlin et Xi."


def _at(text: str, surface: str, label: str, nth: int = 0) -> tuple[int, int, str]:
    start = -1
    for _ in range(nth + 1):
        start = text.index(surface, start + 1)
    return start, start + len(surface), label


def _alice() -> Memory:
    """Alice kept "Xi" as PER (the model said MISC), deleted "Previous slide", relabelled
    "Kremlin" ORG and added the second "Xi" the model missed."""
    memory = Memory()
    analyst = [
        _at(TEXT, "Xi", "PER"),
        _at(TEXT, "Poutine", "PER"),
        _at(TEXT, "Kremlin", "ORG"),
        _at(TEXT, "Xi", "PER", 1),
    ]
    model = [
        _at(TEXT, "Xi", "MISC"),
        _at(TEXT, "Poutine", "PER"),
        _at(TEXT, "Previous slide", "MISC"),
        _at(TEXT, "Kremlin", "LOC"),
    ]
    memory.learn(TEXT, analyst, model, "alice")
    return memory


def test_memory_counts_labels_kept_and_deleted() -> None:
    memory = _alice()
    xi = memory.forms["Xi"]
    assert (dict(xi.labels), xi.kept, xi.deleted, dict(xi.annotators)) == (
        {"PER": 2},
        1,
        0,
        {"alice": 2},
    )
    slide = memory.forms["Previous slide"]
    assert (slide.labels.total(), slide.kept, slide.deleted) == (0, 0, 1)
    assert memory.decision("Previous slide") == SUPPRESS
    assert memory.decision("Kremlin") == "ORG"


def test_memory_forms_are_normalised() -> None:
    assert form_of("l’Ukraine\u00a0 libre") == "l'Ukraine libre"
    memory = Memory()
    memory.learn("Golfe d’Oman", [(0, 12, "LOC")], [], "bob")
    assert memory.decision("Golfe d'Oman") == "LOC"


def test_memory_relabels_suppresses_and_adds_missed_mentions() -> None:
    memory = _alice()
    text = "Previous slide. Xi et Poutine au Kremlin ; Xiao n'est pas Xi."
    model = [
        _at(text, "Previous slide", "MISC"),
        _at(text, "Xi", "MISC"),
        _at(text, "Kremlin", "LOC"),
    ]
    placed = memory.apply(text, model)
    assert [(text[s:e], label, origin) for s, e, label, origin in placed] == [
        ("Xi", "PER", "pattern"),
        ("Poutine", "PER", "pattern"),
        ("Kremlin", "ORG", "pattern"),
        ("Xi", "PER", "pattern"),
    ]


def test_memory_keeps_model_spans_it_agrees_with_and_never_overlaps_them() -> None:
    memory = _alice()
    text = "Xi Jinping et Poutine."
    placed = memory.apply(text, [(0, 10, "PER"), (14, 21, "PER")])
    assert placed == [(0, 10, "PER", "model"), (14, 21, "PER", "model")]


def test_memory_leaves_ambiguous_forms_to_the_model() -> None:
    memory = Memory()
    text = "Washington et Washington et Washington"
    memory.learn(text, [(0, 10, "LOC"), (14, 24, "PER")], [], "alice")
    assert memory.decision("Washington") is None
    placed = memory.apply(text, [(28, 38, "ORG")])
    assert placed == [(28, 38, "ORG", "model")]
    assert memory.reason("Washington") == (
        "ambiguous: labelled LOC once (PER once) by alice, left to the model"
    )


def test_memory_keeps_a_form_kept_as_often_as_deleted() -> None:
    memory = Memory()
    text = "Voir Voir"
    memory.learn(text, [(0, 4, "MISC")], [(0, 4, "MISC"), (5, 9, "MISC")], "alice")
    assert memory.decision("Voir") == "MISC"
    memory.learn(text, [], [(0, 4, "MISC")], "bob")
    assert memory.decision("Voir") == SUPPRESS


def test_memory_reason_names_counts_and_annotators() -> None:
    memory = _alice()
    memory.learn("Xi", [(0, 2, "PER")], [], "bob")
    assert memory.reason("Xi") == "labelled PER 3 times by alice, bob"
    assert memory.reason("Previous slide") == "deleted once, labelled 0 times"
    assert memory.reason("Inconnu") is None


@pytest.mark.spacy_model
def test_memory_matches_on_the_pipeline_doc() -> None:
    from models.preannotate import load_pipeline

    memory = _alice()
    nlp = load_pipeline()
    text = "Xi et Poutine."
    doc = nlp(text)
    assert memory.apply(text, [], doc) == memory.apply(text, [])
    assert (0, 2, "PER", "pattern") in memory.apply(text, [], doc)
