"""Bulk helpers: JSON at speed with the standard library's results, ids without RETURNING,
multi-row inserts, and the read-ahead of the import."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from models.bulk import insert_ids, insert_many
from models.json_codec import dumps, loads
from models.read_ahead import read_ahead
from models.schema import Document, Entity, Layer
from models.store import ProjectInfo, Store

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats()
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def same(a: Any, b: Any) -> bool:
    """Equal, NaN equal to NaN (json.loads gives NaN for NaN)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@given(JSON_VALUES)
def test_bulk_json_codec_reads_and_writes_as_the_standard_library(value: Any) -> None:
    standard = json.dumps(value, ensure_ascii=False)
    assert same(loads(standard.encode()), json.loads(standard))
    assert same(loads(standard), json.loads(standard))
    assert same(json.loads(dumps(value)), value)  # NaN and infinities stay themselves


@pytest.mark.parametrize(
    "line",
    [b'{"a": NaN}', b'["\\ud800"]', b"[1e400]", b"[123456789012345678901234567890]"],
)
def test_bulk_json_codec_takes_what_json_takes(line: bytes) -> None:
    assert same(loads(line), json.loads(line))


@pytest.mark.parametrize("line", [b"[1,]", b'{"a": 1} x', b'{"a": "\xff"}', b"{"])
def test_bulk_json_codec_errors_are_those_of_json(line: bytes) -> None:
    with pytest.raises(ValueError) as expected:
        json.loads(line.decode("utf-8"))
    with pytest.raises(type(expected.value)) as error:
        loads(line)
    assert str(error.value) == str(expected.value)


def test_bulk_json_codec_writes_compact_utf8_and_what_msgspec_cannot() -> None:
    assert (
        dumps({"é": [1, 2.5, None], "n": 2**70}) == '{"é":[1,2.5,null],"n":1180591620717411303424}'
    )
    assert dumps({"a": math.nan, "b": None}) == '{"a":NaN,"b":null}'
    assert dumps({1: "x"}) == '{"1":"x"}'


def test_bulk_insert_ids_on_both_backends_gives_ids_in_order_with_defaults_and_json(
    store: Store, project: ProjectInfo, doc_id: int
) -> None:
    rows = [
        {
            "project_id": project.id,
            "title": f"t{n}",
            "text": f"texte {n}",
            "sha256": f"{n:064d}",
            "meta": {"source": "Le Monde", "n": n},
            "position": 100 + n,
        }
        for n in range(3)
    ]
    annotator = store.annotator_id("zoé")
    with store.transaction() as session:
        ids = insert_ids(session, Document, rows)
        layer_ids = insert_ids(
            session,
            Layer,
            [{"document_id": i, "annotator_id": annotator, "status": "todo"} for i in ids],
        )
    assert len(set(ids)) == 3 and min(ids) > doc_id and ids == sorted(ids)
    with store.reading() as session:
        found = session.execute(
            select(Document.id, Document.title, Document.meta).where(Document.id.in_(ids))
        ).all()
        layers = session.execute(
            select(
                Layer.id, Layer.document_id, Layer.version, Layer.seconds, Layer.updated_at
            ).where(Layer.id.in_(layer_ids))
        ).all()
    assert sorted(found) == [
        (i, f"t{n}", {"source": "Le Monde", "n": n}) for n, i in enumerate(ids)
    ]
    assert sorted((row[0], row[1], row[2], row[3]) for row in layers) == [
        (layer_id, document_id, 1, 0.0)
        for layer_id, document_id in zip(layer_ids, ids, strict=True)
    ]
    assert all(row[4] is not None for row in layers)


def test_bulk_insert_many_splits_rows_into_statements_sqlite_takes(
    store: Store, project: ProjectInfo, doc_id: int
) -> None:
    annotator = store.annotator_id("zoé")
    with store.transaction() as session:
        (layer_id,) = insert_ids(
            session, Layer, [{"document_id": doc_id, "annotator_id": annotator, "status": "todo"}]
        )
        rows = [(layer_id, n, n + 1, "PER", "import") for n in range(12_345)]
        insert_many(session, Entity, ("layer_id", "start", "end", "label", "origin"), rows)
    with store.reading() as session:
        stored = session.execute(
            select(Entity.layer_id, Entity.start, Entity.end, Entity.label, Entity.origin)
            .where(Entity.layer_id == layer_id)
            .order_by(Entity.id)
        ).all()
    assert [tuple(row) for row in stored] == rows


def test_bulk_read_ahead_gives_every_item_in_order_from_another_thread() -> None:
    threads = []

    def items() -> Iterator[int]:
        for n in range(50):
            threads.append(threading.get_ident())
            yield n

    assert list(read_ahead(items())) == list(range(50))
    assert set(threads) == {threads[0]} != {threading.get_ident()}


def test_bulk_read_ahead_raises_at_the_place_of_the_error_and_closes_on_close() -> None:
    closed = []

    def items() -> Iterator[int]:
        try:
            yield 1
            yield 2
            raise OSError("disk gone")
        finally:
            closed.append(True)

    got = []
    with pytest.raises(OSError, match="disk gone"):
        for item in read_ahead(items()):
            got.append(item)
    assert got == [1, 2]
    endless = read_ahead(iter(range(10**9)))
    assert next(endless) == 0
    source = items()
    stopped = read_ahead(source)
    assert next(stopped) == 1
    stopped.close()  # waits for the item being read ahead, then closes the source
    assert closed == [True, True]
    endless.close()
