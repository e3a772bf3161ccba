"""EM, F1 and SQuAD normalisation on known cases."""

from __future__ import annotations

import pytest

from memento_client.eval.metrics import exact_match, f1, normalize_answer, score


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Eiffel Tower!", "eiffel tower"),
        ("  an   apple,  a pear ", "apple pear"),
        ("Theory of the universe", "theory of universe"),
        ("U.S.A.", "usa"),
        ("", ""),
    ],
)
def test_normalize_answer_follows_squad(text, expected):
    assert normalize_answer(text) == expected


def test_exact_match_ignores_case_articles_and_punctuation():
    assert exact_match("the Beatles.", "Beatles") == 1.0
    assert exact_match("Beatles band", "Beatles") == 0.0


def test_f1_counts_shared_tokens():
    # prediction tokens: barack obama jr ; gold: barack obama -> P=2/3, R=1, F1=0.8
    assert f1("Barack Obama Jr.", "Barack Obama") == pytest.approx(0.8)
    assert f1("Paris", "London") == 0.0
    assert f1("the", "a") == 1.0  # both normalise to empty


def test_f1_counts_repeated_tokens_once_per_match():
    # pred: new new york ; gold: new york -> common 2, P=2/3, R=1
    assert f1("new new york", "new york") == pytest.approx(0.8)


def test_score_takes_the_best_alias_and_zero_without_answer():
    assert score("Eyersburg", ["Bloomsburg", "Eyersburg"]) == {"em": 1.0, "f1": 1.0}
    assert score("20 July 1851", ["July 20, 1851"]) == {"em": 0.0, "f1": 1.0}
    assert score(None, ["x"]) == {"em": 0.0, "f1": 0.0}
    assert score("", ["x"]) == {"em": 0.0, "f1": 0.0}
