"""Formats: one module per format behind a name → reader/writer map.

Each format module is plain records in, plain records out (``models.records``); it knows
nothing of the ORM. A module exposes:

- ``read(path: Path) -> Iterator[DocumentRecord | Problem]``: streamed, one record (or one
  problem naming file and line) at a time;
- ``Writer(path: Path, **options)``: a context manager with ``write(record)``, streaming;
- optionally ``count(path: Path) -> int``: how many records ``read`` gives, or a little
  more, counted much faster than reading them (the total of the import's progress).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from types import ModuleType


@dataclass(frozen=True, slots=True)
class FormatSpec:
    name: str
    module: str
    extensions: tuple[str, ...]
    description: str

    def load(self) -> ModuleType:
        return import_module(self.module)


FORMATS: dict[str, FormatSpec] = {
    spec.name: spec
    for spec in (
        FormatSpec("jsonl", "models.formats.jsonl", (".jsonl",), "Glose native JSONL"),
        FormatSpec("spacy", "models.formats.spacy_docbin", (".spacy",), "spaCy DocBin (train/dev)"),
        FormatSpec("prodigy", "models.formats.prodigy", (".jsonl",), "Prodigy ner_manual JSONL"),
        FormatSpec("doccano", "models.formats.doccano", (".jsonl",), "doccano JSONL"),
        FormatSpec("conll", "models.formats.conll", (".conll", ".iob"), "CoNLL-2003 IOB2"),
        FormatSpec("labelstudio", "models.formats.labelstudio", (".json",), "Label Studio JSON"),
    )
}


def get(name: str) -> FormatSpec:
    try:
        return FORMATS[name]
    except KeyError:
        known = ", ".join(sorted(FORMATS))
        raise ValueError(f"unknown format '{name}' (known: {known})") from None
