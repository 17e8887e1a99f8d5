"""Helpers shared by the format modules: JSON Lines reading with line numbers, span
validation, Glose fields packed into a format's free metadata, and the French tokenizer.

Decoders raise ``FormatError`` (or let a ``KeyError``/``TypeError``/``ValueError`` escape);
``read_jsonl_records`` turns either into a ``Problem`` naming the file and the line.
"""

from __future__ import annotations

import codecs
import json
import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Self

from models.json_codec import dumps, loads
from models.records import DocumentRecord, Problem, SpanRecord

if TYPE_CHECKING:
    from spacy.language import Language

# Glose fields a format without a slot of its own keeps in its free metadata
PACKED = ("title", "external_id", "annotator", "status")
_SPACE = re.compile(r"\S+")
# bytes read or written per system call by the streamed formats. Each call lets the GIL go,
# and the thread then waits for it up to the switch interval (5 ms) while the import's or
# the export's other thread computes: with io's 8 KB a 10,000-article import made 7,500
# such calls and took 0.2 s longer.
FILE_BUFFER = 1 << 20


class FormatError(ValueError):
    """A record that does not follow its format; the message is the reason."""


def problem(path: Path, line: int, reason: str) -> Problem:
    return Problem(str(path), line, reason)


def describe(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"missing field {error.args[0]!r}"
    return str(error) or type(error).__name__


def read_jsonl(path: Path) -> Iterator[tuple[int, Any] | Problem]:
    """(line number, parsed value) for each non-blank line (a UTF-8 BOM is skipped), or a
    Problem for a line that is not UTF-8 or not JSON."""
    with path.open("rb", buffering=FILE_BUFFER) as lines:
        for number, raw in enumerate(lines, start=1):
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            if not raw.strip():
                continue
            try:
                yield number, loads(raw)
            except UnicodeDecodeError as error:
                yield problem(path, number, f"not UTF-8 (byte 0x{raw[error.start]:02x})")
            except json.JSONDecodeError as error:
                yield problem(path, number, f"bad JSON: {error.msg} (column {error.colno})")


def count_lines(path: Path) -> int:
    """The lines of a file (a last one without its newline too), read a megabyte at a time:
    the records of a JSON Lines file, or a few more when some lines are blank."""
    lines, last = 0, b"\n"
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (last != b"\n")


def first_json(path: Path) -> Any:
    """The JSON value of the first non-blank line, ``None`` when it is not JSON (to sniff)."""
    with path.open(encoding="utf-8-sig") as lines:
        first = next((line for line in lines if line.strip()), "")
    try:
        return json.loads(first)
    except ValueError:
        return None


def read_jsonl_records(
    path: Path, decode: Callable[[dict[str, Any]], DocumentRecord]
) -> Iterator[DocumentRecord | Problem]:
    """Stream ``decode`` over the JSON objects of a JSONL file, one Problem per bad line."""
    for item in read_jsonl(path):
        if isinstance(item, Problem):
            yield item
            continue
        number, value = item
        if not isinstance(value, dict):
            yield problem(path, number, "expected a JSON object")
            continue
        try:
            record = decode(value)
        except (KeyError, TypeError, ValueError) as error:
            yield problem(path, number, describe(error))
            continue
        record.line = number
        yield record


def as_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FormatError(f"{what} must be an integer, not {value!r}")
    return value


def as_str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise FormatError(f"{what} must be a string, not {value!r}")
    return value


def check_span(text: str, start: int, end: int, quoted: str | None = None) -> None:
    """Raise FormatError unless [start, end) is inside ``text`` (and reads ``quoted``).
    Characters cut by a span are the importer's check (``models.layer_io``)."""
    if end <= start:
        raise FormatError(f"end {end} <= start {start}")
    if start < 0 or end > len(text):
        raise FormatError(f"[{start}, {end}) is outside the text (length {len(text)})")
    if quoted is not None and text[start:end] != quoted:
        raise FormatError(f"text {quoted!r} does not match {text[start:end]!r}")


def span(text: str, start: Any, end: Any, label: Any, quoted: Any = None) -> SpanRecord:
    """A validated SpanRecord from raw JSON values."""
    record = SpanRecord(as_int(start, "start"), as_int(end, "end"), as_str(label, "label"))
    check_span(text, record.start, record.end, None if quoted is None else as_str(quoted, "text"))
    return record


def pack_meta(record: DocumentRecord) -> dict[str, Any]:
    """The record's meta plus its title, external id, annotator and status when set."""
    packed = dict(record.meta)
    for name in PACKED:
        value = getattr(record, name)
        if value:
            packed[name] = value
    return packed


def unpack_meta(text: str, meta: dict[str, Any]) -> DocumentRecord:
    """A record with ``text`` whose Glose fields are taken out of ``meta`` (see pack_meta)."""
    rest = dict(meta)
    fields = {name: rest.pop(name, None) for name in PACKED}
    for name, value in fields.items():
        if value is not None and not isinstance(value, str):
            raise FormatError(f"meta field {name!r} must be a string")
    return DocumentRecord(
        text=text,
        title=fields["title"] or "",
        meta=rest,
        annotator=fields["annotator"],
        status=fields["status"],
        external_id=fields["external_id"],
    )


def split_overlapping(spans: Iterable[SpanRecord]) -> tuple[list[SpanRecord], list[SpanRecord]]:
    """(kept, overlapping): a non-overlapping subset, longest spans first (like spaCy's
    ``filter_spans``), in text order; and the spans left out."""
    ordered = sorted(spans, key=lambda s: (s.start - s.end, s.start, s.label))
    kept: list[SpanRecord] = []
    left: list[SpanRecord] = []
    taken: set[int] = set()
    for item in ordered:
        cells = set(range(item.start, item.end))
        if cells & taken:
            left.append(item)
        else:
            kept.append(item)
            taken |= cells
    key = lambda s: (s.start, s.end, s.label)  # noqa: E731
    return sorted(kept, key=key), sorted(left, key=key)


@lru_cache(maxsize=4)
def blank_nlp(lang: str = "fr") -> Language:
    """spaCy's blank pipeline (tokenizer only) for ``lang``, loaded on first use."""
    import spacy

    return spacy.blank(lang)


def tokens(
    text: str, starts: Iterable[int] = (), ends: Iterable[int] = (), lang: str = "fr"
) -> list[tuple[int, int]]:
    """Token character spans from spaCy's tokenizer, adjusted so that each offset of
    ``starts`` begins a token and each offset of ``ends`` ends one: tokens are split there,
    and the space spaCy keeps after a token becomes a token when a span begins in it or
    ends just after it."""
    from spacy.attrs import IDX, LENGTH

    begin, finish = sorted(set(starts)), sorted(set(ends))
    bounds = sorted(set(begin + finish) & set(range(1, len(text))))
    result: list[tuple[int, int]] = []
    position = 0
    previous = 0
    doc = blank_nlp(lang).tokenizer(text)
    for start, length in doc.to_array([IDX, LENGTH]).tolist() if len(doc) else ():
        end = start + length
        if previous < start and (
            _within(begin, previous, start) or _within(finish, previous + 1, start + 1)
        ):
            result.append((previous, start))  # the space after the previous token
        while position < len(bounds) and bounds[position] <= start:
            position += 1
        while position < len(bounds) and bounds[position] < end:
            result.append((start, bounds[position]))
            start = bounds[position]
            position += 1
        result.append((start, end))
        previous = end
    if previous < len(text) and (
        _within(begin, previous, len(text)) or _within(finish, previous + 1, len(text) + 1)
    ):
        result.append((previous, len(text)))
    return result


def _within(ordered: list[int], low: int, high: int) -> bool:
    """True when the sorted list holds an offset in [low, high)."""
    index = bisect_left(ordered, low)
    return index < len(ordered) and ordered[index] < high


def words(text: str, spans: Iterable[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """The non-whitespace runs of each token span (tokens for line-based formats)."""
    for start, end in spans:
        for match in _SPACE.finditer(text, start, end):
            yield match.span()


class TextWriter:
    """Base of the writers that stream one text file: ``header`` is written on entering,
    ``footer`` on leaving; ``write`` goes through ``_out()``, which refuses outside ``with``."""

    newline: str | None = None
    header = ""
    footer = ""

    def __init__(self, path: Path, **_options: Any) -> None:
        self.path = path
        self.count = 0
        self._file: IO[str] | None = None

    def __enter__(self) -> Self:
        self._file = self.path.open(
            "w", encoding="utf-8", newline=self.newline, buffering=FILE_BUFFER
        )
        self._file.write(self.header)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._file is not None:
            self._file.write(self.footer)
            self._file.close()
            self._file = None

    def _out(self) -> IO[str]:
        if self._file is None:
            raise RuntimeError("write() outside the writer's with block")
        return self._file


class JsonlWriter(TextWriter):
    """Base of the writers that put one JSON object a line; subclasses define ``encode``.
    Options meant for other formats (``dev_fraction``...) are ignored, as in ``jsonl``."""

    newline = "\n"

    def encode(self, record: DocumentRecord) -> dict[str, Any]:
        raise NotImplementedError

    def write(self, record: DocumentRecord) -> None:
        self._out().write(dumps(self.encode(record)) + "\n")
        self.count += 1
