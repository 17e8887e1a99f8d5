"""Label schema: TOML → validated, frozen dataclasses.

Every problem is reported as ``SchemaError`` naming the file, the entry and the problem.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from models.rules import SpanRules

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class SchemaError(ValueError):
    def __init__(self, source: str, entry: str, problem: str) -> None:
        super().__init__(f"{source}: {entry}: {problem}")
        self.source, self.entry, self.problem = source, entry, problem


@dataclass(frozen=True, slots=True)
class EntityLabel:
    id: str
    name: str
    colour: str
    key: str
    description: str


@dataclass(frozen=True, slots=True)
class Choice:
    id: str
    name: str
    key: str = ""


@dataclass(frozen=True, slots=True)
class EventType:
    id: str
    name: str
    roles: tuple[str, ...]
    triggers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LabelSchema:
    name: str
    language: str
    entities: tuple[EntityLabel, ...]
    stance_targets: tuple[Choice, ...]
    stance_values: tuple[Choice, ...]
    events: tuple[EventType, ...]
    roles: tuple[Choice, ...]
    toml: str
    rules: SpanRules = field(default_factory=SpanRules)

    def entity(self, label_id: str) -> EntityLabel | None:
        return next((label for label in self.entities if label.id == label_id), None)

    def entity_by_key(self, key: str) -> EntityLabel | None:
        return next((label for label in self.entities if label.key == key), None)

    @property
    def entity_ids(self) -> tuple[str, ...]:
        return tuple(label.id for label in self.entities)


def default_schema_text() -> str:
    return resources.files("resources").joinpath("schema/default.toml").read_text("utf-8")


def load_default() -> LabelSchema:
    return parse_schema(default_schema_text(), "resources/schema/default.toml")


def parse_schema(text: str, source: str = "<schema>") -> LabelSchema:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SchemaError(source, "TOML", str(error)) from error
    reader = _Reader(source)
    roles = tuple(
        reader.choice(item, f"roles[{i}]") for i, item in enumerate(data.get("roles", []))
    )
    reader.unique(roles, "roles", lambda c: c.id)
    role_ids = {role.id for role in roles}
    entities = tuple(
        reader.entity_label(item, f"entities[{i}]")
        for i, item in enumerate(data.get("entities", []))
    )
    if not entities:
        raise SchemaError(source, "entities", "the schema declares no entity label")
    reader.unique(entities, "entities", lambda e: e.id)
    reader.unique(entities, "entities", lambda e: e.key, what="shortcut key")
    stance = reader.table(data.get("stance", {}), "stance")
    targets = tuple(
        reader.choice(item, f"stance.targets[{i}]")
        for i, item in enumerate(stance.get("targets", []))
    )
    values = tuple(
        reader.choice(item, f"stance.values[{i}]", key_required=True)
        for i, item in enumerate(stance.get("values", []))
    )
    reader.unique(targets, "stance.targets", lambda c: c.id)
    reader.unique(values, "stance.values", lambda c: c.id)
    reader.unique(values, "stance.values", lambda c: c.key, what="shortcut key")
    if targets and not values:
        raise SchemaError(source, "stance.values", "stance targets are declared but no values")
    events = tuple(
        reader.event_type(item, f"events[{i}]", role_ids)
        for i, item in enumerate(data.get("events", []))
    )
    reader.unique(events, "events", lambda e: e.id)
    return LabelSchema(
        name=reader.text(data, "name", "schema", default="schema"),
        language=reader.text(data, "language", "schema", default="fr"),
        entities=entities,
        stance_targets=targets,
        stance_values=values,
        events=events,
        roles=roles,
        toml=text,
        rules=reader.rules(data.get("rules", {}), {e.id for e in entities}),
    )


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, entry: str, problem: str) -> SchemaError:
        return SchemaError(self.source, entry, problem)

    def table(self, item: Any, entry: str) -> dict[str, Any]:
        if not isinstance(item, dict):
            raise self.fail(entry, "expected a table")
        return item

    def text(self, item: dict[str, Any], field: str, entry: str, default: str | None = None) -> str:
        value = item.get(field, default)
        if value is None:
            raise self.fail(entry, f"missing field '{field}'")
        if not isinstance(value, str):
            raise self.fail(entry, f"field '{field}' must be a string")
        return value

    def identifier(self, item: dict[str, Any], entry: str) -> str:
        value = self.text(item, "id", entry)
        if not IDENTIFIER.match(value):
            raise self.fail(entry, f"id '{value}' must be ASCII letters, digits or _")
        return value

    def choice(self, item: Any, entry: str, key_required: bool = False) -> Choice:
        table = self.table(item, entry)
        identifier = self.identifier(table, entry)
        key = self.text(table, "key", entry, default=None if key_required else "")
        if key_required and len(key) != 1:
            raise self.fail(f"{entry} ({identifier})", f"key '{key}' must be one character")
        return Choice(identifier, self.text(table, "name", entry, default=identifier), key)

    def entity_label(self, item: Any, entry: str) -> EntityLabel:
        table = self.table(item, entry)
        identifier = self.identifier(table, entry)
        entry = f"{entry} ({identifier})"
        colour = self.text(table, "colour", entry)
        if not COLOUR.match(colour):
            raise self.fail(entry, f"bad colour '{colour}' (expected #rrggbb)")
        key = self.text(table, "key", entry)
        if len(key) != 1:
            raise self.fail(entry, f"key '{key}' must be one character")
        return EntityLabel(
            identifier,
            self.text(table, "name", entry, default=identifier),
            colour.lower(),
            key,
            self.text(table, "description", entry, default=""),
        )

    def event_type(self, item: Any, entry: str, role_ids: set[str]) -> EventType:
        table = self.table(item, entry)
        identifier = self.identifier(table, entry)
        entry = f"{entry} ({identifier})"
        roles = self.strings(table, "roles", entry)
        for role in roles:
            if role not in role_ids:
                raise self.fail(entry, f"unknown role '{role}' (declare it under [[roles]])")
        if len(set(roles)) != len(roles):
            raise self.fail(entry, "a role is listed twice")
        return EventType(
            identifier,
            self.text(table, "name", entry, default=identifier),
            roles,
            self.strings(table, "triggers", entry, required=False),
        )

    def strings(
        self, table: dict[str, Any], field: str, entry: str, required: bool = True
    ) -> tuple[str, ...]:
        value = table.get(field)
        if value is None and not required:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(entry, f"field '{field}' must be a list of strings")
        return tuple(value)

    def rules(self, item: Any, labels: set[str]) -> SpanRules:
        """The ``[rules]`` table: determiners (a table of lists by language),
        strip_punctuation, min_length, drop_labels (labels of the schema)."""
        table = self.table(item, "rules")
        unknown = set(table) - {"determiners", "strip_punctuation", "min_length", "drop_labels"}
        if unknown:
            raise self.fail("rules", f"unknown field '{sorted(unknown)[0]}'")
        by_language = self.table(table.get("determiners", {}), "rules.determiners")
        determiners = tuple(
            (language, self.strings(by_language, language, "rules.determiners"))
            for language in by_language
        )
        for language, words in determiners:
            if any(not word.strip() for word in words):
                raise self.fail(f"rules.determiners.{language}", "an empty determiner")
        strip = table.get("strip_punctuation", False)
        if not isinstance(strip, bool):
            raise self.fail("rules", "field 'strip_punctuation' must be true or false")
        min_length = table.get("min_length", 1)
        if not isinstance(min_length, int) or isinstance(min_length, bool) or min_length < 1:
            raise self.fail("rules", "field 'min_length' must be a whole number of at least 1")
        drop = self.strings(table, "drop_labels", "rules", required=False)
        for label in drop:
            if label not in labels:
                raise self.fail("rules", f"drop_labels: unknown entity label '{label}'")
        return SpanRules(determiners, strip, min_length, drop)

    def unique(self, items: Any, entry: str, key: Any, what: str = "id") -> None:
        seen: set[str] = set()
        for item in items:
            value = key(item)
            if value and value in seen:
                raise self.fail(entry, f"duplicate {what} '{value}'")
            seen.add(value)
