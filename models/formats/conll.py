"""CoNLL-2003 style IOB2: one ``token tag`` a line, a blank line between sentences and
``-DOCSTART- -X- O O`` before each document (the delimiter ``spacy convert --converter
ner`` splits documents on; any line starting with ``-DOCSTART-`` is read as one).

Written: tokens of spaCy's French tokenizer, split at entity edges, without whitespace;
sentences from spaCy's rule-based ``sentencizer`` plus line breaks, never inside an entity.

Lossy: only entities travel (no title, meta, stance or events), overlapping entities keep
the longest (``Writer.overlapping`` counts the others), an entity of whitespace only is
dropped (``Writer.dropped``), and the exact whitespace is lost: ``read`` rebuilds a text with
one space between tokens and a line break between sentences, so entity offsets refer to that
text, and an entity's leading or trailing whitespace is not kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.formats.common import FILE_BUFFER, TextWriter, split_overlapping, tokens, words
from models.records import DocumentRecord, Problem, SpanRecord

if TYPE_CHECKING:
    from spacy.language import Language

DOCSTART = "-DOCSTART- -X- O O"


@lru_cache(maxsize=2)
def _sentencizer(lang: str) -> Language:
    import spacy

    nlp = spacy.blank(lang)
    nlp.add_pipe("sentencizer")
    return nlp


def sentence_starts(text: str, lang: str = "fr") -> set[int]:
    """Offsets where a sentence begins: the sentencizer's, and after each line break."""
    starts = {sentence.start_char for sentence in _sentencizer(lang)(text).sents}
    starts.update(index + 1 for index, char in enumerate(text) if char == "\n")
    return starts


class Writer(TextWriter):
    """Streams documents as CoNLL IOB2 lines."""

    def __init__(self, path: Path, lang: str = "fr", **_options: Any) -> None:
        super().__init__(path)
        self.lang = lang
        self.overlapping = self.dropped = 0

    def write(self, record: DocumentRecord) -> None:
        out = self._out()
        text = record.text
        kept, overlapping = split_overlapping(record.spans)
        self.overlapping += len(overlapping)
        pieces = tokens(text, [s.start for s in kept], [s.end for s in kept], self.lang)
        runs = list(words(text, pieces))
        tags: dict[int, str] = {}  # word start -> B-/I- tag
        for entity in kept:
            covered = [start for start, _ in runs if entity.start <= start < entity.end]
            self.dropped += not covered
            tags.update((start, f"I-{entity.label}") for start in covered[1:])
            tags.update((start, f"B-{entity.label}") for start in covered[:1])
        breaks = sentence_starts(text, self.lang)
        lines = [DOCSTART, ""]
        previous_end = 0
        for start, end in runs:
            tag = tags.get(start, "O")
            crosses = any(b in breaks for b in range(previous_end, start + 1))
            if crosses and lines[-1] and not tag.startswith("I-"):
                lines.append("")
            lines.append(f"{text[start:end]} {tag}")
            previous_end = end
        out.write("\n".join(lines) + "\n\n")
        self.count += 1


class _Document:
    def __init__(self, line: int) -> None:
        self.line = line
        self.sentences: list[list[tuple[str, str]]] = [[]]
        self.problem: Problem | None = None

    def record(self) -> DocumentRecord:
        parts: list[str] = []
        spans: list[SpanRecord] = []
        position = 0
        open_span: tuple[int, int, str] | None = None
        for sentence in filter(None, self.sentences):
            if parts:
                parts.append("\n")
                position += 1
            for index, (word, tag) in enumerate(sentence):
                if index:
                    parts.append(" ")
                    position += 1
                prefix, _, label = tag.partition("-")
                continues = prefix == "I" and open_span is not None and open_span[2] == label
                if open_span is not None and not continues:
                    spans.append(SpanRecord(*open_span))
                    open_span = None
                if prefix in ("B", "I") and not continues:
                    open_span = (position, position, label)
                parts.append(word)
                position += len(word)
                if open_span is not None:
                    open_span = (open_span[0], position, open_span[2])
        if open_span is not None:
            spans.append(SpanRecord(*open_span))
        return DocumentRecord(text="".join(parts), spans=spans, line=self.line)


def read(path: Path) -> Iterator[DocumentRecord | Problem]:
    """Documents of a CoNLL file, one at a time; a bad line makes its document a Problem."""
    source = str(path)
    document: _Document | None = None
    with path.open(encoding="utf-8-sig", buffering=FILE_BUFFER) as lines:
        for number, line in enumerate(lines, start=1):
            columns = line.split()
            if columns and columns[0] == "-DOCSTART-":
                if document is not None:
                    yield from _finish(document)
                document = _Document(number + 1)
                continue
            if document is None:
                document = _Document(number)
            if not columns:
                document.sentences.append([])
                continue
            tag = columns[-1]
            valid = tag == "O" or (tag[:2] in ("B-", "I-") and len(tag) > 2)
            if len(columns) < 2 or not valid:
                if document.problem is None:
                    reason = f"expected 'token tag' with an IOB2 tag, not {line.strip()!r}"
                    document.problem = Problem(source, number, reason)
                continue
            document.sentences[-1].append((columns[0], tag))
    if document is not None:
        yield from _finish(document)


def _finish(document: _Document) -> Iterator[DocumentRecord | Problem]:
    if document.problem is not None:
        yield document.problem
    elif any(document.sentences):
        yield document.record()
