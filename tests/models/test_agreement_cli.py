"""``glose agreement`` end to end through models.cli.main: formats, filters, refusals."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from models import cli
from models.store import DEFAULT_MODEL, Store
from tests.models.test_agreement_store import build_corpus


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "agreement.sqlite")
    store = Store.open(path)
    try:
        build_corpus(store, "press")
    finally:
        store.close()
    return path


def _agreement(db: str, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["agreement", "--db", db, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_agreement_cli_json_has_the_issue_shape(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _agreement(db, capsys, "--format", "json")
    assert code == 0
    result = json.loads(out)
    assert result["annotators"] == [DEFAULT_MODEL, "alice", "bob"]
    assert result["documents"] == 3
    assert result["project"] == "press" and result["status"] == "done"
    (pair,) = [p for p in result["entities"]["pairs"] if (p["a"], p["b"]) == ("alice", "bob")]
    assert set(pair) >= {"a", "b", "f1_exact", "f1_overlap", "kappa_token", "per_label"}
    assert pair["f1_exact"] == pytest.approx(1 / 3)
    assert pair["per_label"]["MISC"]["f1_exact"] is None  # null, not a fake 1.0
    assert "alpha_token" in result["entities"]
    assert set(result["stance"]["RUSSIE"]) >= {"pairs", "fleiss_kappa", "alpha"}
    assert result["stance"]["RUSSIE"]["reasons"]["fleiss_kappa"]
    assert all("f1_trigger" in p for p in result["events"]["pairs"])


def test_agreement_cli_csv_one_row_per_pair_and_measure(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _agreement(db, capsys, "--format", "csv", "--annotators", "alice,bob")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == [
        "section", "target", "label", "a", "b", "measure", "value", "count", "reason",
    ]  # fmt: skip
    by_key = {
        (r["section"], r["target"], r["label"], r["a"], r["b"], r["measure"]): r for r in rows
    }
    assert len(by_key) == len(rows)  # one row per pair and measure
    exact = by_key[("entities", "", "", "alice", "bob", "f1_exact")]
    assert float(exact["value"]) == pytest.approx(1 / 3) and exact["count"] == "1"
    misc = by_key[("entities", "", "MISC", "alice", "bob", "f1_exact")]
    assert misc["value"] == "" and misc["reason"] == "neither annotator marked a MISC span"
    alpha = by_key[("stance", "RUSSIE", "", "", "", "alpha")]
    assert float(alpha["value"]) == 0.0 and alpha["count"] == "2"
    trigger = by_key[("events", "", "", "alice", "bob", "f1_trigger")]
    assert trigger["value"] == "" and trigger["reason"] == "neither annotator marked any span"


def test_agreement_cli_table_is_aligned_with_reasons(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _agreement(db, capsys, "--project", "press", "--status", "any")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "project press: 3 annotator(s), 3 document(s), layers any"
    assert lines[1] == f"annotators: {DEFAULT_MODEL} (model), alice, bob"
    header = lines.index("Entities") + 1
    table = lines[header : header + 4]
    assert table[0].split() == ["a", "b", "docs", "f1_exact", "f1_overlap", "kappa_token"]
    assert table[3].split()[:4] == ["alice", "bob", "2", "0.444"]
    # numbers right-aligned under their header
    assert {len(line) for line in table} == {len(table[0])}
    assert "No stance given toward CHINE, UKRAINE, ETATS_UNIS, OCCIDENT" in lines
    assert "n/a: undefined values" in lines
    assert any("events type_kappa (alice × bob): no variation" in line for line in lines)


def test_agreement_cli_refuses_unknown_annotator(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _agreement(db, capsys, "--annotators", "alice,zoe")
    assert code == cli.USAGE and out == ""
    assert "glose agreement: no annotator named 'zoe'" in err


def test_agreement_cli_status_filter_changes_the_pairs(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    documents = {}
    for status in ("done", "any"):
        code, out, _ = _agreement(db, capsys, "--format", "json", "--status", status)
        assert code == 0
        result = json.loads(out)
        pair = next(p for p in result["entities"]["pairs"] if p["a"] == "alice" and p["b"] == "bob")
        documents[status] = pair["documents"]
    assert documents == {"done": 1, "any": 2}
    assert cli.main(["agreement", "--db", db, "--status", "todo"]) == cli.USAGE
