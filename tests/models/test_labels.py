"""Label schema: the default parses; every kind of mistake names file, entry and problem."""

from __future__ import annotations

import pytest

from models.labels import SchemaError, load_default, parse_schema

SOURCE = "team.toml"
PER = '[[entities]]\nid = "PER"\ncolour = "#d9485f"\nkey = "1"\n'
ORG = '[[entities]]\nid = "ORG"\ncolour = "#2f7fd8"\nkey = "2"\n'


def test_labels_default_schema_parses() -> None:
    schema = load_default()
    assert schema.entity_ids == ("PER", "ORG", "LOC", "MISC")
    assert [label.key for label in schema.entities] == ["1", "2", "3", "4"]
    assert schema.entity_by_key("3") == schema.entity("LOC")
    assert [target.name for target in schema.stance_targets] == [
        "Russie",
        "Chine",
        "Ukraine",
        "États-Unis",
        "Occident/UE/OTAN",
    ]
    assert [(value.id, value.key) for value in schema.stance_values] == [
        ("favorable", "f"),
        ("neutre", "n"),
        ("defavorable", "d"),
    ]
    events = {event.id: event for event in schema.events}
    assert len(events) == 8
    assert events["VISITE_OFFICIELLE"].roles == ("visiteur", "hote", "lieu", "date")
    role_ids = {role.id for role in schema.roles}
    assert all(set(event.roles) <= role_ids for event in schema.events)
    assert all(label.colour.startswith("#") and len(label.colour) == 7 for label in schema.entities)


def test_labels_minimal_schema_fills_defaults() -> None:
    schema = parse_schema(PER, SOURCE)
    (label,) = schema.entities
    assert (label.id, label.name, label.colour, label.description) == ("PER", "PER", "#d9485f", "")
    assert schema.events == () and schema.stance_targets == ()
    assert schema.toml == PER


@pytest.mark.parametrize(
    ("text", "entry", "problem"),
    [
        pytest.param(
            PER + ORG.replace('key = "2"', 'key = "1"'),
            "entities",
            "duplicate shortcut key '1'",
            id="duplicate-key",
        ),
        pytest.param(
            PER + ORG.replace('id = "ORG"', 'id = "PER"'),
            "entities",
            "duplicate id 'PER'",
            id="duplicate-id",
        ),
        pytest.param(
            PER + '[[events]]\nid = "VISITE"\nroles = ["hote"]\n',
            "events[0] (VISITE)",
            "unknown role 'hote'",
            id="unknown-role",
        ),
        pytest.param(
            PER + ORG.replace('colour = "#2f7fd8"\n', ""),
            "entities[1] (ORG)",
            "missing field 'colour'",
            id="missing-field",
        ),
        pytest.param(
            PER.replace("#d9485f", "red"),
            "entities[0] (PER)",
            "bad colour 'red'",
            id="bad-colour",
        ),
        pytest.param(PER + "[[entities]\n", "TOML", "", id="bad-toml"),
    ],
)
def test_labels_errors_name_file_entry_and_problem(text: str, entry: str, problem: str) -> None:
    with pytest.raises(SchemaError) as caught:
        parse_schema(text, SOURCE)
    error = caught.value
    assert (error.source, error.entry) == (SOURCE, entry)
    assert error.problem and problem in error.problem
    assert str(error).startswith(f"{SOURCE}: {entry}: ")


def test_labels_schema_without_entities_is_refused() -> None:
    with pytest.raises(SchemaError, match="no entity label"):
        parse_schema('name = "empty"\n', SOURCE)
