"""The gold entities of the sample corpus (``tests/data/gold/sample_gold.jsonl``).

The fixture is made by hand following ``docs/guidelines.md``; these tests keep it
well-formed, in step with the corpus and consistent with the guidelines' mechanical rules.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from pathlib import Path

import pytest

from models.formats import jsonl
from models.jobs import run
from models.labels import load_default
from models.records import DocumentRecord, Problem
from models.store import ProjectInfo, Store
from models.textfiles import read_text_file
from models.transfer import export, import_file, import_texts

GOLD = Path(__file__).resolve().parent.parent / "data" / "gold" / "sample_gold.jsonl"
# leading determiners, elided articles and contracted prepositions (guidelines, 2.1)
DETERMINERS = {"le", "la", "les", "un", "une", "du", "des", "de", "au", "aux", "à"}
ELIDED = re.compile(r"[ldLD]['’]")


def _records() -> list[DocumentRecord]:
    items = list(jsonl.read(GOLD))
    problems = [item for item in items if isinstance(item, Problem)]
    assert problems == []
    return [item for item in items if isinstance(item, DocumentRecord)]


@pytest.fixture(scope="module")
def gold() -> list[DocumentRecord]:
    return _records()


def _surface(record: DocumentRecord) -> list[tuple[str, str]]:
    return [(record.text[s.start : s.end], s.label) for s in record.spans]


def test_gold_fixture_has_one_done_gold_line_per_article(
    gold: list[DocumentRecord], corpus_dir: Path
) -> None:
    sources = [record.meta.get("source") for record in gold]
    assert sources == sorted(path.name for path in corpus_dir.glob("*.txt"))
    assert {(record.annotator, record.status) for record in gold} == {("gold", "done")}
    assert all(record.spans for record in gold)


def test_gold_fixture_texts_are_the_imported_texts(
    gold: list[DocumentRecord], corpus_dir: Path
) -> None:
    for record in gold:
        imported = read_text_file(corpus_dir / record.meta["source"])
        assert isinstance(imported, DocumentRecord)
        assert (record.text, record.title) == (imported.text, imported.title)


def test_gold_fixture_spans_are_trimmed_names(gold: list[DocumentRecord]) -> None:
    for record in gold:
        for span in record.spans:
            surface = record.text[span.start : span.end]
            assert 0 <= span.start < span.end <= len(record.text), surface
            for char in (surface[0], surface[-1]):
                assert not char.isspace(), surface
                assert not unicodedata.category(char).startswith(("P", "S")), surface
            assert "\n" not in surface, surface
            first = surface.split()[0]
            assert first.lower() not in DETERMINERS, surface
            assert not ELIDED.match(surface), surface


def test_gold_fixture_labels_are_in_the_default_schema(gold: list[DocumentRecord]) -> None:
    labels = {span.label for record in gold for span in record.spans}
    assert labels <= set(load_default().entity_ids)
    assert labels == {"PER", "ORG", "LOC", "MISC"}


def test_gold_fixture_spans_are_sorted_and_do_not_overlap(gold: list[DocumentRecord]) -> None:
    for record in gold:
        for before, after in zip(record.spans, record.spans[1:], strict=False):
            assert before.end <= after.start, (before, after)


def test_gold_fixture_gives_each_name_one_label(gold: list[DocumentRecord]) -> None:
    labels: dict[str, set[str]] = defaultdict(set)
    for record in gold:
        for surface, label in _surface(record):
            labels[surface].add(label)
    assert {name: found for name, found in labels.items() if len(found) > 1} == {}
    assert (labels["Xi"], labels["Kremlin"], labels["Chine"]) == ({"PER"}, {"ORG"}, {"LOC"})


def test_gold_fixture_marks_every_mention_of_a_marked_name(gold: list[DocumentRecord]) -> None:
    names = {surface for record in gold for surface, _ in _surface(record)}
    missed = []
    for record in gold:
        covered = [False] * len(record.text)
        for span in record.spans:
            covered[span.start : span.end] = [True] * (span.end - span.start)
        for name in names:
            for match in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", record.text):
                if not all(covered[match.start() : match.end()]):
                    missed.append((record.meta["source"], match.start(), name))
    assert missed == []


def test_gold_fixture_imports_onto_the_corpus_as_the_gold_layer(
    store: Store, project: ProjectInfo, corpus_dir: Path, tmp_path: Path
) -> None:
    texts = run(import_texts(store, project.id, [corpus_dir]))
    assert (texts.added, texts.problems) == (5, [])
    report = run(import_file(store, project.id, GOLD))
    assert (report.added, report.duplicates, report.layers, report.problems) == (0, 5, 5, [])
    assert ("gold", "gold") in store.annotators()
    out = tmp_path / "gold.jsonl"
    exported = run(export(store, project.id, out, source="gold"))
    assert (exported.documents, exported.annotated) == (5, 5)
    back = {r.meta["source"]: r for r in jsonl.read(out) if isinstance(r, DocumentRecord)}
    for record in _records():
        again = back[record.meta["source"]]
        assert (again.text, again.status, again.annotator) == (record.text, "done", "gold")
        assert sorted(again.spans, key=lambda s: s.start) == record.spans
