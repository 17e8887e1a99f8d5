"""WAL checkpoints run on their own thread, never inside an analyst's commit."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text

from models.checkpoint import Checkpointer
from models.store import Store


def _wait(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_the_thread_moves_a_grown_wal_into_the_database(tmp_path: Path) -> None:
    path = str(tmp_path / "wal.sqlite")
    writer = sqlite3.connect(path)
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.execute("CREATE TABLE t (x BLOB)")
    writer.executemany("INSERT INTO t VALUES (?)", [(b"x" * 4000,)] * 50)
    writer.commit()
    checkpointer = Checkpointer(path, pages=10, interval=0.02)
    checkpointer.start()
    try:
        assert _wait(lambda: checkpointer.count > 0)
    finally:
        checkpointer.stop()
    # everything was copied: a checkpoint now has no frame left to move
    busy, frames, moved = writer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert busy == 0 and frames == moved
    writer.close()


def test_store_connections_leave_checkpoints_to_the_thread(tmp_path: Path) -> None:
    store = Store.open(str(tmp_path / "c.sqlite"))
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 0
    assert any(thread.name == "glose-checkpoint" for thread in threading.enumerate())
    before = sum(thread.name == "glose-checkpoint" for thread in threading.enumerate())
    store.close()
    after = sum(thread.name == "glose-checkpoint" for thread in threading.enumerate())
    assert after == before - 1
