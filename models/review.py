"""Review: the compared annotators' layers of a document, item by item, and adjudication
into gold (no Qt).

Comparison. The layers of the compared annotators (default: every human annotator with a
layer in the project; ``status="done"`` counts finished layers only) are read as plain
records (``models.layer_io.layer_record``; only accepted events count). An item on which
every compared layer of the document agrees is *agreed*: an entity (span and label), a
stance value toward a target (evidence is the union of theirs), an event (type, trigger
and arguments). The rest forms *disagreement groups*: entities clustered by overlapping
spans, events by overlapping triggers, stance by target. A group has one version per
annotator with a layer, numbered by the annotator's place in the compared list (1, 2, ...);
an empty version is "nothing here". An annotator without a layer is absent, not a version.

Gold. Adjudication writes into the layer of the annotator "gold" (kind gold). The layer is
created empty on the first write, never seeded (from the model or from agreed items):
nothing enters gold without a reviewer's action, and "accept all agreed" brings the agreed
items in with one command. Taking a version and accepting the agreed items are macros of
the entity, stance and event commands, undone as one.

Progress. A group is resolved when the reviewer took a version of it (a decision kept in
gold's layer as a document label of task "review", never exported) or has items of gold's
own in it (an edit of gold). A document is adjudicated when its gold layer exists, every
group is resolved and its agreed items were accepted (or it has none); the command that
completes it also sets gold's layer status to done (undone with it), so adjudicated
documents export with ``--source gold --status done``. The review queue
orders documents by number of groups, then by lower mean pairwise exact-span F1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain, combinations
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from models.agreement.spans import F1Counts, exact_matches
from models.commands import AddEntity, Changes, Command, EditError, RemoveEntity, SetStatus
from models.events import AddArgument, AddEvent, RemoveEvent
from models.jobs import Job
from models.layer_io import layer_record
from models.layers import open_layer, touch
from models.records import DocumentRecord, EventRecord, Progress, SpanRecord, StanceRecord
from models.schema import Annotator, DocLabel, Document, Entity, Event, EventArgument, Layer
from models.stance import AddEvidence, SetStance
from models.store import ProjectInfo, Store
from models.transfer import GOLD

TASK = "review"
AGREED_KEY = "agreed"
STATUSES = ("any", "done")
Item = SpanRecord | StanceRecord | EventRecord


class ReviewError(ValueError):
    """A review that cannot start (unknown annotator or status filter)."""


@dataclass(frozen=True, slots=True)
class Version:
    number: int  # the annotator's key: place in the compared annotators, from 1
    annotator: str
    items: tuple[Item, ...]  # () is "nothing here"


@dataclass(frozen=True, slots=True)
class Group:
    kind: str  # entity, event or stance
    key: str  # stable while the annotations stay: "entity:12-20", "stance:RUSSIE"
    start: int
    end: int
    marks: tuple[tuple[int, int], ...]  # the competing spans, triggers or evidence
    versions: tuple[Version, ...]
    gold: tuple[Item, ...]  # gold's own items in the group
    decision: str | None  # the annotator whose version was taken

    @property
    def resolved(self) -> bool:
        return self.decision is not None or bool(self.gold)

    def version(self, number: int) -> Version | None:
        return next((v for v in self.versions if v.number == number), None)

    def in_gold(self) -> Version | None:
        """The version gold holds now (None while unresolved or edited to another)."""
        if not self.resolved:
            return None
        return next((v for v in self.versions if set(v.items) == set(self.gold)), None)


@dataclass(frozen=True, slots=True)
class Agreed:
    spans: tuple[SpanRecord, ...] = ()
    stance: tuple[StanceRecord, ...] = ()
    events: tuple[EventRecord, ...] = ()

    def __len__(self) -> int:
        return len(self.spans) + len(self.stance) + len(self.events)


@dataclass(frozen=True, slots=True)
class DocumentReview:
    document_id: int
    annotators: tuple[str, ...]  # every compared annotator, numbered from 1 in this order
    records: Mapping[str, DocumentRecord]  # the layers present on this document
    agreed: Agreed
    groups: tuple[Group, ...]  # entities and events in text order, then stance
    gold_layer_id: int | None
    agreed_accepted: bool
    f1: float | None  # mean pairwise exact-span F1 of entities; None when undefined
    status: str = "any"  # the layers compared: any, or done only

    @property
    def resolved(self) -> int:
        return sum(group.resolved for group in self.groups)

    @property
    def adjudicated(self) -> bool:
        agreed_done = self.agreed_accepted or not self.agreed
        return self.gold_layer_id is not None and agreed_done and self.resolved == len(self.groups)

    def group(self, key: str) -> Group:
        found = next((group for group in self.groups if group.key == key), None)
        if found is None:
            raise EditError(f"no disagreement '{key}' on document {self.document_id}")
        return found


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One document of the review queue."""

    document_id: int
    position: int
    title: str
    layers: int  # compared layers on the document
    groups: int
    resolved: int
    f1: float | None
    adjudicated: bool


# -- comparing ----------------------------------------------------------------------------
def compared_annotators(
    store: Store, project: ProjectInfo, names: Sequence[str] = (), status: str = "any"
) -> tuple[str, ...]:
    """``names`` in that order ("model" is the project's model annotator), else every human
    annotator with a counted layer in the project, by name."""
    if status not in STATUSES:
        raise ReviewError(f"unknown status filter '{status}' (any or done)")
    with store.reading() as session:
        if names:
            wanted = [project.model_annotator if n == "model" else n for n in names]
            known = set(session.scalars(select(Annotator.name).where(Annotator.name.in_(wanted))))
            unknown = [name for name in wanted if name not in known]
            if unknown:
                raise ReviewError(f"no annotator named {', '.join(map(repr, unknown))}")
            return tuple(dict.fromkeys(wanted))
        query = (
            select(Annotator.name)
            .distinct()
            .join(Layer, Layer.annotator_id == Annotator.id)
            .join(Document, Document.id == Layer.document_id)
            .where(Document.project_id == project.id, Annotator.kind == "human")
        )
        if status == "done":
            query = query.where(Layer.status == "done")
        return tuple(sorted(session.scalars(query)))


def gold_layer(store: Store, document_id: int) -> int:
    """Gold's layer of the document, created empty (the gold annotator too) if needed."""
    layer = open_layer(store, document_id, store.annotator_id(GOLD, "gold"), None, create=True)
    assert layer is not None  # create=True always gives a layer
    return layer.id


def review_document(
    store: Store, document_id: int, annotators: Sequence[str], status: str = "any"
) -> DocumentReview:
    with store.reading() as session:
        return _review(session, document_id, annotators, status)


def _review(
    session: Session, document_id: int, annotators: Sequence[str], status: str
) -> DocumentReview:
    layers = session.execute(
        select(Annotator.name, Layer.id, Layer.status)
        .join(Layer, Layer.annotator_id == Annotator.id)
        .where(Layer.document_id == document_id, Annotator.name.in_([*annotators, GOLD]))
    ).all()
    found = {name: (layer_id, state) for name, layer_id, state in layers}
    records = {
        name: layer_record(session, document_id, found[name][0])
        for name in annotators
        if name in found and (status == "any" or found[name][1] == "done")
    }
    gold_id = found[GOLD][0] if GOLD in found else None
    gold = layer_record(session, document_id, gold_id) if gold_id else None
    decisions: dict[str, str] = dict(
        session.execute(
            select(DocLabel.target, DocLabel.value).where(
                DocLabel.layer_id == gold_id, DocLabel.task == TASK
            )
        ).all()
    )
    numbers = {name: number for number, name in enumerate(annotators, 1)}
    entity_sets = {numbers[n]: (n, set(r.spans)) for n, r in records.items()}
    event_sets = {numbers[n]: (n, set(r.events)) for n, r in records.items()}
    spans, entity_groups = _split("entity", entity_sets, _span_extent, gold, decisions)
    events, event_groups = _split("event", event_sets, _event_extent, gold, decisions)
    stance, stance_groups = _stance(records, numbers, gold, decisions)
    groups = sorted([*entity_groups, *event_groups], key=lambda g: (g.start, g.end, g.kind))
    return DocumentReview(
        document_id,
        tuple(annotators),
        records,
        Agreed(spans, stance, events),
        (*groups, *stance_groups),
        gold_id,
        AGREED_KEY in decisions,
        _mean_f1([record.spans for record in records.values()]),
        status,
    )


def _span_extent(item: Item) -> tuple[int, int]:
    assert isinstance(item, SpanRecord)
    return item.start, item.end


def _event_extent(item: Item) -> tuple[int, int]:
    assert isinstance(item, EventRecord)
    return item.trigger


def _split(
    kind: str,
    sets: dict[int, tuple[str, set[Any]]],
    extent: Callable[[Item], tuple[int, int]],
    gold: DocumentRecord | None,
    decisions: Mapping[str, str],
) -> tuple[tuple[Any, ...], list[Group]]:
    """Agreed items and the groups of the others, clustered by overlapping extents; ``sets``
    maps each annotator's number to its name and items."""
    agreed: set[Any] = set.intersection(*(items for _, items in sets.values())) if sets else set()
    rest = sorted(
        (
            (extent(item), number, item)
            for number, (_, items) in sets.items()
            for item in items - agreed
        ),
        key=lambda entry: (entry[0], entry[1], repr(entry[2])),
    )
    clusters: list[list[tuple[tuple[int, int], int, Item]]] = []
    end = -1
    for entry in rest:
        if clusters and entry[0][0] < end:
            clusters[-1].append(entry)
            end = max(end, entry[0][1])
        else:
            clusters.append([entry])
            end = entry[0][1]
    gold_items: list[Item] = []
    if gold is not None:
        gold_items = [*(gold.spans if kind == "entity" else gold.events)]
    groups = []
    for cluster in clusters:
        start, stop = cluster[0][0][0], max(entry[0][1] for entry in cluster)
        key = f"{kind}:{start}-{stop}"
        own = [g for g in gold_items if g not in agreed and _overlaps(extent(g), (start, stop))]
        versions = tuple(
            Version(number, name, _sorted((e[2] for e in cluster if e[1] == number), extent))
            for number, (name, _) in sets.items()
        )
        marks = tuple(sorted({entry[0] for entry in cluster}))
        group = Group(
            kind, key, start, stop, marks, versions, _sorted(own, extent), decisions.get(key)
        )
        groups.append(group)
    return _sorted(agreed, extent), groups


def _stance(
    records: Mapping[str, DocumentRecord],
    numbers: Mapping[str, int],
    gold: DocumentRecord | None,
    decisions: Mapping[str, str],
) -> tuple[tuple[StanceRecord, ...], list[Group]]:
    by_target: dict[str, dict[str, StanceRecord | None]] = {}
    for name, record in records.items():
        for item in record.stance:
            by_target.setdefault(item.target, dict.fromkeys(records))[name] = item
    gold_stance = {item.target: item for item in gold.stance} if gold else {}
    agreed, groups = [], []
    for target, chosen in sorted(by_target.items()):
        values = {item.value if item else None for item in chosen.values()}
        evidence = sorted({span for item in chosen.values() if item for span in item.evidence})
        if len(values) == 1 and None not in values:
            agreed.append(StanceRecord(target, values.pop() or "", tuple(evidence)))
            continue
        key = f"stance:{target}"
        start, end = (evidence[0][0], max(e for _, e in evidence)) if evidence else (0, 0)
        versions = tuple(
            Version(numbers[name], name, (item,) if item else ()) for name, item in chosen.items()
        )
        own = (gold_stance[target],) if target in gold_stance else ()
        groups.append(
            Group("stance", key, start, end, tuple(evidence), versions, own, decisions.get(key))
        )
    return tuple(agreed), groups


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _sorted(items: Iterable[Any], extent: Callable[[Item], tuple[int, int]]) -> tuple[Any, ...]:
    return tuple(sorted(items, key=lambda item: (extent(item), repr(item))))


def _mean_f1(layers: Sequence[Sequence[SpanRecord]]) -> float | None:
    scores = []
    for a, b in combinations(layers, 2):
        counts = F1Counts()
        counts.add(exact_matches(a, b), a, b)
        value = counts.f1().value
        if value is not None:
            scores.append(value)
    return sum(scores) / len(scores) if scores else None


def review_queue(
    store: Store, project_id: int, annotators: Sequence[str], status: str = "any"
) -> Job[list[QueueRow]]:
    """Documents with a compared layer, most disagreement first (see the module doc)."""
    query = (
        select(Document.id, Document.position, Document.title)
        .distinct()
        .join(Layer, Layer.document_id == Document.id)
        .join(Annotator, Annotator.id == Layer.annotator_id)
        .where(Document.project_id == project_id, Annotator.name.in_(annotators))
        .order_by(Document.position)
    )
    if status == "done":
        query = query.where(Layer.status == "done")
    with store.reading() as session:
        documents = session.execute(query).all()
    rows = []
    for done, (document_id, position, title) in enumerate(documents, 1):
        review = review_document(store, document_id, annotators, status)
        rows.append(queue_row(review, position, title))
        yield Progress(done, len(documents), "comparing annotators")
    return sorted(rows, key=queue_order)


def queue_row(review: DocumentReview, position: int, title: str) -> QueueRow:
    return QueueRow(
        review.document_id,
        position,
        title,
        len(review.records),
        len(review.groups),
        review.resolved,
        review.f1,
        review.adjudicated,
    )


def queue_order(row: QueueRow) -> tuple[int, float, int]:
    return -row.groups, 1.0 if row.f1 is None else row.f1, row.position


# -- adjudicating -------------------------------------------------------------------------
@dataclass
class Decide(Command):
    """Record in gold's layer that the group ``key`` was settled with ``value``."""

    layer_id: int
    key: str
    value: str
    text: str = "record review decision"
    _before: dict[str, Any] | None = field(default=None, repr=False)

    def do(self, session: Session) -> Changes:
        self._before = self._take(session)
        row = {"layer_id": self.layer_id, "task": TASK, "target": self.key, "value": self.value}
        session.execute(insert(DocLabel).values(row))
        return self._changes(session)

    def undo(self, session: Session) -> Changes:
        self._take(session)
        if self._before is not None:
            session.execute(insert(DocLabel).values(self._before))
        return self._changes(session)

    def _take(self, session: Session) -> dict[str, Any] | None:
        where = (DocLabel.layer_id == self.layer_id, DocLabel.task == TASK)
        row = session.scalar(select(DocLabel).where(*where, DocLabel.target == self.key))
        if row is None:
            return None
        columns = ("id", "layer_id", "task", "target", "value", "evidence", "origin")
        before = {column: getattr(row, column) for column in columns}
        session.execute(delete(DocLabel).where(DocLabel.id == row.id))
        return before

    def _changes(self, session: Session) -> Changes:
        touch(session, self.layer_id)
        return Changes(self.layer_id, doc_labels=True)


class _Macro(Command):
    """Sub-commands planned on the first do (reading gold as it is then), redone and undone
    as one; later steps of the plan see what earlier ones did (new ids). When the plan
    completes the document's adjudication, a last step sets gold's layer status to done."""

    def __init__(self, layer_id: int, review: DocumentReview, text: str) -> None:
        self.layer_id, self.review, self.text = layer_id, review, text
        self._steps: list[Command] | None = None

    def plan(self, session: Session) -> Iterator[Command]:
        raise NotImplementedError

    def do(self, session: Session) -> Changes:
        if self._steps is not None:
            return self._merge([step.do(session) for step in self._steps])
        steps, changes = [], []
        for step in chain(self.plan(session), self._complete(session)):
            changes.append(step.do(session))
            steps.append(step)
        self._steps = steps
        return self._merge(changes)

    def _complete(self, session: Session) -> Iterator[Command]:
        """Gold's layer done when, after the plan, the document is adjudicated."""
        review = self.review
        after = _review(session, review.document_id, review.annotators, review.status)
        status = session.scalar(select(Layer.status).where(Layer.id == self.layer_id))
        if after.adjudicated and status != "done":
            yield SetStatus(self.layer_id, "done")

    def undo(self, session: Session) -> Changes:
        assert self._steps is not None
        return self._merge([step.undo(session) for step in reversed(self._steps)])

    def _merge(self, changes: list[Changes]) -> Changes:
        return Changes(
            self.layer_id,
            tuple(r for c in changes for r in c.ranges),
            entities=any(c.entities for c in changes),
            doc_labels=any(c.doc_labels for c in changes),
            events=any(c.events for c in changes),
            status=any(c.status for c in changes),
        )


class TakeVersion(_Macro):
    """Gold takes annotator ``number``'s version of a group: gold's own items in the group
    that the version lacks are removed, the version's items gold lacks are added."""

    def __init__(self, layer_id: int, review: DocumentReview, key: str, number: int) -> None:
        super().__init__(layer_id, review, "take version")
        self.group = review.group(key)
        version = self.group.version(number)
        if version is None:
            raise EditError(f"annotator {number} has no version of this disagreement")
        self.version, self.record = version, review.records[version.annotator]
        self.text = f"take {version.annotator}'s version"

    def plan(self, session: Session) -> Iterator[Command]:
        group, items = self.group, self.version.items
        if group.kind == "stance":
            target = group.key.split(":", 1)[1]
            if group.gold:
                yield SetStance(self.layer_id, target, value=None)
            yield from _set_stance(self.layer_id, items)
        for item in (i for i in group.gold if i not in items):
            if isinstance(item, SpanRecord):
                for entity_id in _entity_ids(session, self.layer_id, item):
                    yield RemoveEntity(entity_id)
            elif isinstance(item, EventRecord):
                for event_id, _ in _gold_events(session, self.layer_id, item):
                    yield RemoveEvent(event_id)
        for item in (i for i in items if i not in group.gold):
            if isinstance(item, SpanRecord):
                yield AddEntity(self.layer_id, item.start, item.end, item.label)
            elif isinstance(item, EventRecord):
                yield from _add_event(session, self.layer_id, item, self.record.spans)
        yield Decide(self.layer_id, group.key, self.version.annotator)


class AcceptAgreed(_Macro):
    """Gold takes every agreed item it lacks. An agreed entity whose span gold already has
    with another label, or a stance target gold already has, is left as the reviewer made it."""

    def __init__(self, layer_id: int, review: DocumentReview) -> None:
        super().__init__(layer_id, review, "accept all agreed")
        self.agreed = review.agreed
        self.spans = [span for record in review.records.values() for span in record.spans]

    def plan(self, session: Session) -> Iterator[Command]:
        rows = session.execute(
            select(Entity.start, Entity.end, Entity.label).where(Entity.layer_id == self.layer_id)
        ).all()
        spans = {(start, end) for start, end, _ in rows}
        for span in self.agreed.spans:
            if (span.start, span.end) not in spans:
                yield AddEntity(self.layer_id, span.start, span.end, span.label)
        targets = set(
            session.scalars(
                select(DocLabel.target).where(
                    DocLabel.layer_id == self.layer_id, DocLabel.task == "stance"
                )
            )
        )
        for item in self.agreed.stance:
            if item.target not in targets:
                yield from _set_stance(self.layer_id, (item,))
        for event in self.agreed.events:
            if not _gold_events(session, self.layer_id, event):
                yield from _add_event(session, self.layer_id, event, self.spans)
        yield Decide(self.layer_id, AGREED_KEY, "accepted")


def _set_stance(layer_id: int, items: tuple[Item, ...]) -> Iterator[Command]:
    for item in items:
        assert isinstance(item, StanceRecord)
        yield SetStance(layer_id, item.target, value=item.value)
        for start, end in item.evidence:
            yield AddEvidence(layer_id, item.target, start=start, end=end)


def _entity_ids(session: Session, layer_id: int, span: SpanRecord) -> list[int]:
    return list(
        session.scalars(
            select(Entity.id)
            .where(Entity.layer_id == layer_id, Entity.start == span.start)
            .where(Entity.end == span.end, Entity.label == span.label)
            .order_by(Entity.id)
        )
    )


def _gold_events(session: Session, layer_id: int, wanted: EventRecord) -> list[tuple[int, str]]:
    """(id, type) of gold's accepted events equal to ``wanted`` (trigger, type, arguments)."""
    found = []
    for event_id, kind in session.execute(
        select(Event.id, Event.type).where(
            Event.layer_id == layer_id,
            Event.state == "accepted",
            Event.type == wanted.type,
            Event.trigger_start == wanted.trigger[0],
            Event.trigger_end == wanted.trigger[1],
        )
    ):
        arguments = session.execute(
            select(EventArgument.role, Entity.start, Entity.end)
            .join(Entity, Entity.id == EventArgument.entity_id)
            .where(EventArgument.event_id == event_id)
        ).all()
        if sorted(arguments) == sorted((a.role, a.start, a.end) for a in wanted.args):
            found.append((event_id, kind))
    return found


def _add_event(
    session: Session, layer_id: int, event: EventRecord, spans: Sequence[SpanRecord]
) -> Iterator[Command]:
    """Add the event and its arguments; an argument's entity missing from gold is added with
    the label it has in ``spans`` (the layer the event comes from)."""
    labels = {(span.start, span.end): span.label for span in spans}
    add = AddEvent(layer_id, event.type, event.trigger[0], event.trigger[1])
    yield add
    assert add.event_id is not None
    for argument in event.args:
        entity_id = session.scalar(
            select(Entity.id)
            .where(Entity.layer_id == layer_id, Entity.start == argument.start)
            .where(Entity.end == argument.end)
            .order_by(Entity.id)
            .limit(1)
        )
        if entity_id is None:
            entity = AddEntity(
                layer_id, argument.start, argument.end, labels[argument.start, argument.end]
            )
            yield entity
            entity_id = entity.entity_id
        assert entity_id is not None
        yield AddArgument(add.event_id, argument.role, entity_id)
