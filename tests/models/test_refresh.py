"""Incremental refresh of learned layers: after each "done" only the next documents are
derived, a document is derived when first opened if it may be stale, and whatever the
history (corrections, done layers undone, settings changed, refreshes cancelled half-way)
every learned layer the state calls current, and every document opened after a refresh,
is exactly what a full derivation with today's memory gives."""

from __future__ import annotations

import random
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import learned_state
from models.commands import AddEntity, RelabelEntity, RemoveEntity, SetStatus
from models.jobs import Job, run
from models.layers import entities, find_layer, open_layer
from models.learning import (
    Learner,
    LearningSettings,
    RefreshReport,
    learned_name,
    load_learner,
    raw_name,
    raw_spans,
    set_learning,
)
from models.preannotate import Found, _write_layers
from models.records import DocumentRecord
from models.refresh import ensure_current, preannotate_learning, refresh, refresh_near
from models.store import DEFAULT_MODEL, ProjectInfo, Store

# surface form → the label analysts give it ("" : they delete it)
NAMES = {
    "Xi Jinping": "PER",
    "Xi": "PER",
    "Poutine": "PER",
    "la Chine": "LOC",
    "Pékin": "LOC",
    "Kremlin": "ORG",
    "l’OTAN": "ORG",
    "Previous slide": "",
}
FILLER = ["a reçu", "et", "selon", "à", "vers", "dit", "hier", "le 3 mai", "\u00a0", "\n\n"]
LABELS = ["PER", "LOC", "ORG", "MISC"]
Placed = tuple[int, int, str, str]


def _corpus(rng: random.Random, size: int) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """Texts made of names and filler, with raw model spans on some names (random labels)."""
    documents = []
    for index in range(size):
        parts, spans, length = [f"Dépêche {index}."], [], len(f"Dépêche {index}.")
        for _ in range(rng.randint(3, 9)):
            piece = rng.choice([*NAMES, *FILLER])
            length += 1
            if piece in NAMES and rng.random() < 0.7:
                spans.append((length, length + len(piece), rng.choice(LABELS)))
            parts.append(piece)
            length += len(piece)
        documents.append((" ".join(parts), spans))
    return documents


def _expected(store: Store, project: ProjectInfo, doc_id: int) -> list[Placed]:
    """What a full derivation with a memory learned from scratch gives the document."""
    learner = load_learner(store, project, raw_name(project.model_annotator))
    text = store.document(doc_id).text
    return sorted(learner.spans(text, raw_spans(store, project, doc_id)))


def _placed(store: Store, layer_id: int) -> list[Placed]:
    return sorted((e.start, e.end, e.label, e.origin) for e in entities(store, layer_id))


def _learned(store: Store, project: ProjectInfo, doc_id: int) -> list[Placed]:
    layer = find_layer(store, doc_id, store.annotator_id(project.model_annotator))
    assert layer is not None
    return _placed(store, layer.id)


def _check_current(store: Store, project: ProjectInfo, unopened: list[int]) -> None:
    """Every learned layer of ``unopened`` the state calls current is what a full
    derivation gives."""
    with store.reading() as session:
        state = learned_state.read(session, project.id)
    assert state is not None
    texts = {doc_id: store.document(doc_id).text for doc_id in unopened}
    for doc_id in set(unopened) - state.stale_documents(texts):
        assert _learned(store, project, doc_id) == _expected(store, project, doc_id), doc_id


@dataclass
class Scenario:
    """A project with raw layers, alice at work, and the learner the GUI would hold."""

    store: Store
    rng: random.Random
    project: ProjectInfo = field(init=False)
    learner: Learner | None = None

    def __post_init__(self) -> None:
        self.project = self.store.ensure_project("test")
        corpus = _corpus(self.rng, 12)
        records = [DocumentRecord(text=text) for text, _ in corpus]
        ids = self.store.add_documents(self.project.id, records)
        self.doc_ids = [doc_id for doc_id in ids if doc_id is not None]
        pairs = zip(self.doc_ids, corpus, strict=True)
        rows: dict[int, Found] = {d: (spans, []) for d, (_, spans) in pairs}
        with self.store.transaction() as session:
            _write_layers(session, self.store.annotator_id(DEFAULT_MODEL, "model"), rows)
        self.alice = self.store.annotator_id("alice")
        self.finish(refresh(self.store, self.project))

    def finish(self, job: Job[RefreshReport]) -> None:
        self.learner = run(job).learner
        self.project = self.store.project("test")  # type: ignore[assignment]

    def interrupt(self, job: Job[RefreshReport], steps: int) -> None:
        """Run ``job`` for a few steps, then cancel it as the GUI does."""
        for _ in range(steps):
            if next(job, None) is None:
                break
        job.close()

    @property
    def learned_id(self) -> int:
        return self.store.annotator_id(learned_name(DEFAULT_MODEL), "model")

    def unopened(self) -> list[int]:
        bob = self.store.annotator_id("bob")
        rows = self.store.document_rows(self.project.id, bob, 0, 100)
        return [row.id for row in rows if not self._opened(row.id)]

    def _opened(self, doc_id: int) -> bool:
        return any(find_layer(self.store, doc_id, a) for a in (self.alice,))

    def open(self, doc_id: int) -> int:
        """Open as the GUI does: bring the learned layer up to date, then seed."""
        if self.learner is not None:
            ensure_current(self.store, self.project, self.learner, doc_id)
        layer = open_layer(self.store, doc_id, self.alice, self.learned_id)
        assert layer is not None
        return layer.id

    def correct_and_finish(self, doc_id: int) -> None:
        """Alice opens the document, corrects it after the analysts' rule (with some
        noise) and marks it done."""
        layer_id = self.open(doc_id)
        text = self.store.document(doc_id).text
        for span in entities(self.store, layer_id):
            wanted = NAMES.get(text[span.start : span.end])
            if wanted == "" or (wanted is None and self.rng.random() < 0.5):
                self.store.do(RemoveEntity(span.id))
            elif wanted and wanted != span.label and self.rng.random() < 0.9:
                self.store.do(RelabelEntity(span.id, label=wanted))
        taken = [(e.start, e.end) for e in entities(self.store, layer_id)]
        for name, label in NAMES.items():
            start = text.find(name)
            free = all(end <= start or start + len(name) <= s for s, end in taken)
            if label and start >= 0 and free and self.rng.random() < 0.5:
                self.store.do(AddEntity(layer_id, start, start + len(name), label))
                taken.append((start, start + len(name)))
        self.store.do(SetStatus(layer_id, "done"))

    def check(self) -> None:
        """Every learned layer the state calls current is what a full derivation gives,
        and so is a document opened now."""
        unopened = self.unopened()
        _check_current(self.store, self.project, unopened)
        if unopened:
            doc_id = self.rng.choice(unopened)
            expected = _expected(self.store, self.project, doc_id)
            layer_id = self.open(doc_id)
            assert _placed(self.store, layer_id) == expected

    def step(self, action: str) -> None:
        unopened = self.unopened()
        if action == "done" and unopened:
            doc_id = self.rng.choice(unopened)
            self.correct_and_finish(doc_id)
            position = self.store.document(doc_id).position
            near = refresh_near(self.store, self.project, position, learner=self.learner, count=2)
            self.finish(near)
        elif action == "undone":
            done = [d for d in self.doc_ids if find_layer(self.store, d, self.alice)]
            layer = find_layer(self.store, self.rng.choice(done), self.alice) if done else None
            if layer is not None:
                self.store.do(SetStatus(layer.id, "in_progress"))
            self.finish(refresh_near(self.store, self.project, 0, learner=self.learner, count=2))
        elif action == "interrupted":
            near = refresh_near(self.store, self.project, 3, learner=self.learner)
            self.interrupt(near, self.rng.randint(0, 2))
            self.interrupt(refresh(self.store, self.project, page=2), self.rng.randint(1, 4))
            self.finish(refresh_near(self.store, self.project, 5, learner=self.learner, count=1))
        elif action == "settings":
            rules = self.rng.random() < 0.5
            set_learning(self.store, self.project.id, LearningSettings(rules=rules))
            self.project = self.store.project("test")  # type: ignore[assignment]
            self.finish(refresh_near(self.store, self.project, 0, learner=self.learner))
        elif action == "full":
            self.finish(refresh(self.store, self.project, learner=self.learner, page=3))


ACTIONS = ["done", "done", "done", "undone", "interrupted", "settings", "full"]


def test_refresh_scripted_histories_open_what_a_full_refresh_gives(store: Store) -> None:
    scenario = Scenario(store, random.Random(7))
    for action in ["done", "done", "interrupted", "done", "undone", "settings", "done", "full"]:
        scenario.step(action)
        scenario.check()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10**6), st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=6))
def test_refresh_random_histories_open_what_a_full_refresh_gives(
    seed: int, actions: list[str]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(str(Path(folder) / "glose.sqlite"))
        try:
            scenario = Scenario(store, random.Random(seed))
            for action in actions:
                scenario.step(action)
                scenario.check()
        finally:
            store.close()


def test_refresh_preannotation_learns_a_done_made_during_the_run(store: Store) -> None:
    """A document done while pre-annotation runs is learned before the next batch: the
    later documents are derived with it, and the state stays true."""
    import spacy

    nlp = spacy.blank("fr")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "MISC", "pattern": "Xi"}])  # type: ignore[attr-defined]
    project = store.ensure_project("test")
    texts = ["Xi a reçu la Chine.", "Xi et Poutine.", "Poutine et Xi."]
    ids = store.add_documents(project.id, [DocumentRecord(text=t) for t in texts])
    job = preannotate_learning(store, project, nlp=nlp, batch_size=1, suggest=False)
    while not next(job).message.startswith("Pre-annotated"):
        pass
    project = store.project("test")  # type: ignore[assignment]
    alice, learned = store.annotator_id("alice"), store.annotator_id(project.model_annotator)
    layer = open_layer(store, ids[0], alice, learned)  # type: ignore[arg-type]
    assert layer is not None
    (xi,) = entities(store, layer.id)
    store.do(RelabelEntity(xi.id, label="PER"))
    store.do(SetStatus(layer.id, "done"))
    run(refresh_near(store, project, 0, count=0))  # learns it, derives nothing
    run(job)
    assert _learned(store, project, ids[2]) == [(11, 13, "PER", "pattern")]  # type: ignore[arg-type]
    _check_current(store, project, ids[1:])  # type: ignore[arg-type]
