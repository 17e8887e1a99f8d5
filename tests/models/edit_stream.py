"""A stream of edits through the GUI's code path (``Store.do`` with the models commands),
each reported on stdout: ``do {op}`` before, ``ok {op}`` once committed. The crash test
(test_crash.py) kills this process with SIGKILL and checks the database against the report.

Run: ``python -m tests.models.edit_stream DB LAYER_ID SEED``. ``State`` is the expected
content of the layer; the test replays the reported operations on it.
"""

from __future__ import annotations

import json
import random
import sys
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from models.commands import AddEntity, Command, RelabelEntity, RemoveEntity, ResizeEntity, SetStatus
from models.events import AddArgument, AddEvent
from models.schema import Entity, Event, EventArgument, Layer
from models.stance import SetStance, stance
from models.store import Store

LABELS = ("PER", "ORG", "LOC", "MISC")
ROLES = ("visiteur", "hote", "lieu")
STATUSES = ("in_progress", "done", "skipped")
VALUES = ("favorable", "neutre", "défavorable")


@dataclass
class State:
    """What the layer holds: entities, events, arguments, stance, status and version."""

    entities: dict[int, tuple[int, int, str]] = field(default_factory=dict)
    events: dict[int, tuple[str, int, int]] = field(default_factory=dict)
    arguments: set[tuple[int, str, int]] = field(default_factory=set)
    stance: str | None = None
    status: str = ""
    version: int = 0

    @classmethod
    def read(cls, store: Store, layer_id: int) -> State:
        with store.reading() as session:
            layer = session.get_one(Layer, layer_id)
            state = cls(status=layer.status, version=layer.version)
            for entity in session.scalars(select(Entity).where(Entity.layer_id == layer_id)):
                state.entities[entity.id] = (entity.start, entity.end, entity.label)
            for event in session.scalars(select(Event).where(Event.layer_id == layer_id)):
                state.events[event.id] = (event.type, event.trigger_start, event.trigger_end)
            for argument in session.scalars(
                select(EventArgument).where(EventArgument.layer_id == layer_id)
            ):
                state.arguments.add((argument.event_id, argument.role, argument.entity_id))
        current = stance(store, layer_id).get("Russie")
        state.stance = current.value if current else None
        return state

    def apply(self, op: dict[str, Any]) -> None:
        """The state after the committed operation ``op`` (with its "id" once known)."""
        kind = op["op"]
        if kind == "add":
            self.entities[op["id"]] = (op["start"], op["end"], op["label"])
        elif kind == "relabel":
            start, end, _ = self.entities[op["id"]]
            self.entities[op["id"]] = (start, end, op["label"])
        elif kind == "resize":
            self.entities[op["id"]] = (op["start"], op["end"], self.entities[op["id"]][2])
        elif kind == "remove":
            del self.entities[op["id"]]
            self.arguments = {a for a in self.arguments if a[2] != op["id"]}
        elif kind == "event":
            self.events[op["id"]] = (op["type"], op["start"], op["end"])
        elif kind == "arg":
            self.arguments.add((op["event"], op["role"], op["entity"]))
        elif kind == "stance":
            self.stance = op["value"]
        elif kind == "status":
            self.status = op["status"]
        self.version += 1  # every command touches its layer once


def next_op(rng: random.Random, state: State, length: int) -> dict[str, Any]:
    roll = rng.random()
    ids = sorted(state.entities)
    if ids and roll < 0.15:
        return {"op": "remove", "id": rng.choice(ids)}
    if ids and roll < 0.3:
        return {"op": "relabel", "id": rng.choice(ids), "label": rng.choice(LABELS)}
    if ids and roll < 0.4:
        start = rng.randrange(0, length - 3)
        return {"op": "resize", "id": rng.choice(ids), "start": start, "end": start + 3}
    if roll < 0.5:
        start = rng.randrange(0, length - 4)
        return {"op": "event", "type": "RENCONTRE_SOMMET", "start": start, "end": start + 4}
    if state.events and ids and roll < 0.65:
        argument = (rng.choice(sorted(state.events)), rng.choice(ROLES), rng.choice(ids))
        if argument not in state.arguments:
            return {"op": "arg", "event": argument[0], "role": argument[1], "entity": argument[2]}
    if roll < 0.72:
        return {"op": "stance", "value": rng.choice(VALUES)}
    if roll < 0.78:
        return {"op": "status", "status": rng.choice(STATUSES)}
    start = rng.randrange(0, length - 6)
    end = start + rng.randint(1, 6)
    return {"op": "add", "start": start, "end": end, "label": rng.choice(LABELS)}


def command(layer_id: int, op: dict[str, Any]) -> Command:
    kind = op["op"]
    if kind == "add":
        return AddEntity(layer_id, op["start"], op["end"], op["label"])
    if kind == "relabel":
        return RelabelEntity(op["id"], label=op["label"])
    if kind == "resize":
        return ResizeEntity(op["id"], start=op["start"], end=op["end"])
    if kind == "remove":
        return RemoveEntity(op["id"])
    if kind == "event":
        return AddEvent(layer_id, op["type"], op["start"], op["end"])
    if kind == "arg":
        return AddArgument(op["event"], op["role"], op["entity"])
    if kind == "stance":
        return SetStance(layer_id, "Russie", value=op["value"])
    return SetStatus(layer_id, op["status"])


def main(path: str, layer_id: int, seed: int) -> None:
    rng = random.Random(seed)
    store = Store.open(path)
    state = State.read(store, layer_id)
    with store.reading() as session:
        document_id = session.get_one(Layer, layer_id).document_id
    length = len(store.document(document_id).text)
    while True:
        op = next_op(rng, state, length)
        print("do", json.dumps(op), flush=True)
        edit = command(layer_id, op)
        store.do(edit)
        new_id = getattr(edit, "entity_id", None) if op["op"] == "add" else None
        if op["op"] == "event":
            new_id = getattr(edit, "event_id", None)
        if new_id is not None:
            op["id"] = new_id
        state.apply(op)
        print("ok", json.dumps(op), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
