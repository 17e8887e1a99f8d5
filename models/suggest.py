"""Event suggestions from a spaCy Doc: the schema's trigger lemmas found by a Matcher, and
arguments proposed from the entities of the trigger's sentence, as plain records.

The Doc must come from a pipeline that lemmatizes (``models.preannotate.load_pipeline``
with ``events=True``); sentences come from its rule-based sentencizer, which runs after NER
so the entities are those of the NER-only pipeline. A sentence never crosses a line break
(a title line has no final full stop).

Triggers. Each trigger of ``[[events]]`` is tokenized; a text matches where its lemmas are
the trigger's words (lowercase, or capitalised at the start of a sentence), or where its
words are the trigger itself (for triggers written in an inflected form: spaCy's lemma of
"pourparlers" is "pourparler"). Between two words of a multi-word trigger up to three
auxiliaries or adverbs may stand ("se rendre" matches "s'est rendu", "ne s'est pas
rendu"). Of overlapping matches of one event type the longest is kept ("plan de paix"
rather than "paix"); two event types may share a trigger.

Arguments, from the entities of the trigger's sentence (those the schema keeps), a simple
rule per role and entity label:

- actors (PER, ORG), in text order and each name once, fill the type's actor roles
  (``ACTOR_ROLES``) in the schema's role order, one actor each, the last actor role taking
  all remaining actors: VISITE_OFFICIELLE [visiteur, hote] gives the first person visiteur,
  the second hote; RENCONTRE_SOMMET [participant] makes every actor a participant;
- places (LOC) introduced by a locative preposition ("à Pékin", "en Chine", "à l'Élysée")
  fill ``lieu``; a LOC without one is usually a country acting ("la Russie a annoncé") and
  is left out;
- date and montant are not proposed: fr_core_news_sm has no DATE or MONEY entity.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from models.labels import EventType, LabelSchema
from models.records import ArgumentRecord, EventRecord

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span

ACTOR_LABELS = frozenset({"PER", "ORG"})
PLACE_LABELS = frozenset({"LOC"})
ACTOR_ROLES = frozenset({"participant", "visiteur", "hote", "emetteur", "cible"})
PLACE_ROLE = "lieu"
LOCATIVES = frozenset({"à", "au", "aux", "en", "dans"})
# what may stand between two words of a multi-word trigger
GAP: dict[str, Any] = {"POS": {"IN": ["AUX", "ADV"]}, "OP": "{0,3}"}


class Suggester:
    """Proposes the events of the schema's types that have triggers in a Doc."""

    def __init__(self, nlp: Language, schema: LabelSchema) -> None:
        from spacy.matcher import Matcher

        self.types = {event.id: event for event in schema.events if event.triggers}
        self.labels = frozenset(schema.entity_ids)
        self.matcher = Matcher(nlp.vocab)
        for event in self.types.values():
            words = [[t.lower_ for t in nlp.make_doc(trigger)] for trigger in event.triggers]
            patterns = [_pattern(w, "LEMMA") for w in words] + [_pattern(w, "LOWER") for w in words]
            self.matcher.add(event.id, patterns)

    def __call__(self, doc: Doc) -> list[EventRecord]:
        """The suggested events of ``doc``, by trigger position; offsets into doc.text."""
        from spacy.util import filter_spans

        if not self.types:
            return []
        by_type: dict[str, list[Span]] = {}
        for span in self.matcher(doc, as_spans=True):
            by_type.setdefault(span.label_, []).append(span)
        found = [
            EventRecord(
                type_id,
                (trigger.start_char, trigger.end_char),
                tuple(self._arguments(doc, trigger, self.types[type_id])),
            )
            for type_id, spans in by_type.items()
            for trigger in filter_spans(spans)
        ]
        return sorted(found, key=lambda event: (event.trigger, event.type))

    def _arguments(self, doc: Doc, trigger: Span, event: EventType) -> Iterator[ArgumentRecord]:
        entities = [
            ent
            for ent in _sentence_entities(doc, trigger)
            if ent.label_ in self.labels and (ent.end <= trigger.start or ent.start >= trigger.end)
        ]
        actor_roles = [role for role in event.roles if role in ACTOR_ROLES]
        if actor_roles:
            actors = {ent.text: ent for ent in reversed(entities) if ent.label_ in ACTOR_LABELS}
            in_order = sorted(actors.values(), key=lambda ent: ent.start)
            for index, ent in enumerate(in_order):
                role = actor_roles[min(index, len(actor_roles) - 1)]
                yield ArgumentRecord(role, ent.start_char, ent.end_char)
        if PLACE_ROLE in event.roles:
            for ent in entities:
                if ent.label_ in PLACE_LABELS and _after_locative(doc, ent):
                    yield ArgumentRecord(PLACE_ROLE, ent.start_char, ent.end_char)


def _pattern(words: list[str], attribute: str) -> list[dict[str, Any]]:
    """Token patterns for ``words`` on LEMMA or LOWER, with gaps between the words."""
    pattern: list[dict[str, Any]] = []
    for index, word in enumerate(words):
        if index:
            pattern.append(GAP)
        forms = [word] if attribute == "LOWER" else sorted({word, word[:1].upper() + word[1:]})
        pattern.append({attribute: {"IN": forms}})
    return pattern


def _sentence_entities(doc: Doc, trigger: Span) -> list[Span]:
    """The entities of the trigger's sentence, cut at the line breaks around the trigger."""
    text = doc.text
    start = text.rfind("\n", 0, trigger.start_char) + 1
    end = text.find("\n", trigger.end_char)
    end = len(text) if end < 0 else end
    if doc.has_annotation("SENT_START"):
        sentence = doc[trigger.start].sent
        start, end = max(start, sentence.start_char), min(end, sentence.end_char)
    return [ent for ent in doc.ents if ent.start_char >= start and ent.end_char <= end]


def _after_locative(doc: Doc, ent: Span) -> bool:
    """True when a locative preposition introduces the entity, maybe through an article."""
    before = ent.start - 1
    if before >= 0 and doc[before].pos_ == "DET":
        before -= 1
    return before >= 0 and doc[before].lower_ in LOCATIVES
