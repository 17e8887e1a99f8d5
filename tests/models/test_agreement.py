"""Agreement measures against published worked examples, reference libraries and edge cases."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from models.agreement import (
    AnnotatedDocument,
    CohenKappa,
    cohen_kappa,
    corpus_agreement,
    exact_matches,
    fleiss_kappa,
    iob_tags,
    krippendorff_alpha,
    overlap_matches,
    trigger_spans,
    trigger_type_pairs,
)
from models.jobs import run
from models.records import DocumentRecord, EventRecord, Progress, SpanRecord, StanceRecord
from models.tokens import token_spans

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: nominal
# data, four observers, twelve units, missing values (None); nominal α = 0.743.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]

# Fleiss (1971), "Measuring nominal scale agreement among many raters", Table 1: 30
# patients, 6 psychiatrists each, 5 diagnoses; κ = .430 (as R's irr::diagnoses).
FLEISS_1971 = [
    "444444", "222555", "233335", "555555", "222444", "113333", "333355", "113334",
    "114444", "555555", "144444", "124444", "222333", "144444", "224445", "333335",
    "111455", "111112", "224444", "133555", "555555", "244444", "224555", "114444",
    "144445", "222224", "111155", "224444", "133333", "555555",
]  # fmt: skip

# Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 14 raters, 5 categories, given
# as counts per category; κ = 0.210.
WIKIPEDIA_FLEISS = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]  # fmt: skip


def kappa_of_table(yes_yes: int, yes_no: int, no_yes: int, no_no: int) -> float | None:
    kappa = CohenKappa()
    for a, b, count in [("y", "y", yes_yes), ("y", "n", yes_no), ("n", "y", no_yes)]:
        kappa.add(a, b, count)
    kappa.add("n", "n", no_no)
    return kappa.result().value


def test_agreement_krippendorff_2011_nominal_example() -> None:
    alpha = krippendorff_alpha(zip(*KRIPPENDORFF_2011, strict=True)).value
    assert alpha == pytest.approx(0.743, abs=5e-4)


def test_agreement_fleiss_1971_example() -> None:
    assert fleiss_kappa(FLEISS_1971).value == pytest.approx(0.430, abs=5e-4)


def test_agreement_fleiss_wikipedia_example() -> None:
    items = [[c for c, n in enumerate(counts) for _ in range(n)] for counts in WIKIPEDIA_FLEISS]
    assert fleiss_kappa(items).value == pytest.approx(0.210, abs=5e-4)


def test_agreement_cohen_wikipedia_examples() -> None:
    # Wikipedia, "Cohen's kappa": 50 grant proposals, two readers: κ = 0.4 exactly.
    assert kappa_of_table(20, 5, 10, 15) == pytest.approx(0.4, abs=1e-12)
    # Same page, "same percentage of agreement, different kappa": 0.1304 and 0.2593.
    assert kappa_of_table(45, 15, 25, 15) == pytest.approx(0.1304, abs=5e-5)
    assert kappa_of_table(25, 35, 5, 35) == pytest.approx(0.2593, abs=5e-5)


def test_agreement_cohen_skips_missing_and_is_exact_on_perfect_agreement() -> None:
    assert cohen_kappa(["a", "b", None, "a"], ["a", "b", "b", "a"]).value == 1.0
    assert cohen_kappa(["a", "b"], ["b", "a"]).value == -1.0


def test_agreement_cohen_matches_scikit_learn_on_random_data() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    rng = random.Random(5)
    for _ in range(20):
        size, categories = rng.randint(5, 200), "abcde"[: rng.randint(2, 5)]
        a = [rng.choice(categories) for _ in range(size)]
        b = [x if rng.random() < 0.6 else rng.choice(categories) for x in a]
        expected = metrics.cohen_kappa_score(a, b)
        assert cohen_kappa(a, b).value == pytest.approx(expected, abs=1e-9)


def test_agreement_fleiss_matches_statsmodels_on_random_data() -> None:
    inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
    rng = random.Random(7)
    for _ in range(20):
        raters, categories = rng.randint(2, 8), rng.randint(2, 5)
        items = []
        for _ in range(rng.randint(3, 60)):
            truth = rng.randrange(categories)
            items.append(
                [truth if rng.random() < 0.5 else rng.randrange(categories) for _ in range(raters)]
            )
        table, _ = inter_rater.aggregate_raters(items)
        expected = inter_rater.fleiss_kappa(table)
        assert fleiss_kappa(items).value == pytest.approx(expected, abs=1e-9)


def test_agreement_alpha_matches_krippendorff_package_on_random_data() -> None:
    krippendorff = pytest.importorskip("krippendorff")
    numpy = pytest.importorskip("numpy")
    rng = random.Random(11)
    for _ in range(20):
        raters, categories = rng.randint(2, 6), rng.randint(2, 5)
        units = []
        for _ in range(rng.randint(5, 80)):
            truth = rng.randrange(categories)
            units.append(
                [
                    None if rng.random() < 0.25 else (truth if rng.random() < 0.6 else c)
                    for c in (rng.randrange(categories) for _ in range(raters))
                ]
            )
        ours = krippendorff_alpha(units).value
        data = numpy.array(
            [[numpy.nan if v is None else v for v in unit] for unit in units], dtype=float
        ).T
        expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
        assert ours == pytest.approx(expected, abs=1e-9)


def test_agreement_undefined_cases_give_none_with_reason() -> None:
    cases = {
        "cohen empty": cohen_kappa([], []),
        "cohen one category": cohen_kappa(["x", "x"], ["x", "x"]),
        "fleiss empty": fleiss_kappa([]),
        "fleiss one rater": fleiss_kappa([["a"], ["b"]]),
        "fleiss mixed raters": fleiss_kappa([["a", "b"], ["a", "b", "a"]]),
        "fleiss one category": fleiss_kappa([["a", "a"], ["a", "a"]]),
        "alpha empty": krippendorff_alpha([]),
        "alpha one value per unit": krippendorff_alpha([["a", None], [None, "b"]]),
        "alpha one category": krippendorff_alpha([["a", "a"], ["a", "a", None]]),
    }
    for name, measure in cases.items():
        assert measure.value is None, name
        assert measure.reason, name


def test_agreement_span_f1_exact_and_overlap() -> None:
    a = [SpanRecord(0, 5, "PER"), SpanRecord(10, 20, "LOC"), SpanRecord(30, 35, "ORG")]
    b = [SpanRecord(0, 5, "PER"), SpanRecord(12, 25, "LOC"), SpanRecord(30, 35, "PER")]
    assert exact_matches(a, b) == {"PER": 1}
    assert overlap_matches(a, b) == {"PER": 1, "LOC": 1}


def test_agreement_overlap_prefers_the_exact_span_one_to_one() -> None:
    a = [SpanRecord(0, 10, "LOC"), SpanRecord(0, 20, "LOC")]
    b = [SpanRecord(0, 10, "LOC")]
    assert overlap_matches(a, b) == {"LOC": 1}
    # The wider span shares as much with b as the exact one; the exact one wins the match,
    # so the other a span stays unmatched and b's span is not counted twice.
    assert overlap_matches(b, a) == {"LOC": 1}


def test_agreement_iob_tags_per_token() -> None:
    text = "Vladimir Poutine a reçu Xi Jinping à Moscou."
    tokens = token_spans(text)
    spans = [SpanRecord(0, 16, "PER"), SpanRecord(24, 34, "PER"), SpanRecord(37, 43, "LOC")]
    assert iob_tags(spans, tokens) == [
        "B-PER", "I-PER", "O", "O", "B-PER", "I-PER", "O", "B-LOC", "O",
    ]  # fmt: skip
    # A span ending mid-token still tags that token; a nested span keeps no token.
    nested = [SpanRecord(0, 12, "PER"), SpanRecord(9, 16, "ORG")]
    assert iob_tags(nested, tokens)[:3] == ["B-PER", "I-PER", "O"]


def test_agreement_event_triggers_and_types() -> None:
    a = [EventRecord("VISITE", (0, 5)), EventRecord("SOMMET", (10, 15))]
    b = [EventRecord("VISITE", (0, 5)), EventRecord("ACCORD", (10, 15))]
    assert exact_matches(trigger_spans(a), trigger_spans(b)) == {"VISITE": 1}
    types = trigger_type_pairs(a, b)
    assert types.agreement().value == 0.5
    assert types.pairs == {("VISITE", "VISITE"): 1, ("SOMMET", "ACCORD"): 1}


def layer(spans: list[SpanRecord], stance: dict[str, str] | None = None) -> DocumentRecord:
    stances = [StanceRecord(t, v) for t, v in (stance or {}).items()]
    return DocumentRecord(text="", spans=spans, stance=stances)


TEXT = "Vladimir Poutine a reçu Xi Jinping à Moscou."
POUTINE, XI, MOSCOU = SpanRecord(0, 16, "PER"), SpanRecord(24, 34, "PER"), SpanRecord(37, 43, "LOC")


def test_agreement_corpus_structure_and_values() -> None:
    documents = [
        AnnotatedDocument(
            TEXT,
            {
                "ann": layer([POUTINE, XI, MOSCOU], {"Russie": "favorable"}),
                "bob": layer([POUTINE, SpanRecord(24, 26, "PER")], {"Russie": "neutre"}),
                "model": layer([POUTINE, XI, MOSCOU]),
            },
        ),
        AnnotatedDocument(TEXT, {"ann": layer([XI], {"Russie": "neutre"}), "bob": None}),
    ]
    result = run(corpus_agreement(["ann", "bob", "model"], documents, labels=["PER", "LOC"]))
    assert result["annotators"] == ["ann", "bob", "model"]
    assert result["documents"] == 2
    pairs = {(p["a"], p["b"]): p for p in result["entities"]["pairs"]}
    ann_bob = pairs[("ann", "bob")]
    assert ann_bob["documents"] == 1
    assert ann_bob["f1_exact"] == pytest.approx(2 * 1 / 5)
    assert ann_bob["f1_overlap"] == pytest.approx(2 * 2 / 5)
    assert ann_bob["per_label"]["LOC"]["f1_exact"] == 0.0
    assert ann_bob["per_label"]["PER"]["f1_exact"] == pytest.approx(2 * 1 / 4)
    assert pairs[("ann", "model")]["f1_exact"] == 1.0
    assert pairs[("ann", "model")]["kappa_token"] == 1.0
    assert -1.0 <= result["entities"]["alpha_token"] < 1.0
    russie = result["stance"]["Russie"]
    assert russie["items"] == 2
    kappas = {(p["a"], p["b"]): p for p in russie["pairs"]}
    assert kappas[("ann", "bob")]["items"] == 1
    assert kappas[("ann", "bob")]["kappa"] == 0.0  # one item, disagreeing
    assert kappas[("ann", "model")]["kappa"] is None
    assert kappas[("ann", "model")]["reasons"] == {"kappa": "no item rated by both"}
    assert russie["fleiss_kappa"] is None  # the model never gives a stance
    assert russie["reasons"]["fleiss_kappa"] == "no document has a value from every annotator"
    assert russie["alpha"] == pytest.approx(0.0)  # the Russie units: (fav, neu), (neu)
    event_pairs = result["events"]["pairs"]
    assert event_pairs[0]["f1_trigger"] is None
    assert event_pairs[0]["reasons"]["f1_trigger"] == "neither annotator marked any span"


def test_agreement_corpus_one_annotator_is_undefined_not_perfect() -> None:
    document = AnnotatedDocument(TEXT, {"ann": layer([POUTINE], {"Chine": "neutre"})})
    result = run(corpus_agreement(["ann"], [document], targets=["Russie"]))
    assert result["entities"]["pairs"] == []
    assert result["entities"]["alpha_token"] is None
    assert result["entities"]["reasons"]["alpha_token"] == "fewer than two annotators"
    assert list(result["stance"]) == ["Russie", "Chine"]
    for target in result["stance"].values():
        assert target["fleiss_kappa"] is None
        assert target["alpha"] is None
        assert target["reasons"]["alpha"] == "fewer than two annotators"


def test_agreement_corpus_empty_input() -> None:
    result = run(corpus_agreement(["a", "b"], []))
    assert result["documents"] == 0
    (pair,) = result["entities"]["pairs"]
    assert pair["f1_exact"] is None and pair["kappa_token"] is None
    assert set(pair["reasons"]) == {"f1_exact", "f1_overlap", "kappa_token"}
    assert result["entities"]["alpha_token"] is None


def test_agreement_corpus_streams_documents_with_progress() -> None:
    consumed: list[int] = []

    def documents() -> Iterator[AnnotatedDocument]:
        for index in range(3):
            consumed.append(index)
            yield AnnotatedDocument(TEXT, {"a": layer([POUTINE]), "b": layer([XI])})

    job = corpus_agreement(["a", "b"], documents(), total=3)
    assert next(job) == Progress(1, 3, "agreement")
    assert consumed == [0]  # one document read per step, not the whole corpus up front
    steps: list[Progress] = []
    result = run(job, steps.append)
    assert [step.done for step in steps] == [2, 3]
    assert result["documents"] == 3
    assert result["entities"]["pairs"][0]["f1_exact"] == 0.0
