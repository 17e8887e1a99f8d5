"""Several Glose processes edit one corpus at once (spawned, on SQLite and PostgreSQL): each
its own layers, all of them one gold layer with optimistic locking. Every committed edit is
there afterwards, no update is lost, and nothing deadlocks (the run has a time limit)."""

from __future__ import annotations

import multiprocessing
import random
import time
from dataclasses import dataclass, field

from sqlalchemy import select

from models.access import LayerVersion, StaleLayerError
from models.commands import AddEntity, RemoveEntity
from models.layers import find_layer, open_layer
from models.records import DocumentRecord
from models.schema import Entity, Layer
from models.stance import SetStance, stance
from models.store import ProjectInfo, Store

WORKERS = 4
EDITS = 30  # on the worker's own layers
GOLD_EDITS = 6  # on the shared gold layer, each retried until it is not stale
TIME_LIMIT = 120  # seconds for the whole run: a deadlock or a lost wake-up fails the test
TEXT = "Vladimir Poutine a reçu Xi Jinping à Moscou. L’accord a été signé au Kremlin."
VALUES = ("favorable", "neutre", "défavorable")


@dataclass
class Outcome:
    name: str
    kept: set[int] = field(default_factory=set)  # own entities added and not removed
    stance: dict[int, str] = field(default_factory=dict)  # layer id -> last value toward Russie
    gold: set[int] = field(default_factory=set)
    stale: int = 0


def analyst(url: str, name: str, documents: list[int], gold_layer: int, seed: int) -> Outcome:
    """One analyst's session: edits committed one at a time, as the GUI does."""
    rng = random.Random(seed)
    store = Store.open(url)
    try:
        me = store.sign_in(name)
        outcome = Outcome(name)
        layers = []
        for document in documents:
            info = open_layer(store, document, me.annotator_id, None, create=True)
            assert info is not None
            layers.append(info.id)
        for _ in range(EDITS):
            layer_id, roll = rng.choice(layers), rng.random()
            if roll < 0.2 and outcome.kept:
                victim = rng.choice(sorted(outcome.kept))
                store.do(RemoveEntity(victim))
                outcome.kept.discard(victim)
            elif roll < 0.4:
                value = rng.choice(VALUES)
                store.do(SetStance(layer_id, "Russie", value=value))
                outcome.stance[layer_id] = value
            else:
                start = rng.randrange(0, len(TEXT) - 5)
                command = AddEntity(layer_id, start, start + rng.randint(1, 5), "PER")
                store.do(command)
                assert command.entity_id is not None
                outcome.kept.add(command.entity_id)
        for _ in range(GOLD_EDITS):
            command = AddEntity(gold_layer, rng.randrange(0, 40), 45, "MISC")
            while True:
                with store.reading() as session:
                    version = session.scalar(select(Layer.version).where(Layer.id == gold_layer))
                assert version is not None
                time.sleep(rng.random() / 100)  # the reviewer reads, thinks, then saves
                try:
                    store.do(command, LayerVersion(gold_layer, version))
                except StaleLayerError:
                    outcome.stale += 1
                    continue
                break
            assert command.entity_id is not None
            outcome.gold.add(command.entity_id)
        return outcome
    finally:
        store.close()


def _corpus(store: Store, project: ProjectInfo) -> list[int]:
    records = [DocumentRecord(text=f"{TEXT} ({index})", title=f"d{index}") for index in range(5)]
    ids = store.add_documents(project.id, records)
    return [doc for doc in ids if doc is not None]


def test_concurrency_parallel_analysts_lose_nothing(
    store: Store, db_url: str, project: ProjectInfo
) -> None:
    documents = _corpus(store, project)
    gold = open_layer(store, documents[0], store.annotator_id("gold", "gold"), None, create=True)
    assert gold is not None
    names = [f"analyst{index}" for index in range(WORKERS)]
    for name in names:
        store.set_reviewer(name)
    jobs = [(db_url, name, documents, gold.id, seed) for seed, name in enumerate(names)]
    started = time.monotonic()
    with multiprocessing.get_context("spawn").Pool(WORKERS) as pool:
        outcomes = pool.starmap_async(analyst, jobs).get(timeout=TIME_LIMIT)
    assert time.monotonic() - started < TIME_LIMIT

    with store.reading() as session:
        for outcome in outcomes:
            annotator_id = store.annotator_id(outcome.name)
            stored = set(
                session.scalars(
                    select(Entity.id)
                    .join(Layer, Layer.id == Entity.layer_id)
                    .where(Layer.annotator_id == annotator_id)
                )
            )
            assert stored == outcome.kept, outcome.name
        gold_entities = set(session.scalars(select(Entity.id).where(Entity.layer_id == gold.id)))
    for outcome in outcomes:
        for layer_id, value in outcome.stance.items():
            assert stance(store, layer_id)["Russie"].value == value
    committed_gold = set().union(*(outcome.gold for outcome in outcomes))
    assert len(committed_gold) == WORKERS * GOLD_EDITS
    assert gold_entities == committed_gold
    final = find_layer(store, documents[0], gold.annotator_id)
    assert final is not None
    assert final.version == gold.version + WORKERS * GOLD_EDITS  # one bump per saved edit
