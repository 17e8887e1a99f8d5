"""spaCy training data: ``train.spacy`` and ``dev.spacy`` (DocBin) plus a ``config.cfg``.

Mapping of a record to a ``Doc`` (French vocab of ``spacy.blank("fr")``, loaded lazily):

- tokens: spaCy's tokenizer, split further wherever an entity or event trigger begins or
  ends inside a token (never ``char_span(alignment_mode="expand")``, which would move the
  annotation). Offsets stay exact; when training, spaCy aligns these gold tokens to its own
  tokenization and treats an entity it cannot align as missing rather than wrong.
- ``doc.ents``: the entities, or when some overlap, a non-overlapping subset keeping the
  longest ones; the others go to ``doc.spans["sc"]``, counted in ``Writer.overlapping``.
- ``doc.cats``: one category per stance target and value, named ``stance:TARGET=value``
  (e.g. ``stance:RUSSIE=favorable``) with 1.0; given ``stance_values``, the other values of
  an annotated target are written 0.0, and unannotated targets stay missing.
- ``doc.spans["events"]``: each event trigger labelled by its event type.
- ``doc.user_data["glose"]``: title, meta, external id, annotator, status, event arguments
  and stance evidence, so that reading the DocBin back loses nothing.

The split is deterministic: a document goes to dev when a hash of the seed and its text
falls below ``dev_fraction``, so it does not depend on the order of the documents.

Memory stays bounded: each split is a folder (``train.spacy/``, ``dev.spacy/``) of DocBin
shards ``0000.spacy``, ``0001.spacy``... of at most ``shard_size`` documents, each written
as soon as it is full, and a DocBin stores only the token attributes the export sets
(``ATTRS``). spaCy's corpus reader takes such a folder for ``--paths.train``. The shards
are written to a hidden folder (``.train.spacy.partial``, which spaCy's reader skips) that
replaces the split's folder (or an older single ``.spacy`` file) on close; a failed or
cancelled export leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator, Sequence
from contextlib import suppress
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from models.formats.common import (
    FormatError,
    blank_nlp,
    check_span,
    pack_meta,
    split_overlapping,
    tokens,
    unpack_meta,
)
from models.records import (
    ArgumentRecord,
    DocumentRecord,
    EventRecord,
    Problem,
    SpanRecord,
    StanceRecord,
)

STANCE_PREFIX = "stance:"
EVENTS_KEY = "events"
OVERLAP_KEY = "sc"
USER_KEY = "glose"
SHARD_SIZE = 100  # documents per DocBin shard
ATTRS = ("ORTH", "ENT_IOB", "ENT_TYPE")  # what the export sets (SPACY is always stored)


def category(target: str, value: str) -> str:
    return f"{STANCE_PREFIX}{target}={value}"


def in_dev(text: str, dev_fraction: float, seed: int) -> bool:
    digest = hashlib.blake2b(f"{seed}\0{text}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < dev_fraction


class Writer:
    """Streams records into ``out_dir``/train.spacy/ and dev.spacy/, a shard at a time."""

    def __init__(
        self,
        out_dir: Path,
        dev_fraction: float = 0.2,
        seed: int = 0,
        lang: str = "fr",
        stance_values: Sequence[str] = (),
        shard_size: int = SHARD_SIZE,
        **_options: Any,
    ) -> None:
        if shard_size < 1:
            raise ValueError(f"a shard holds at least one document, not {shard_size}")
        self.out_dir = out_dir
        self.dev_fraction = dev_fraction
        self.seed = seed
        self.lang = lang
        self.stance_values = tuple(stance_values)
        self.shard_size = shard_size
        self.count = 0
        self.split_counts = {"train": 0, "dev": 0}
        self.overlapping = 0
        self.has_ner = self.has_cats = self.has_events = False
        self._shards: dict[str, _Shards] = {}
        self._created = False

    def __enter__(self) -> Self:
        self._created = not self.out_dir.exists()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._shards = {
            name: _Shards(self.out_dir / f"{name}.spacy", self.shard_size)
            for name in self.split_counts
        }
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        shards, self._shards = self._shards, {}
        for split in shards.values():
            if kind is None:
                split.close()
            else:
                split.discard()
        if kind is not None and self._created:
            with suppress(OSError):
                self.out_dir.rmdir()  # empty again: the stages are gone

    def write(self, record: DocumentRecord) -> None:
        if not self._shards:
            raise RuntimeError("write() outside the writer's with block")
        split = "dev" if in_dev(record.text, self.dev_fraction, self.seed) else "train"
        self._shards[split].add(self.doc(record))
        self.split_counts[split] += 1
        self.count += 1

    def doc(self, record: DocumentRecord) -> Any:
        """The spaCy ``Doc`` of ``record`` (see the module docstring)."""
        from spacy.tokens import Doc

        text = record.text
        marks = [(s.start, s.end) for s in record.spans]
        marks += [event.trigger for event in record.events]
        pieces = tokens(text, [m[0] for m in marks], [m[1] for m in marks], self.lang)
        spaces = [
            i + 1 < len(pieces) and pieces[i + 1][0] > end for i, (_, end) in enumerate(pieces)
        ]
        spaces[-1:] = [len(text) > pieces[-1][1]] if pieces else []
        doc = Doc(blank_nlp(self.lang).vocab, words=[text[a:b] for a, b in pieces], spaces=spaces)
        if doc.text != text:
            raise FormatError("the tokens do not rebuild the text")
        kept, overlapping = split_overlapping(record.spans)
        doc.ents = [_span(doc, s.start, s.end, s.label) for s in kept]
        if overlapping:
            doc.spans[OVERLAP_KEY] = [_span(doc, s.start, s.end, s.label) for s in overlapping]
        self.overlapping += len(overlapping)
        for stance in record.stance:
            for value in self.stance_values:
                doc.cats.setdefault(category(stance.target, value), 0.0)
            doc.cats[category(stance.target, stance.value)] = 1.0
        if record.events:
            doc.spans[EVENTS_KEY] = [
                _span(doc, *event.trigger, event.type) for event in record.events
            ]
        doc.user_data[USER_KEY] = {
            "meta": pack_meta(record),
            "args": [[[a.role, a.start, a.end] for a in e.args] for e in record.events],
            "evidence": {
                category(s.target, s.value): [list(pair) for pair in s.evidence]
                for s in record.stance
            },
        }
        self.has_ner = self.has_ner or bool(record.spans)
        self.has_cats = self.has_cats or bool(record.stance)
        self.has_events = self.has_events or bool(record.events)
        return doc


class _Shards:
    """One split: DocBin shards staged in a hidden folder that replaces ``target`` on close."""

    def __init__(self, target: Path, size: int) -> None:
        self.target = target
        self.stage = target.with_name(f".{target.name}.partial")
        self.size = size
        self.written = 0
        shutil.rmtree(self.stage, ignore_errors=True)
        self.stage.mkdir()
        self.docbin = _docbin()

    def add(self, doc: Any) -> None:
        self.docbin.add(doc)
        if len(self.docbin) >= self.size:
            self._flush()

    def _flush(self) -> None:
        self.docbin.to_disk(self.stage / f"{self.written:04d}.spacy")
        self.written += 1
        self.docbin = _docbin()

    def close(self) -> None:
        """Write the last shard (an empty one for an empty split) and put the folder in place."""
        if len(self.docbin) or not self.written:
            self._flush()
        if self.target.is_dir():
            shutil.rmtree(self.target)
        elif self.target.exists():
            self.target.unlink()
        self.stage.rename(self.target)

    def discard(self) -> None:
        shutil.rmtree(self.stage, ignore_errors=True)


def _docbin() -> Any:
    from spacy.tokens import DocBin

    return DocBin(attrs=ATTRS, store_user_data=True)


def _span(doc: Any, start: int, end: int, label: str) -> Any:
    found = doc.char_span(start, end, label=label)
    if found is None:  # the tokens are split at every span edge: only bad offsets land here
        raise FormatError(f"span [{start}, {end}) does not fit the text")
    return found


def record_of(doc: Any) -> DocumentRecord:
    """The record a ``Doc`` written by ``Writer`` (or any NER/textcat Doc) stands for."""
    extra = doc.user_data.get(USER_KEY) or {}
    record = unpack_meta(doc.text, extra.get("meta") or {})
    spans = [*doc.ents, *doc.spans.get(OVERLAP_KEY, [])]
    record.spans = sorted(
        (SpanRecord(s.start_char, s.end_char, s.label_) for s in spans),
        key=lambda s: (s.start, s.end, s.label),
    )
    evidence = extra.get("evidence") or {}
    for name, score in doc.cats.items():
        if name.startswith(STANCE_PREFIX) and "=" in name and score >= 0.5:
            target, value = name.removeprefix(STANCE_PREFIX).split("=", 1)
            pairs = tuple((int(a), int(b)) for a, b in evidence.get(name, []))
            record.stance.append(StanceRecord(target, value, pairs))
    arguments = extra.get("args") or []
    for index, trigger in enumerate(doc.spans.get(EVENTS_KEY, [])):
        args = arguments[index] if index < len(arguments) else []
        record.events.append(
            EventRecord(
                trigger.label_,
                (trigger.start_char, trigger.end_char),
                tuple(ArgumentRecord(str(r), int(a), int(b)) for r, a, b in args),
            )
        )
    for start, end in [*(pair for s in record.stance for pair in s.evidence)] + [
        (a.start, a.end) for e in record.events for a in e.args
    ]:
        check_span(record.text, start, end)
    return record


def read(path: Path) -> Iterator[DocumentRecord | Problem]:
    """Records of a ``.spacy`` file, or of every ``.spacy`` file under a directory (an
    export folder, a split's folder of shards) but hidden ones, as spaCy's corpus reader
    finds them; a Problem's line is the document's number in its file."""
    from spacy.tokens import DocBin
    from spacy.vocab import Vocab

    for file in shard_files(path):
        try:
            docbin = DocBin().from_disk(file)
        except (OSError, ValueError) as error:
            yield Problem(str(file), 0, f"not a spaCy DocBin: {error}")
            continue
        for number, doc in enumerate(docbin.get_docs(Vocab()), start=1):
            try:
                record = record_of(doc)
            except (KeyError, TypeError, ValueError) as error:
                yield Problem(str(file), number, str(error))
                continue
            record.line = number
            yield record


def shard_files(path: Path) -> list[Path]:
    """``path`` itself when it is a file, else its ``.spacy`` files, hidden ones left out."""
    if not path.is_dir():
        return [path]
    return sorted(
        file
        for file in path.rglob("*.spacy")
        if file.is_file() and not any(p.startswith(".") for p in file.relative_to(path).parts)
    )


def write_config(
    out_dir: Path, has_ner: bool, has_cats: bool, has_events: bool, lang: str = "fr"
) -> Path:
    """Write ``out_dir``/config.cfg: a small CPU pipeline with ner, textcat_multilabel and
    spancat (on ``doc.spans["events"]``) as the data holds; returns its path."""
    from spacy.cli.init_config import init_config

    pipeline = [
        name
        for name, wanted in (
            ("ner", has_ner),
            ("textcat_multilabel", has_cats),
            ("spancat", has_events),
        )
        if wanted
    ]
    if not pipeline:
        raise ValueError("nothing to train: no entities, stance or events")
    config = init_config(lang=lang, pipeline=pipeline, optimize="efficiency", gpu=False)
    if has_events:
        config["components"]["spancat"]["spans_key"] = EVENTS_KEY
        weights = config["training"]["score_weights"]
        for measure in ("f", "p", "r"):
            weights[f"spans_{EVENTS_KEY}_{measure}"] = weights.pop(f"spans_sc_{measure}")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "config.cfg"
    config.to_disk(path)
    return path
