"""Guideline span rules: pure (text, spans) → spans, and their [rules] table in the schema."""

from __future__ import annotations

import pytest

from models.labels import SchemaError, load_default, parse_schema
from models.rules import SpanRules, apply_rules

FRENCH = SpanRules(
    determiners=(("fr", ("le", "la", "les", "l’", "l'", "du", "des", "de la", "de l’", "au")),),
    strip_punctuation=True,
    min_length=2,
)
PER = '[[entities]]\nid = "PER"\ncolour = "#d9485f"\nkey = "1"\n'


def _surfaces(text: str, spans: list[tuple[int, int, str]]) -> list[str]:
    return [text[start:end] for start, end, _ in spans]


def _whole(text: str, *surfaces: str) -> list[tuple[int, int, str]]:
    spans = []
    for surface in surfaces:
        start = text.index(surface)
        spans.append((start, start + len(surface), "LOC"))
    return spans


def test_rules_strip_leading_determiners_and_elided_articles() -> None:
    text = "Selon la Chine et l’OTAN, de l’Ukraine au Japon, les États-Unis."
    spans = _whole(text, "la Chine", "l’OTAN", "de l’Ukraine", "au Japon", "les États-Unis")
    assert _surfaces(text, apply_rules(text, spans, FRENCH)) == [
        "Chine",
        "OTAN",
        "Ukraine",
        "Japon",
        "États-Unis",
    ]


def test_rules_strip_capitalised_determiner_only_where_a_sentence_starts() -> None:
    text = "La Russie a lu Le Monde. Puis\nLa Chine."
    spans = _whole(text, "La Russie", "Le Monde", "La Chine")
    assert _surfaces(text, apply_rules(text, spans, FRENCH)) == ["Russie", "Le Monde", "Chine"]


def test_rules_keep_inner_articles_and_words_starting_like_determiners() -> None:
    text = "le golfe d’Oman, Laos, Leipzig, la mer du Japon"
    spans = _whole(text, "golfe d’Oman", "Laos", "Leipzig", "la mer du Japon")
    found = _surfaces(text, apply_rules(text, spans, FRENCH))
    assert found == ["golfe d’Oman", "Laos", "Leipzig", "mer du Japon"]


def test_rules_strip_punctuation_at_both_ends() -> None:
    text = "« Pékin », puis Moscou. Enfin “Chine”"
    spans = _whole(text, "« Pékin »", "Moscou.", "“Chine”")
    assert _surfaces(text, apply_rules(text, spans, FRENCH)) == ["Pékin", "Moscou", "Chine"]


def test_rules_punctuation_kept_when_the_rule_is_off() -> None:
    text = "« Pékin »"
    rules = SpanRules(strip_punctuation=False)
    assert apply_rules(text, [(0, len(text), "LOC")], rules) == [(0, len(text), "LOC")]


def test_rules_drop_short_spans_labels_and_bare_determiners() -> None:
    text = "X et la, Xi et Wang"
    rules = SpanRules(FRENCH.determiners, True, 2, ("MISC",))
    spans = [(0, 1, "PER"), (5, 7, "LOC"), (9, 11, "PER"), (15, 19, "MISC")]
    # "la" alone is no determiner of anything: kept as it is (two characters)
    assert apply_rules(text, spans, rules) == [(5, 7, "LOC"), (9, 11, "PER")]


def test_rules_of_another_language_do_not_apply() -> None:
    text = "la Chine"
    assert apply_rules(text, [(0, 8, "LOC")], FRENCH, language="en") == [(0, 8, "LOC")]


def test_rules_default_schema_enables_the_french_determiner_rule() -> None:
    rules = load_default().rules
    assert {"le", "la", "les", "l'", "du", "des", "de la", "au", "aux"} <= set(rules.words("fr"))
    assert rules.strip_punctuation and rules.active
    text = "la Chine"
    assert apply_rules(text, [(0, 8, "LOC")], rules) == [(3, 8, "LOC")]


def test_rules_schema_without_rules_changes_nothing() -> None:
    rules = parse_schema(PER).rules
    assert not rules.active
    assert apply_rules("la Chine,", [(0, 9, "PER")], rules) == [(0, 9, "PER")]


def test_rules_schema_table_is_read() -> None:
    schema = parse_schema(
        PER + '[rules]\nmin_length = 3\ndrop_labels = ["PER"]\n[rules.determiners]\nen = ["the"]\n'
    )
    assert schema.rules == SpanRules((("en", ("the",)),), False, 3, ("PER",))


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ("[rules]\nmin_length = 0\n", "field 'min_length' must be a whole number of at least 1"),
        ('[rules]\nmin_length = "2"\n', "field 'min_length' must be a whole number of at least 1"),
        ('[rules]\nstrip_punctuation = "yes"\n', "field 'strip_punctuation' must be true or"),
        ('[rules]\ndrop_labels = ["LOC"]\n', "drop_labels: unknown entity label 'LOC'"),
        ("[rules]\nlength = 2\n", "unknown field 'length'"),
        ('[rules]\ndeterminers = ["la"]\n', "expected a table"),
        ("[rules.determiners]\nfr = [1]\n", "field 'fr' must be a list of strings"),
        ('[rules.determiners]\nfr = [" "]\n', "an empty determiner"),
    ],
)
def test_rules_schema_errors_name_the_entry(table: str, problem: str) -> None:
    with pytest.raises(SchemaError) as caught:
        parse_schema(PER + table, "team.toml")
    assert str(caught.value).startswith("team.toml: rules")
    assert problem in caught.value.problem
