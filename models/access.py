"""Who may change which layer, and optimistic locking of a layer by its version.

In team mode a session is signed in as one annotator (``Store.sign_in``): it may change
only that annotator's layers, and the gold layers when the annotator is a reviewer.
``Store.do`` checks it inside the edit's transaction, so a refused edit changes nothing;
``models.layers`` applies the same rule to creating a layer and to adding time to one.

A command may carry the layer version its author saw (``LayerVersion``): ``Store.do``
locks the layer row with ``UPDATE ... WHERE version = expected`` before applying it, and
refuses a stale edit with ``StaleLayerError`` (reviewers editing one gold layer).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.db import DatabaseError
from models.schema import Annotator, Layer


class AccessError(PermissionError):
    """The signed-in annotator may not change that layer; nothing was changed."""


class StaleLayerError(DatabaseError):
    """The layer changed since its version was read; nothing was changed. Reload it."""

    def __init__(self, message: str, layer_id: int, expected: int, current: int) -> None:
        super().__init__(message)
        self.layer_id, self.expected, self.current = layer_id, expected, current


@dataclass(frozen=True, slots=True)
class Identity:
    """The annotator a team session is signed in as."""

    annotator_id: int
    name: str
    reviewer: bool = False


@dataclass(frozen=True, slots=True)
class LayerVersion:
    """The version of a layer as its editor last saw it."""

    layer_id: int
    version: int


def layer_version(session: Session, layer_id: int) -> int | None:
    return session.scalar(select(Layer.version).where(Layer.id == layer_id))


def lock_expected(session: Session, expected: LayerVersion) -> None:
    """Lock the layer row if it is still at the expected version, else refuse the edit.

    On PostgreSQL a concurrent writer of the row makes this wait for its commit and then
    see the new version; on SQLite the write transaction already holds the database lock.
    """
    locked = session.execute(
        update(Layer)
        .where(Layer.id == expected.layer_id, Layer.version == expected.version)
        .values(version=Layer.version)
    )
    if locked.rowcount == 1:  # type: ignore[attr-defined]
        return
    row = session.execute(
        select(Layer.version, Layer.document_id, Annotator.name, Annotator.kind)
        .join(Annotator, Annotator.id == Layer.annotator_id)
        .where(Layer.id == expected.layer_id)
    ).first()
    if row is None:
        raise StaleLayerError(
            f"layer {expected.layer_id} no longer exists", expected.layer_id, expected.version, 0
        )
    current, document_id, name, kind = row
    owner = "gold layer" if kind == "gold" else f"layer of {name}"
    raise StaleLayerError(
        f"{owner} of document {document_id} changed since you opened it "
        f"(version {expected.version} → {current}); reloaded, nothing was changed",
        expected.layer_id,
        expected.version,
        current,
    )


def check_access(session: Session, identity: Identity, layer_id: int) -> None:
    """Refuse the edit unless the layer is the identity's own, or gold for a reviewer."""
    row = session.execute(
        select(Layer.annotator_id, Layer.document_id).where(Layer.id == layer_id)
    ).first()
    if row is None:
        return  # the command itself reports a missing layer
    refused = refusal(session, identity, *row)
    if refused is not None:
        raise refused


def refusal(
    session: Session, identity: Identity, annotator_id: int, document_id: int
) -> AccessError | None:
    """Why the identity may not change (or create) ``annotator_id``'s layer of the document;
    None when it may: its own layer, or gold for a reviewer."""
    if annotator_id == identity.annotator_id:
        return None
    row = session.execute(
        select(Annotator.name, Annotator.kind).where(Annotator.id == annotator_id)
    ).first()
    if row is None:
        return None  # the caller reports a missing annotator
    owner, kind = row
    if kind == "gold" and identity.reviewer:
        return None
    if kind == "gold":
        reason = f"{identity.name} is not a reviewer: only reviewers change the gold layer"
    else:
        reason = f"this is the layer of {owner}: an analyst changes only their own layers"
    return AccessError(
        f"{identity.name} may not change that layer of document {document_id}: {reason}"
    )
