"""WAL checkpoints off the thread that edits.

SQLite's automatic checkpoint runs inside the commit that crosses ``wal_autocheckpoint``
pages: one analyst keystroke in a few hundred then waits for the WAL to be copied into the
database file and synced (~400 ms measured at 100,000 documents, tests/benchmarks/
bench_gui.py). Glose's file engines turn that off and let a ``Checkpointer`` thread, with a
connection of its own, run a PASSIVE checkpoint (it never waits for readers or writers)
whenever the WAL has grown past ``pages``. Commits stay durable in the WAL meanwhile, and
SQLite checkpoints again when the last connection closes.
"""

from __future__ import annotations

import os
import sqlite3
import threading

WAL_PAGES = 1000  # SQLite's own default threshold
INTERVAL_S = 0.5


class Checkpointer:
    def __init__(self, database: str, pages: int = WAL_PAGES, interval: float = INTERVAL_S) -> None:
        self.database = database
        self.interval = interval
        self.threshold = pages * 4096
        self.count = 0  # checkpoints run, for tests
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="glose-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def _wal_bytes(self) -> int:
        try:
            return os.stat(f"{self.database}-wal").st_size
        except OSError:
            return 0

    def _run(self) -> None:
        connection: sqlite3.Connection | None = None
        try:
            while not self._stop.wait(self.interval):
                if self._wal_bytes() <= self.threshold:
                    continue
                if connection is None:
                    connection = sqlite3.connect(self.database, check_same_thread=False)
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.count += 1
                except sqlite3.Error:
                    pass  # busy or gone: the next round tries again
        finally:
            if connection is not None:
                connection.close()
