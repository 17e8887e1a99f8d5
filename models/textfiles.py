"""Plain-text files → document records: path expansion and one strict UTF-8 read per file.

The text is kept exactly as in the file (line endings included); only a UTF-8 byte order
mark is removed. A file that cannot be a document is refused with a ``Problem`` naming it.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator
from pathlib import Path

from models.records import DocumentRecord, Problem

TEXT_SUFFIX = ".txt"
MAX_TEXT_BYTES = 10 * 1024 * 1024  # one article; a larger .txt is refused unread


def expand_paths(paths: Iterable[Path]) -> Iterator[Path]:
    """Files as given; folders replaced by their ``*.txt`` files, recursively, sorted."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob(f"*{TEXT_SUFFIX}") if p.is_file())
        else:
            yield path


def title_of(text: str) -> str:
    """The first non-empty line, stripped ("" for a blank text)."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def read_text_file(path: Path) -> DocumentRecord | Problem:
    """One file as a document record, or the reason it is refused."""
    source = str(path)
    if not path.exists():
        return Problem(source, 0, "no such file or folder")
    try:
        size = path.stat().st_size
        if size > MAX_TEXT_BYTES:
            return Problem(
                source,
                0,
                f"{size / 2**20:.0f} MB is more than the {MAX_TEXT_BYTES // 2**20} MB limit for "
                "one article: split it into one file per article, or import it as JSONL",
            )
        data = path.read_bytes()
    except OSError as error:
        return Problem(source, 0, f"cannot read: {error.strerror or error}")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Problem(source, 1, "UTF-16 text is not supported: save the file as UTF-8")
    nul = data.find(b"\x00")
    if nul >= 0:
        return Problem(source, _line_at(data, nul), "binary file (contains NUL bytes)")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        byte = data[error.start]
        return Problem(
            source,
            _line_at(data, error.start),
            f"not UTF-8: byte 0x{byte:02x} cannot be decoded (save the file as UTF-8)",
        )
    if not text.strip():
        return Problem(source, 0, "empty file" if not text else "file holds only whitespace")
    return DocumentRecord(text=text, title=title_of(text), meta={"source": path.name})


def _line_at(data: bytes, index: int) -> int:
    return data.count(b"\n", 0, index) + 1
