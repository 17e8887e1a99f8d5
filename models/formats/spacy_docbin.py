"""spaCy training data: ``train.spacy`` and ``dev.spacy`` (DocBin) plus a ``config.cfg``.

Mapping of a record to a ``Doc``:

- tokens: ``models.token_arrays.split_tokens`` (the rules of the editor's tokens: words with
  their inner hyphens, elisions, numbers, each other symbol alone; one space after a token
  is its trailing space), split wherever an entity or event trigger begins or ends, so that
  each of them covers whole tokens at its exact offsets (never moved). These are not the
  tokens of spaCy's tokenizer and need not be: when training, spaCy aligns the gold tokens
  to its own tokenization, by characters.
- ``doc.ents``: the entities, or when some overlap, a non-overlapping subset keeping the
  longest ones; the others go to ``doc.spans["sc"]``, counted in ``Writer.overlapping``.
- ``doc.cats``: one category per stance target and value, named ``stance:TARGET=value``
  (e.g. ``stance:RUSSIE=favorable``) with 1.0; given ``stance_values``, the other values of
  an annotated target are written 0.0, and unannotated targets stay missing.
- ``doc.spans["events"]``: each event trigger labelled by its event type.
- ``doc.user_data["glose"]``: title, meta, external id, annotator, status, event arguments
  and stance evidence, so that reading the DocBin back loses nothing.

No ``Doc`` is built: each shard's bytes are written directly in the layout of spaCy 3.8's
``DocBin.to_bytes`` (zlib-compressed msgpack of the token attributes ``ATTRS`` as uint64
rows, spaces, lengths, strings, cats, flags, span groups and user data), a batch of
records at a time with numpy. Strings are spaCy's hashes (``spacy.strings.get_string_id``),
computed once per distinct token text. The strings table lists the token texts and labels
(spaCy's own writer adds each token's norm, which a DocBin without NORM never reads).

The split is deterministic: a document goes to dev when a hash of the seed and its text
falls below ``dev_fraction``, so it does not depend on the order of the documents.

Memory stays bounded: each split is a folder (``train.spacy/``, ``dev.spacy/``) of DocBin
shards ``0000.spacy``, ``0001.spacy``... of at most ``shard_size`` documents, each encoded
as soon as it is full; the token cache is dropped when it holds more than ``CACHE_CHUNKS``
distinct chunks. From the first full shard on, ``workers`` processes
(``models.formats.docbin_workers``) encode, compress and write shards while the export
reads the next ones; a shard that finds every worker busy is encoded here and compressed
and written by a background thread (compression releases the GIL). Which process encodes a
shard changes nothing in its bytes. The zlib stream comes from ISA-L (``isal``), which
writes the same format twice as fast as zlib. spaCy's corpus reader takes such a folder for
``--paths.train``. The shards are written to a hidden folder (``.train.spacy.partial``,
which spaCy's reader skips) that replaces the split's folder (or an older single
``.spacy`` file) on close; a failed or cancelled export leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from itertools import chain
from operator import attrgetter
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import numpy as np
from isal import isal_zlib
from numpy.typing import NDArray

from models.formats.common import (
    check_span,
    pack_meta,
    split_overlapping,
    unpack_meta,
)
from models.formats.docbin_workers import WorkerError, Workers
from models.records import (
    ArgumentRecord,
    DocumentRecord,
    EventRecord,
    Problem,
    SpanRecord,
    StanceRecord,
)
from models.spacy_ids import string_ids
from models.token_arrays import TokenCache, TokenIds

STANCE_PREFIX = "stance:"
EVENTS_KEY = "events"
OVERLAP_KEY = "sc"
USER_KEY = "glose"
SHARD_SIZE = 100  # documents per DocBin shard
ATTRS = ("ORTH", "ENT_IOB", "ENT_TYPE")  # what the export sets (SPACY is always stored)
COMPRESSION = 1  # ISA-L's level 1: as small as zlib's 1, twice as fast; zlib's 6 (spaCy's)
# is 3 times slower than zlib's 1 for 20 % less
CACHE_CHUNKS = 100_000  # distinct chunks the token cache holds at most (strings, code points, keys)
_NO_SPAN_GROUPS = b"\x90"  # msgpack of [], what spaCy writes for a Doc without spans
_OUTSIDE, _INSIDE, _BEGIN = 2, 1, 3  # spaCy's ENT_IOB values
_SPAN = struct.Struct(">QQQllll")  # id, kb_id, label, start, end, start_char, end_char
_OWN_CONFIG = frozenset({"ja", "ko", "th", "vi", "zh"})  # spaCy languages with a config
MAX_WORKERS = 4


def default_workers() -> int:
    """Worker processes for an export: one core is the export's own."""
    return min(max((os.cpu_count() or 1) - 1, 1), MAX_WORKERS)


def category(target: str, value: str) -> str:
    return f"{STANCE_PREFIX}{target}={value}"


def in_dev(text: str, dev_fraction: float, seed: int) -> bool:
    digest = hashlib.blake2b(f"{seed}\0".encode(), digest_size=8)
    digest.update(text.encode())  # the hash of seed, NUL, text: without copying the text
    return int.from_bytes(digest.digest(), "big") / 2**64 < dev_fraction


class Writer:
    """Streams records into ``out_dir``/train.spacy/ and dev.spacy/, a shard at a time."""

    def __init__(
        self,
        out_dir: Path,
        dev_fraction: float = 0.2,
        seed: int = 0,
        stance_values: Sequence[str] = (),
        shard_size: int = SHARD_SIZE,
        workers: int | None = None,
        **_options: Any,
    ) -> None:
        """``workers``: processes that encode shards beside the export (None: one per core
        but the export's own, at least one; 0: none)."""
        if shard_size < 1:
            raise ValueError(f"a shard holds at least one document, not {shard_size}")
        from spacy.symbols import IDS

        self.out_dir = out_dir
        self.dev_fraction = dev_fraction
        self.seed = seed
        self.shard_size = shard_size
        self.count = 0
        self.split_counts = {"train": 0, "dev": 0}
        self.has_ner = self.has_cats = self.has_events = False
        self._stance_values = tuple(stance_values)
        self._symbols: dict[str, int] = IDS
        self._encoder = Encoder(self._stance_values, self._symbols)
        self._shards: dict[str, _Shards] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._wanted_workers = default_workers() if workers is None else workers
        self._workers: Workers | None = None
        self._created = False

    @property
    def overlapping(self) -> int:
        """Entities moved to ``doc.spans["sc"]`` so far (all of them once closed)."""
        done_elsewhere = self._workers.overlapping if self._workers is not None else 0
        return self._encoder.overlapping + done_elsewhere

    def __enter__(self) -> Self:
        self._created = not self.out_dir.exists()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._pool = pool = ThreadPoolExecutor(1, thread_name_prefix="docbin")
        self._shards = {
            name: _Shards(self.out_dir / f"{name}.spacy", self.shard_size, self._encode, pool)
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
        pool, self._pool = self._pool, None
        published = False
        try:
            if kind is None:
                for split in shards.values():
                    split.finish()
                if self._workers is not None:
                    self._workers.finish()
                for split in shards.values():
                    split.publish()
                published = True
        finally:
            if self._workers is not None:
                self._workers.close(kill=not published)
            if pool is not None:
                pool.shutdown()  # waits for every write
            if not published:
                for split in shards.values():
                    split.discard()
                if self._created:
                    with suppress(OSError):
                        self.out_dir.rmdir()  # empty again: the stages are gone

    def _encode(self, path: Path, records: list[DocumentRecord], full: bool) -> bytes | None:
        """The shard's bytes, or None when a worker took it. The workers start with the
        first ``full`` shard: an export of fewer documents is done before they would be."""
        if self._workers is None and self._wanted_workers > 0 and full:
            try:
                self._workers = Workers(self._wanted_workers, self._stance_values, self._symbols)
            except WorkerError:
                self._wanted_workers = 0  # encoded here, as with workers=0
        if self._workers is not None and self._workers.submit(path, records):
            return None
        return self._encoder.encode(records)

    def write(self, record: DocumentRecord) -> None:
        if not self._shards:
            raise RuntimeError("write() outside the writer's with block")
        split = "dev" if in_dev(record.text, self.dev_fraction, self.seed) else "train"
        self._shards[split].add(record)
        self.split_counts[split] += 1
        self.count += 1
        self.has_ner = self.has_ner or bool(record.spans)
        self.has_cats = self.has_cats or bool(record.stance)
        self.has_events = self.has_events or bool(record.events)


class _Shards:
    """One split: DocBin shards staged in a hidden folder that replaces ``target`` on close.
    A full shard goes to ``encode`` at once (a worker's or its bytes); bytes are written
    by ``pool``, and the next such shard waits for the write."""

    def __init__(
        self,
        target: Path,
        size: int,
        encode: Callable[[Path, list[DocumentRecord], bool], bytes | None],
        pool: ThreadPoolExecutor,
    ):
        self.target = target
        self.stage = target.with_name(f".{target.name}.partial")
        self.size = size
        self.encode = encode
        self.pool = pool
        self.written = 0
        self.records: list[DocumentRecord] = []
        self._writing: Future[None] | None = None
        shutil.rmtree(self.stage, ignore_errors=True)
        self.stage.mkdir()

    def add(self, record: DocumentRecord) -> None:
        self.records.append(record)
        if len(self.records) >= self.size:
            self._flush(full=True)

    def _flush(self, full: bool = False) -> None:
        path = self.stage / f"{self.written:04d}.spacy"
        payload = self.encode(path, self.records, full)
        self.records = []
        self.written += 1
        if payload is not None:
            self._wait()
            self._writing = self.pool.submit(write_shard, path, payload)

    def _wait(self) -> None:
        if self._writing is not None:
            writing, self._writing = self._writing, None
            writing.result()

    def finish(self) -> None:
        """Write the last shard (an empty one for an empty split) and wait for the writes."""
        if self.records or not self.written:
            self._flush()
        self._wait()

    def publish(self) -> None:
        """Put the staged folder in place of the target."""
        if self.target.is_dir():
            shutil.rmtree(self.target)
        elif self.target.exists():
            self.target.unlink()
        self.stage.rename(self.target)

    def discard(self) -> None:
        shutil.rmtree(self.stage, ignore_errors=True)


def write_shard(path: Path, payload: bytes) -> None:
    path.write_bytes(isal_zlib.compress(payload, COMPRESSION))


class _Labels(dict[str, int]):
    """spaCy's id of each label met."""

    def __init__(self, symbols: Mapping[str, int]) -> None:
        super().__init__()
        self._symbols = symbols

    def __missing__(self, label: str) -> int:
        value = self[label] = int(string_ids([label], self._symbols)[0])
        return value

    def ids(self, labels: Sequence[str]) -> NDArray[np.uint64]:
        return np.fromiter(map(self.__getitem__, labels), np.uint64, len(labels))


class Encoder:
    """Batches of records → the (uncompressed) bytes of ``DocBin.to_bytes``; see
    the module docstring. Keeps the token cache and string hashes across batches.
    ``symbols``: spaCy's symbol table (``spacy.symbols.IDS``), for the string ids."""

    def __init__(self, stance_values: tuple[str, ...], symbols: Mapping[str, int]) -> None:
        from srsly.msgpack import Packer

        # srsly.msgpack_dumps, without its new Packer (and its registry look-up) per call
        self._pack: Callable[[Any], bytes] = Packer(use_bin_type=True).pack
        self.stance_values = stance_values
        self.overlapping = 0
        self._symbols = symbols
        self._attrs = [symbols[name] for name in ATTRS]  # DocBin's order: ORTH, then sorted
        self._labels = _Labels(symbols)
        self._tokens = TokenCache()
        self._token_hashes = np.zeros(0, np.uint64)  # of each of self._tokens.strings

    def encode(self, records: Sequence[DocumentRecord]) -> bytes:
        texts = [record.text for record in records]
        sizes = np.fromiter(map(len, texts), np.int64, len(texts))
        bases = np.cumsum(sizes) - sizes
        spans = _Marks.of([record.spans for record in records], bases, self._labels)
        triggers = [[SpanRecord(*e.trigger, e.type) for e in r.events] for r in records]
        events = _Marks.of(triggers, bases, self._labels)
        spans.check(records)
        events.check(records)
        entities, others = spans.separate(records, self._labels)
        self.overlapping += len(others.docs)
        tokens = self._tokenize(texts, spans, events)
        rows = np.empty((len(tokens.ids), len(self._attrs)), np.uint64)
        rows[:, 0] = self._token_hashes[tokens.ids]
        rows[:, 1:] = entities.columns(tokens.starts)
        firsts = np.cumsum(tokens.counts) - tokens.counts
        groups = _span_groups(
            self._pack,
            (OVERLAP_KEY, others.packed(tokens.starts, firsts)),
            (EVENTS_KEY, events.packed(tokens.starts, firsts)),
        )
        used = np.zeros(len(self._tokens.strings), bool)
        used[tokens.ids] = True
        words = [self._tokens.strings[i] for i in np.flatnonzero(used).tolist()]
        message = {
            "version": "0.1",
            "attrs": self._attrs,
            "tokens": rows.tobytes("C"),
            "spaces": tokens.spaces.tobytes("C"),
            "lengths": tokens.counts.astype(np.int32).tobytes("C"),
            "strings": sorted({"", *words, *spans.names, *events.names}),
            "cats": [self._cats(record) for record in records],
            "flags": [{"has_unknown_spaces": False}] * len(records),
            "span_groups": groups,
            "user_data": [self._pack({USER_KEY: _user_data(r)}) for r in records],
        }
        payload = self._pack(message)
        if len(self._tokens) > CACHE_CHUNKS:
            self._tokens, self._token_hashes = TokenCache(), np.zeros(0, np.uint64)
        return payload

    def _tokenize(self, texts: list[str], spans: _Marks, events: _Marks) -> TokenIds:
        """Tokens split at every span and trigger edge; spaCy's hash of every new string."""
        tokens = self._tokens(
            texts,
            np.concatenate((spans.starts, events.starts)),
            np.concatenate((spans.ends, events.ends)),
        )
        strings = self._tokens.strings
        if len(self._token_hashes) < len(strings):
            added = string_ids(strings[len(self._token_hashes) :], self._symbols)
            self._token_hashes = np.concatenate((self._token_hashes, added))
        return tokens

    def _cats(self, record: DocumentRecord) -> dict[str, float]:
        cats: dict[str, float] = {}
        for stance in record.stance:
            for value in self.stance_values:
                cats.setdefault(category(stance.target, value), 0.0)
            cats[category(stance.target, stance.value)] = 1.0
        return cats


def _user_data(record: DocumentRecord) -> dict[str, Any]:
    return {
        "meta": pack_meta(record),
        "args": [[[a.role, a.start, a.end] for a in e.args] for e in record.events],
        "evidence": {
            category(s.target, s.value): [list(pair) for pair in s.evidence] for s in record.stance
        },
    }


class _Marks:
    """Labelled spans of a batch of texts, in the order of the texts: the text of each
    (``docs``), its offsets in the texts joined (the texts begin at ``bases``), its label's
    spaCy id; ``names`` holds the labels."""

    def __init__(
        self,
        bases: NDArray[np.int64],
        docs: NDArray[np.int64],
        offsets: tuple[NDArray[np.int64], NDArray[np.int64]],
        labels: NDArray[np.uint64],
        names: set[str],
    ) -> None:
        self.bases, self.docs, self.labels, self.names = bases, docs, labels, names
        self.starts, self.ends = offsets

    @classmethod
    def of(
        cls, spans: Sequence[Sequence[SpanRecord]], bases: NDArray[np.int64], labels: _Labels
    ) -> _Marks:
        """The spans of each text (offsets into that text)."""
        counts = np.fromiter(map(len, spans), np.int64, len(spans))
        flat = list(chain.from_iterable(spans))
        docs = np.repeat(np.arange(len(spans)), counts)
        starts = np.fromiter(map(attrgetter("start"), flat), np.int64, len(flat))
        ends = np.fromiter(map(attrgetter("end"), flat), np.int64, len(flat))
        names = list(map(attrgetter("label"), flat))
        offsets = (starts + bases[docs], ends + bases[docs])
        return cls(bases, docs, offsets, labels.ids(names), set(names))

    def subset(self, kept: NDArray[np.bool_]) -> _Marks:
        offsets = (self.starts[kept], self.ends[kept])
        return _Marks(self.bases, self.docs[kept], offsets, self.labels[kept], self.names)

    def check(self, records: Sequence[DocumentRecord]) -> None:
        """Raise FormatError unless each span is a non-empty range of its text."""
        sizes = np.fromiter((len(record.text) for record in records), np.int64, len(records))
        starts, ends = self.starts - self.bases[self.docs], self.ends - self.bases[self.docs]
        wrong = np.flatnonzero((starts < 0) | (ends <= starts) | (ends > sizes[self.docs]))
        if len(wrong):
            record = records[self.docs[wrong[0]]]
            check_span(record.text, int(starts[wrong[0]]), int(ends[wrong[0]]))

    def separate(self, records: Sequence[DocumentRecord], labels: _Labels) -> tuple[_Marks, _Marks]:
        """(entities, others): the spans ``doc.ents`` can hold and, in the texts where spans
        overlap, those ``split_overlapping`` leaves out of it, in its order."""
        order = np.lexsort((self.ends, self.starts))
        reach = np.maximum.accumulate(self.ends[order])
        overlap = np.unique(self.docs[order][1:][self.starts[order][1:] < reach[:-1]])
        left: list[list[SpanRecord]] = [[] for _ in records]
        kept = np.ones(len(self.docs), bool)
        firsts = np.searchsorted(self.docs, overlap)
        for doc, first in zip(overlap.tolist(), firsts.tolist(), strict=True):
            left[doc] = split_overlapping(records[doc].spans)[1]
            leaving = list(left[doc])
            for index, span in enumerate(records[doc].spans, start=first):
                if span in leaving:
                    leaving.remove(span)
                    kept[index] = False
        return self.subset(kept), _Marks.of(left, self.bases, labels)

    def columns(self, token_starts: NDArray[np.int64]) -> NDArray[np.uint64]:
        """ENT_IOB and ENT_TYPE of each token, these spans being ``doc.ents``."""
        size = len(token_starts)
        first = np.searchsorted(token_starts, self.starts)
        stop = np.searchsorted(token_starts, self.ends)
        number = np.arange(1, len(first) + 1)  # 0: outside every entity
        edges = np.zeros(size + 1, np.int64)
        edges[first] += number
        edges[stop] -= number
        inside = np.cumsum(edges[:-1])
        columns = np.empty((size, 2), np.uint64)
        columns[:, 0] = np.where(inside > 0, _INSIDE, _OUTSIDE)
        columns[first, 0] = _BEGIN
        columns[:, 1] = np.concatenate((np.zeros(1, np.uint64), self.labels))[inside]
        return columns

    def packed(
        self, token_starts: NDArray[np.int64], firsts: NDArray[np.int64]
    ) -> list[list[bytes]]:
        """The spans of each text as ``SpanGroup.to_bytes`` packs them (offsets in tokens
        and in characters of their text)."""
        packed: list[list[bytes]] = [[] for _ in self.bases]
        if not len(self.docs):
            return packed
        local = self.bases[self.docs]
        columns = (
            self.docs,
            self.labels,
            np.searchsorted(token_starts, self.starts) - firsts[self.docs],
            np.searchsorted(token_starts, self.ends) - firsts[self.docs],
            self.starts - local,
            self.ends - local,
        )
        for doc, *span in zip(*(column.tolist() for column in columns), strict=True):
            packed[doc].append(_SPAN.pack(0, 0, *span))
        return packed


def _span_groups(
    pack: Callable[[Any], bytes], *groups: tuple[str, list[list[bytes]]]
) -> list[bytes]:
    """Each text's ``SpanGroups.to_bytes``: its non-empty groups, in the order given."""
    out = []
    for spans in zip(*(packed for _, packed in groups), strict=True):
        message = {
            pack({"name": key, "attrs": {}, "spans": text_spans}): [key]
            for (key, _), text_spans in zip(groups, spans, strict=True)
            if text_spans
        }
        out.append(pack(message) if message else _NO_SPAN_GROUPS)
    return out


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
    spancat (on ``doc.spans["events"]``) as the data holds; returns its path.

    spaCy fills the config by building the language's pipeline, and French's class takes
    seconds to load (its tokenizer exceptions compile a large regular expression); the
    filled config of a language without a config of its own differs from that of the
    multi-language class ``xx`` by ``[nlp] lang`` only, so ``xx`` fills it."""
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
    filler = lang if lang in _OWN_CONFIG else "xx"
    config = init_config(lang=filler, pipeline=pipeline, optimize="efficiency", gpu=False)
    config["nlp"]["lang"] = lang
    if has_events:
        config["components"]["spancat"]["spans_key"] = EVENTS_KEY
        weights = config["training"]["score_weights"]
        for measure in ("f", "p", "r"):
            weights[f"spans_{EVENTS_KEY}_{measure}"] = weights.pop(f"spans_sc_{measure}")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "config.cfg"
    config.to_disk(path)
    return path
