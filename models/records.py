"""Plain records: what formats read and write and what the store hands to its callers.

No ORM and no Qt here. Offsets are Python code points, end exclusive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple


class SpanRecord(NamedTuple):
    """An entity span. A named tuple (equal to the tuple (start, end, label)) rather than a
    frozen dataclass: made by the hundred thousand on import and export, it is built three
    times faster."""

    start: int
    end: int
    label: str


@dataclass(frozen=True, slots=True)
class StanceRecord:
    target: str
    value: str
    evidence: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class ArgumentRecord:
    role: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class EventRecord:
    type: str
    trigger: tuple[int, int]
    args: tuple[ArgumentRecord, ...] = ()


@dataclass(slots=True)
class DocumentRecord:
    """One document with one annotator's annotations, as exchanged with files."""

    text: str
    title: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    spans: list[SpanRecord] = field(default_factory=list)
    stance: list[StanceRecord] = field(default_factory=list)
    events: list[EventRecord] = field(default_factory=list)
    annotator: str | None = None
    status: str | None = None
    external_id: str | None = None
    # line of the input file the record was read from (0 when unknown), for error messages
    line: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Progress:
    """What a long job reports between two steps; ``total`` is None when unknown."""

    done: int
    total: int | None
    message: str = ""


@dataclass(frozen=True, slots=True)
class Problem:
    """An input the job refused: which file, which line (0 when not line-based), why."""

    source: str
    line: int
    reason: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.reason}"
