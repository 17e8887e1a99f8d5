"""Crash safety: a process applying edits as the GUI does is killed with SIGKILL at random
moments (seeded rounds); after each kill the reopened database holds every edit reported as
committed, at most the one edit in flight besides, nothing half-written, and SQLite's
integrity and foreign-key checks pass."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from models.layers import open_layer
from models.records import DocumentRecord
from models.store import Store
from tests.conftest import ROOT
from tests.models.edit_stream import State

ROUNDS = 6
SEED = 20261123
TEXT = (
    "Vladimir Poutine a reçu Xi Jinping à Moscou. L’accord gazier a été signé au Kremlin "
    "en présence des ministres 😀 des deux pays, puis la délégation chinoise est repartie."
)


def _run_and_kill(path: Path, layer_id: int, seed: int, rng: random.Random) -> list[str]:
    """Start the edit stream, kill it after a random number of committed edits (and a
    random fraction of a millisecond or two more), return every line it printed."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.models.edit_stream", str(path), str(layer_id), str(seed)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    wanted, lines = rng.randint(1, 120), []
    while sum(line.startswith("ok ") for line in lines) < wanted:
        line = child.stdout.readline()
        assert line, f"the edit stream stopped by itself (exit code {child.poll()})"
        lines.append(line)
    time.sleep(rng.random() / 500)
    child.send_signal(signal.SIGKILL)
    lines += child.stdout.read().splitlines(keepends=True)  # flushed before the kill
    child.wait(10)
    assert child.returncode == -signal.SIGKILL
    return lines


def _expected(before: State, lines: list[str]) -> tuple[State, dict[str, Any] | None]:
    """The state after every reported commit, and the operation in flight (if any)."""
    reported = State(
        dict(before.entities),
        dict(before.events),
        set(before.arguments),
        before.stance,
        before.status,
        before.version,
    )
    in_flight = None
    for line in lines:
        if not line.endswith("\n"):
            break  # cut by the kill mid-line: not reported
        kind, _, payload = line.partition(" ")
        if kind == "do":
            in_flight = json.loads(payload)
        elif kind == "ok":
            reported.apply(json.loads(payload))
            in_flight = None
    return reported, in_flight


def _with(state: State, op: dict[str, Any], found: State) -> State:
    """``state`` plus the in-flight ``op``; a new row's id is the one ``found`` has."""
    after = State(
        dict(state.entities),
        dict(state.events),
        set(state.arguments),
        state.stance,
        state.status,
        state.version,
    )
    if op["op"] in ("add", "event"):
        table = found.entities if op["op"] == "add" else found.events
        known = state.entities if op["op"] == "add" else state.events
        new = set(table) - set(known)
        if len(new) != 1:
            return after  # not committed: cannot be equal to ``found`` below
        op = {**op, "id": new.pop()}
    after.apply(op)
    return after


def test_crash_sigkill_loses_no_reported_edit(tmp_path: Path) -> None:
    path = tmp_path / "glose.sqlite"
    store = Store.open(str(path))
    project = store.ensure_project("crash")
    [document] = store.add_documents(project.id, [DocumentRecord(text=TEXT, title="t")])
    assert document is not None
    layer = open_layer(store, document, store.annotator_id("alice"), None, create=True)
    assert layer is not None
    store.close()
    rng = random.Random(SEED)
    committed = 0
    for round_number in range(ROUNDS):
        reopened = Store.open(str(path))
        try:
            before = State.read(reopened, layer.id)
        finally:
            reopened.close()
        lines = _run_and_kill(path, layer.id, SEED + round_number, rng)
        reported, in_flight = _expected(before, lines)
        committed += reported.version - before.version

        reopened = Store.open(str(path))
        try:
            found = State.read(reopened, layer.id)
            with reopened.engine.connect() as connection:
                assert connection.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
                assert connection.execute(text("PRAGMA foreign_key_check")).all() == []
        finally:
            reopened.close()
        candidates = [reported]
        if in_flight is not None:
            candidates.append(_with(reported, in_flight, found))
        assert found in candidates, f"round {round_number}: in flight {in_flight}"
    assert committed >= ROUNDS  # every round committed edits before its kill
