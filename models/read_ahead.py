"""The next item of an iterator made on a worker thread while the caller uses the current one.

An import parses and checks a batch of records (Python, holding the GIL) while the batch
before it is written (SQLite's own work, done with the GIL released): on two cores the two
overlap. The writer must release the GIL in few long calls (multi-row statements, no
RETURNING rows fetched one by one): a thread that takes the GIL back thousands of times
while the other computes waits for it each time.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar, cast

T = TypeVar("T")
_END = object()


def read_ahead(items: Iterator[T]) -> Iterator[T]:
    """The items of ``items``, each computed on a worker thread while the caller works on
    the one before. An error of ``items`` is raised here, at its place in the sequence.
    Closing this generator waits for the item being computed (at most one), then closes
    ``items``."""
    pool = ThreadPoolExecutor(1, thread_name_prefix="read-ahead")
    try:
        coming = pool.submit(next, items, _END)
        while (item := coming.result()) is not _END:
            coming = pool.submit(next, items, _END)
            yield cast(T, item)
    finally:
        pool.shutdown()
        close = getattr(items, "close", None)
        if close is not None:
            close()
