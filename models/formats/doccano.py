"""doccano JSONL, offsets in Python code points (as doccano counts characters).

Sequence labelling (records without events)::

    {"text": ..., "label": [[start, end, "LABEL"], ...], <meta fields>...}

Relation labelling (records with events)::

    {"text": ..., "entities": [{"id", "label", "start_offset", "end_offset"}],
     "relations": [{"id", "from_id", "to_id", "type"}], <meta fields>...}

Events in the relation variant: each trigger is an entity labelled ``EVENT:TYPE``; each
argument is a relation from the trigger to the entity with the argument's offsets (an
entity labelled ``EVENT_ARG`` is added when no entity has them), typed by the role.
Meta fields (and title, external_id, annotator, status) are top-level keys. Stance is not
carried. Read accepts both variants (and ``labels`` for ``label``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from models.formats.common import (
    FormatError,
    JsonlWriter,
    as_int,
    as_str,
    check_span,
    count_lines,
    first_json,
    pack_meta,
    read_jsonl_records,
    span,
    unpack_meta,
)
from models.records import ArgumentRecord, DocumentRecord, EventRecord, Problem

EVENT_PREFIX = "EVENT:"
ARGUMENT_LABEL = "EVENT_ARG"
_RESERVED = ("text", "label", "labels", "entities", "relations")


class Writer(JsonlWriter):
    """Streams doccano lines: sequence labelling, or entities/relations with events."""

    def encode(self, record: DocumentRecord) -> dict[str, Any]:
        item = {k: v for k, v in pack_meta(record).items() if k not in _RESERVED}
        item["text"] = record.text
        if not record.events:
            item["label"] = [[s.start, s.end, s.label] for s in record.spans]
            return item
        entities: list[dict[str, Any]] = []
        by_offsets: dict[tuple[int, int], int] = {}

        def add(start: int, end: int, label: str) -> int:
            entities.append(
                {"id": len(entities) + 1, "label": label, "start_offset": start, "end_offset": end}
            )
            return len(entities)

        for s in record.spans:
            by_offsets.setdefault((s.start, s.end), add(s.start, s.end, s.label))
        relations: list[dict[str, Any]] = []
        for event in record.events:
            trigger = add(*event.trigger, EVENT_PREFIX + event.type)
            for arg in event.args:
                target = by_offsets.get((arg.start, arg.end))
                if target is None:
                    target = by_offsets[arg.start, arg.end] = add(
                        arg.start, arg.end, ARGUMENT_LABEL
                    )
                relations.append(
                    {
                        "id": len(relations) + 1,
                        "from_id": trigger,
                        "to_id": target,
                        "type": arg.role,
                    }
                )
        item["entities"] = entities
        item["relations"] = relations
        return item


def decode(item: dict[str, Any]) -> DocumentRecord:
    text = as_str(item["text"], "text")
    record = unpack_meta(text, {k: v for k, v in item.items() if k not in _RESERVED})
    if "entities" in item:
        _decode_relations(record, item)
        return record
    for entry in item.get("label", item.get("labels")) or []:
        if not isinstance(entry, list) or len(entry) != 3:
            raise FormatError(f"a label must be [start, end, label], not {entry!r}")
        record.spans.append(span(text, *entry))
    return record


def _decode_relations(record: DocumentRecord, item: dict[str, Any]) -> None:
    text = record.text
    offsets: dict[Any, tuple[int, int]] = {}
    triggers: dict[Any, str] = {}
    for entity in item["entities"]:
        start = as_int(entity["start_offset"], "start_offset")
        end = as_int(entity["end_offset"], "end_offset")
        label = as_str(entity["label"], "label")
        check_span(text, start, end)
        offsets[entity["id"]] = (start, end)
        if label.startswith(EVENT_PREFIX):
            triggers[entity["id"]] = label.removeprefix(EVENT_PREFIX)
        elif label != ARGUMENT_LABEL:
            record.spans.append(span(text, start, end, label))
    args: dict[Any, list[ArgumentRecord]] = {key: [] for key in triggers}
    for relation in item.get("relations") or []:
        source, target = relation["from_id"], relation["to_id"]
        if source not in triggers or target not in offsets:
            raise FormatError(f"relation {relation.get('id')!r} does not link an event trigger")
        args[source].append(ArgumentRecord(as_str(relation["type"], "type"), *offsets[target]))
    record.events = [
        EventRecord(kind, offsets[key], tuple(args[key])) for key, kind in triggers.items()
    ]


count = count_lines  # the records of a file, for the import's progress


def read(path: Path) -> Iterator[DocumentRecord | Problem]:
    return read_jsonl_records(path, decode)


def sniff(path: Path) -> bool:
    """True when the first line is a doccano object ("label" pairs or "entities")."""
    item = first_json(path)
    if not isinstance(item, dict) or not isinstance(item.get("text"), str):
        return False
    labels = item.get("label", item.get("labels"))
    return (isinstance(labels, list) and "spans" not in item) or "entities" in item
