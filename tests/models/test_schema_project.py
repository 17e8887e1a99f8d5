"""A project's label schema from ``glose import --schema FILE``: set for a new project,
refused for an existing project with another schema, malformed files named precisely."""

from __future__ import annotations

from pathlib import Path

import pytest

from models import cli
from models.labels import default_schema_text
from models.store import Store

CUSTOM = """name = "equipe"
[[entities]]
id = "PER"
colour = "#d9485f"
key = "1"
[[entities]]
id = "GPE"
colour = "#2e9e5b"
key = "2"
[[roles]]
id = "lieu"
[[events]]
id = "VISITE"
roles = ["lieu"]
triggers = ["visite"]
"""


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "schema.sqlite")


@pytest.fixture
def text(tmp_path: Path) -> Path:
    path = tmp_path / "a.txt"
    path.write_text("Poutine en visite à Pékin.\n", "utf-8")
    return path


def _schema(tmp_path: Path, content: str | bytes, name: str = "team.toml") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, "utf-8")
    return path


def _project_entities(db: str, name: str) -> tuple[tuple[str, ...], int] | None:
    store = Store.open(db)
    try:
        project = store.project(name)
        if project is None:
            return None
        return project.schema.entity_ids, store.count_documents(project.id, 0)
    finally:
        store.close()


def test_schema_project_import_sets_the_schema_of_a_new_project(
    db: str, text: Path, tmp_path: Path
) -> None:
    schema = _schema(tmp_path, CUSTOM)
    argv = ["import", str(text), "--db", db, "--project", "p", "--schema", str(schema)]
    assert cli.main(argv) == 0
    assert _project_entities(db, "p") == (("PER", "GPE"), 1)
    store = Store.open(db)
    try:
        project = store.project("p")
        assert project is not None and project.schema.toml == CUSTOM
    finally:
        store.close()
    # the same schema again (comments and layout aside) is accepted
    same = _schema(tmp_path, "# the team's schema\n" + CUSTOM, "same.toml")
    again = ["import", str(text), "--db", db, "--project", "p", "--schema", str(same)]
    assert cli.main(again) == 0


def test_schema_project_other_schema_for_an_existing_project_is_refused(
    db: str, text: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["import", str(text), "--db", db, "--project", "p"]) == 0
    capsys.readouterr()
    other = tmp_path / "b.txt"
    other.write_text("Un autre texte.\n", "utf-8")
    schema = _schema(tmp_path, CUSTOM)
    argv = ["import", str(other), "--db", db, "--project", "p", "--schema", str(schema)]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert f"{schema}: project p already has another label schema" in err
    assert "--project" in err and len(err.strip().splitlines()) == 1
    assert _project_entities(db, "p") == (("PER", "ORG", "LOC", "MISC"), 1)
    default = _schema(tmp_path, default_schema_text(), "default.toml")
    argv[-1] = str(default)
    assert cli.main(argv) == 0
    assert _project_entities(db, "p") == (("PER", "ORG", "LOC", "MISC"), 2)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(
            CUSTOM.replace('colour = "#2e9e5b"\n', ""),
            "entities[1] (GPE): missing field 'colour'",
            id="missing-field",
        ),
        pytest.param(
            CUSTOM.replace('roles = ["lieu"]', 'roles = ["date"]'),
            "events[0] (VISITE): unknown role 'date'",
            id="unknown-role",
        ),
        pytest.param(
            CUSTOM.replace('key = "2"', 'key = "1"'),
            "entities: duplicate shortcut key '1'",
            id="duplicate-key",
        ),
        pytest.param(
            CUSTOM.replace("#2e9e5b", "green"), "entities[1] (GPE): bad colour 'green'", id="colour"
        ),
        pytest.param(b'name = "\xe9quipe"\n', "file: not UTF-8", id="not-utf8"),
    ],
)
def test_schema_project_malformed_schema_names_file_entry_and_problem(
    db: str,
    text: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | bytes,
    message: str,
) -> None:
    schema = _schema(tmp_path, content)
    argv = ["import", str(text), "--db", db, "--project", "p", "--schema", str(schema)]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"glose import: {schema}: ") and message in err
    assert "Traceback" not in err
    assert not Path(db).exists() or _project_entities(db, "p") is None
