"""Event suggestions: trigger matching and argument rules on hand-made Docs, and the real
fr_core_news_sm on the first sample article."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from models.labels import LabelSchema, load_default
from models.normalise import normalise
from models.preannotate import load_pipeline
from models.records import EventRecord
from models.suggest import Suggester

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc


@pytest.fixture(scope="module")
def schema() -> LabelSchema:
    return load_default()


@pytest.fixture(scope="module")
def blank() -> Language:
    import spacy

    return spacy.blank("fr")


def _doc(nlp: Language, tokens: str) -> Doc:
    """A Doc from "text/lemma/POS/entity" tokens separated by spaces; "_" is no entity,
    "+" continues the previous entity, "|" starts a sentence, "\\n" is a line break."""
    from spacy.tokens import Doc

    words: list[str] = []
    lemmas: list[str] = []
    pos: list[str] = []
    ents: list[str] = []
    starts: list[bool | int | None] = []
    sentence_start = True
    for item in tokens.split():
        if item == "|":
            sentence_start = True
            continue
        text, lemma, tag, ent = item.replace("\\n", "\n").split("/")
        words.append(text)
        lemmas.append(lemma)
        pos.append(tag)
        ents.append("O" if ent == "_" else f"I-{ents[-1][2:]}" if ent == "+" else f"B-{ent}")
        starts.append(sentence_start)
        sentence_start = False
    return Doc(nlp.vocab, words=words, lemmas=lemmas, pos=pos, ents=ents, sent_starts=starts)


def _readable(doc: Doc, found: list[EventRecord]) -> list[tuple[str, str, list[tuple[str, str]]]]:
    text = doc.text
    return [
        (
            event.type,
            text[event.trigger[0] : event.trigger[1]],
            [(arg.role, text[arg.start : arg.end]) for arg in event.args],
        )
        for event in found
    ]


def test_suggest_visit_roles_in_schema_order_and_locative_place(
    blank: Language, schema: LabelSchema
) -> None:
    doc = _doc(
        blank,
        "La/le/DET/_ Russie/Russie/PROPN/LOC a/avoir/AUX/_ dit/dire/VERB/_ que/que/SCONJ/_ "
        "Vladimir/Vladimir/PROPN/PER Poutine/Poutine/PROPN/+ rencontrait/rencontrer/VERB/_ "
        "Xi/Xi/PROPN/PER à/à/ADP/_ Pékin/Pékin/PROPN/LOC lors/lors/ADV/_ de/de/ADP/_ "
        "son/son/DET/_ voyage/voyage/NOUN/_ chez/chez/ADP/_ Xi/Xi/PROPN/PER ././PUNCT/_",
    )
    assert _readable(doc, Suggester(blank, schema)(doc)) == [
        (
            "RENCONTRE_SOMMET",
            "rencontrait",
            [("participant", "Vladimir Poutine"), ("participant", "Xi"), ("lieu", "Pékin")],
        ),
        (
            "VISITE_OFFICIELLE",
            "voyage",
            [("visiteur", "Vladimir Poutine"), ("hote", "Xi"), ("lieu", "Pékin")],
        ),
    ]


def test_suggest_last_actor_role_takes_the_remaining_actors(
    blank: Language, schema: LabelSchema
) -> None:
    doc = _doc(
        blank,
        "L'/le/DET/_ UE/UE/PROPN/ORG sanctionne/sanctionner/VERB/_ Gazprom/Gazprom/PROPN/ORG "
        "et/et/CCONJ/_ Rosneft/Rosneft/PROPN/ORG en/en/ADP/_ Russie/Russie/PROPN/LOC ././PUNCT/_",
    )
    assert _readable(doc, Suggester(blank, schema)(doc)) == [
        (
            "SANCTIONS",
            "sanctionne",
            [("emetteur", "UE"), ("cible", "Gazprom"), ("cible", "Rosneft")],
        )
    ]


def test_suggest_arguments_stay_in_the_sentence_and_the_line(
    blank: Language, schema: LabelSchema
) -> None:
    doc = _doc(
        blank,
        "Sommet/Sommet/PROPN/_ à/à/ADP/_ Pékin/Pékin/PROPN/LOC \\n\\n/\\n\\n/SPACE/_ "
        "Xi/Xi/PROPN/PER parle/parler/VERB/_ ././PUNCT/_ | Le/le/DET/_ sommet/sommet/NOUN/_ "
        "réunit/réunir/VERB/_ Lula/Lula/PROPN/PER ././PUNCT/_ | "
        "Modi/Modi/PROPN/PER vient/venir/VERB/_",
    )
    assert _readable(doc, Suggester(blank, schema)(doc)) == [
        ("RENCONTRE_SOMMET", "Sommet", [("lieu", "Pékin")]),
        ("RENCONTRE_SOMMET", "sommet", [("participant", "Lula")]),
    ]


def test_suggest_multiword_triggers_with_auxiliaries_and_longest_match(
    blank: Language, schema: LabelSchema
) -> None:
    doc = _doc(
        blank,
        "Poutine/Poutine/PROPN/PER ne/ne/ADV/_ s'/se/PRON/_ est/être/AUX/_ pas/pas/ADV/_ "
        "rendu/rendre/VERB/_ à/à/ADP/_ Kiev/Kiev/PROPN/LOC ././PUNCT/_ | Le/le/DET/_ "
        "plan/plan/NOUN/_ de/de/ADP/_ paix/paix/NOUN/_ ././PUNCT/_ | Il/il/PRON/_ "
        "rend/rendre/VERB/_ visite/visite/NOUN/_ ././PUNCT/_",
    )
    found = _readable(doc, Suggester(blank, schema)(doc))
    assert found == [
        ("VISITE_OFFICIELLE", "s' est pas rendu", [("visiteur", "Poutine"), ("lieu", "Kiev")]),
        ("INITIATIVE_DE_PAIX", "plan de paix", []),
        ("VISITE_OFFICIELLE", "visite", []),
    ]


def test_suggest_inflected_trigger_matches_by_its_form(
    blank: Language, schema: LabelSchema
) -> None:
    # spaCy's lemma of "pourparlers" is "pourparler"; the schema lists the plural form
    doc = _doc(blank, "Les/le/DET/_ pourparlers/pourparler/NOUN/_ ././PUNCT/_")
    assert _readable(doc, Suggester(blank, schema)(doc)) == [
        ("RENCONTRE_SOMMET", "pourparlers", [])
    ]


def test_suggest_schema_without_triggers_proposes_nothing(blank: Language) -> None:
    schema = load_default()
    bare = LabelSchema(
        schema.name,
        schema.language,
        schema.entities,
        schema.stance_targets,
        schema.stance_values,
        (),
        schema.roles,
        schema.toml,
    )
    doc = _doc(blank, "Une/un/DET/_ visite/visite/NOUN/_ ././PUNCT/_")
    assert Suggester(blank, bare)(doc) == []


@pytest.fixture(scope="module")
def nlp_events() -> Iterator[Language]:
    yield load_pipeline(events=True)


@pytest.mark.spacy_model
def test_suggest_pipeline_runs_ner_before_the_sentencizer_without_parser(
    nlp_events: Language,
) -> None:
    names = nlp_events.pipe_names
    assert "parser" not in names and "senter" not in names
    assert names[-2:] == ["ner", "sentencizer"]
    assert {"tok2vec", "morphologizer", "attribute_ruler", "lemmatizer"} <= set(names)


@pytest.mark.spacy_model
def test_suggest_pipeline_finds_the_entities_of_the_ner_only_run(
    nlp_events: Language, corpus_dir: Path
) -> None:
    texts = [normalise(path.read_text("utf-8")) for path in sorted(corpus_dir.glob("*.txt"))]
    ner_only = load_pipeline()
    with_events = [
        [(e.start_char, e.end_char, e.label_) for e in d.ents] for d in nlp_events.pipe(texts)
    ]
    plain = [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in ner_only.pipe(texts)]
    assert with_events == plain
    assert sum(map(len, plain)) > 250


@pytest.mark.spacy_model
def test_suggest_sample_article_state_visit_and_summit(
    nlp_events: Language, schema: LabelSchema, sample_text: str
) -> None:
    doc = nlp_events(normalise(sample_text))
    found = _readable(doc, Suggester(nlp_events, schema)(doc))
    assert (
        "VISITE_OFFICIELLE",
        "voyage",
        [("visiteur", "Vladimir Poutine"), ("hote", "Xi Jinping"), ("lieu", "Pékin")],
    ) in found
    assert (
        "RENCONTRE_SOMMET",
        "rencontrait",
        [("participant", "Vladimir Poutine"), ("participant", "Xi Jinping"), ("lieu", "Pékin")],
    ) in found
    visits = [trigger for kind, trigger, _ in found if kind == "VISITE_OFFICIELLE"]
    assert "visite" in visits  # "La visite de deux jours…"
    # every argument is an entity of the document
    spans = {(e.start_char, e.end_char) for e in doc.ents}
    events = Suggester(nlp_events, schema)(doc)
    assert all((a.start, a.end) in spans for event in events for a in event.args)
