"""The agreement result (``models.agreement.corpus``) as JSON, CSV or an aligned text table.

- json: the result as is (null for an undefined value, its reason under "reasons");
- csv: one row per pair (or corpus-wide) and measure, with the count it rests on and the
  reason when the value is undefined;
- table: one block per kind of annotation, undefined values as "n/a" and their reasons
  listed below the tables.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import astuple, dataclass, fields
from typing import Any

FORMATS = ("table", "json", "csv")
ENTITY_MEASURES = ("f1_exact", "f1_overlap", "kappa_token")
LABEL_MEASURES = ("f1_exact", "f1_overlap")
EVENT_MEASURES = ("f1_trigger", "type_agreement", "type_kappa")
NOT_AVAILABLE = "n/a"


@dataclass(frozen=True, slots=True)
class MeasureRow:
    """One value of the result: where it belongs, what it measures, what it rests on."""

    section: str  # entities, stance or events
    target: str  # the stance target, else ""
    label: str  # the entity label of a per-label score, else ""
    a: str  # the pair, or "" for a measure across all annotators
    b: str
    measure: str
    value: float | None
    count: int | None  # documents (entities, events) or items (stance) counted
    reason: str  # why the value is undefined, else ""


def render(result: Mapping[str, Any], fmt: str) -> str:
    """The result in one of ``FORMATS``."""
    if fmt == "json":
        return json.dumps(result, ensure_ascii=False, indent=2)
    if fmt == "csv":
        return render_csv(result)
    if fmt == "table":
        return render_table(result)
    raise ValueError(f"unknown format '{fmt}' (one of {', '.join(FORMATS)})")


def measure_rows(result: Mapping[str, Any]) -> Iterator[MeasureRow]:
    """Every value of the result, pair by pair."""
    entities = result["entities"]
    for pair in entities["pairs"]:
        yield from _rows(pair, ENTITY_MEASURES, "entities", count=pair["documents"])
        for label, scores in pair["per_label"].items():
            yield from _rows(scores, LABEL_MEASURES, "entities", pair, label=label)
    yield from _rows(entities, ("alpha_token",), "entities", {})
    for target, stance in result["stance"].items():
        for pair in stance["pairs"]:
            yield from _rows(pair, ("kappa",), "stance", target=target, count=pair["items"])
        yield from _rows(
            stance, ("fleiss_kappa",), "stance", {}, target, "", stance["fleiss_items"]
        )
        yield from _rows(stance, ("alpha",), "stance", {}, target, "", stance["items"])
    for pair in result["events"]["pairs"]:
        yield from _rows(pair, EVENT_MEASURES, "events", count=pair["documents"])


def _rows(
    scores: Mapping[str, Any],
    measures: Sequence[str],
    section: str,
    pair: Mapping[str, Any] | None = None,
    target: str = "",
    label: str = "",
    count: int | None = None,
) -> Iterator[MeasureRow]:
    pair = scores if pair is None else pair
    reasons = scores.get("reasons", {})
    for measure in measures:
        yield MeasureRow(
            section,
            target,
            label,
            pair.get("a", ""),
            pair.get("b", ""),
            measure,
            scores[measure],
            count,
            reasons.get(measure, ""),
        )


def render_csv(result: Mapping[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(field.name for field in fields(MeasureRow))
    for row in measure_rows(result):
        writer.writerow("" if value is None else value for value in astuple(row))
    return out.getvalue()


def score(value: float | None) -> str:
    return NOT_AVAILABLE if value is None else f"{value:.3f}"


def render_table(result: Mapping[str, Any]) -> str:
    kinds = result.get("kinds", {})
    names = [
        f"{n} ({kinds[n]})" if kinds.get(n, "human") != "human" else n for n in result["annotators"]
    ]
    head = f"{len(names)} annotator(s), {result['documents']} document(s)"
    if "project" in result:
        head = f"project {result['project']}: {head}, layers {result['status']}"
    lines = [head, "annotators: " + (", ".join(names) or "none")]
    entities = result["entities"]
    pairs = entities["pairs"]
    lines += ["", "Entities"]
    lines += _table(
        ("a", "b", "docs", *ENTITY_MEASURES),
        [(p["a"], p["b"], p["documents"], *(score(p[m]) for m in ENTITY_MEASURES)) for p in pairs],
    )
    lines.append(f"Krippendorff's alpha over tokens: {score(entities['alpha_token'])}")
    labels = list(dict.fromkeys(label for p in pairs for label in p["per_label"]))
    if pairs and labels:
        lines += ["", "Entity F1 (exact) per label"]
        rows = [
            (p["a"], p["b"], *(score(p["per_label"][x]["f1_exact"]) for x in labels)) for p in pairs
        ]
        lines += _table(("a", "b", *labels), rows)
    unused = [target for target, stance in result["stance"].items() if stance["items"] == 0]
    for target, stance in result["stance"].items():
        if target in unused:
            continue
        lines += ["", f"Stance toward {target}"]
        lines += _table(
            ("a", "b", "items", "kappa"),
            [(p["a"], p["b"], p["items"], score(p["kappa"])) for p in stance["pairs"]],
        )
        lines.append(
            f"Fleiss' kappa: {score(stance['fleiss_kappa'])} ({stance['fleiss_items']} item(s)),"
            f" alpha: {score(stance['alpha'])} ({stance['items']} item(s))"
        )
    if unused:
        lines += ["", f"No stance given toward {', '.join(unused)}"]
    lines += ["", "Events"]
    lines += _table(
        ("a", "b", "docs", *EVENT_MEASURES),
        [
            (p["a"], p["b"], p["documents"], *(score(p[m]) for m in EVENT_MEASURES))
            for p in result["events"]["pairs"]
        ],
    )
    notes = _notes(result)
    if notes:
        lines += ["", f"{NOT_AVAILABLE}: undefined values"]
        lines += [f"  {note}" for note in notes]
    return "\n".join(lines) + "\n"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """Aligned columns: text to the left, numbers and n/a to the right."""
    cells = [[str(cell) for cell in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    numeric = [
        bool(rows) and all(_number(row[i]) or row[i] == NOT_AVAILABLE for row in cells[1:])
        for i in range(len(header))
    ]
    return [
        "  ".join(
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, right in zip(row, widths, numeric, strict=True)
        ).rstrip()
        for row in cells
    ]


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _notes(result: Mapping[str, Any]) -> list[str]:
    """The reasons of the undefined values, one line per (what, reason) with its pairs;
    stance targets nobody gave are left out (the table says so)."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for row in measure_rows(result):
        if row.value is not None:
            continue
        if row.section == "stance" and result["stance"][row.target]["items"] == 0:
            continue
        what = " ".join(part for part in (row.section, row.target, row.label, row.measure) if part)
        pair = f"{row.a} × {row.b}" if row.a else "all annotators"
        grouped.setdefault((what, row.reason), []).append(pair)
    return [f"{what} ({', '.join(pairs)}): {reason}" for (what, reason), pairs in grouped.items()]
