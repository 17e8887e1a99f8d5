"""Long work as generators: a job yields ``Progress`` between steps and returns its result.

The CLI drives a job with a progress bar (``run``), the GUI with a QRunnable that re-emits
each step as a signal and closes the generator to cancel between two steps.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TypeVar

from models.records import Progress

T = TypeVar("T")
Job = Generator[Progress, None, T]


def run(job: Job[T], on_progress: Callable[[Progress], None] | None = None) -> T:
    """Drive ``job`` to its end, calling ``on_progress`` at each step; return its result."""
    while True:
        try:
            step = next(job)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        if on_progress is not None:
            on_progress(step)
