"""The benchmarks' scorers on their known cases: GAIA's quasi-exact match (numbers, lists, strings and
its edge cases), the multiple-choice letter read from free text, AIME's integers, and pass@k with
per-group breakdowns in the summary."""

from __future__ import annotations

import pytest

from memento_client.eval.report import summarize
from memento_client.eval.scoring import accuracy, choice_letter, gaia_match, integer_answer


@pytest.mark.parametrize(
    ("answer", "gold", "expected"),
    [
        # numbers: $ , % stripped, compared as floats
        ("$1,234.50", "1234.5", True),
        ("17", "17", True),
        ("17.0", "17", True),
        ("45%", "45", True),
        ("17 thousand", "17", False),  # words around a number: not a number, no match
        ("3.14159", "3.14", False),  # no tolerance
        (None, "0", False),
        # lists: split on , and ;, same length, numbers and strings element-wise
        ("a, b, c", "a,b,c", True),
        ("1; 2; 3", "1,2,3", True),
        ("1, 2", "1,2,3", False),  # length differs
        ("3,2,1", "1,2,3", False),  # order matters
        ("Paris, $5", "paris, 5", True),
        ("New York, Boston", "new york,boston", True),  # whitespace removed, case ignored
        ("St. Louis, Boston", "St Louis, Boston", False),  # list elements keep their punctuation
        # strings: whitespace and punctuation removed, case ignored
        ("The Beatles!", "the beatles", True),
        ("Saint-Pétersbourg", "saint pétersbourg", True),
        ("egg-plant", "Eggplant", True),
        ("beatles", "the beatles", False),  # no article removal, unlike SQuAD's EM
        (None, "None", True),  # an absent answer is the string "None", as in the official scorer
    ],
)
def test_gaia_quasi_exact_match(answer, gold, expected):
    assert gaia_match(answer, gold) is expected


CHOICES = ("red", "blue", "green wavelength", "yellow")


@pytest.mark.parametrize(
    ("answer", "letter"),
    [
        ("B", "B"),
        ("b", "B"),
        ("(C)", "C"),
        ("The answer is (B).", "B"),
        ("Answer: D", "D"),
        ("I first thought A, but the answer is C", "C"),  # the last statement wins
        ("**A**", "A"),
        ("\\boxed{D}", "D"),
        ("B) blue", "B"),
        ("blue", "B"),  # an option's text alone
        ("It is the green wavelength, surely", "C"),  # one option's text within the reply
        ("Final answer: option D", "D"),
        ("The answer is E", None),  # no option E among four
        ("I cannot tell", None),
        ("", None),
        (None, None),
    ],
)
def test_choice_letter_is_read_robustly(answer, letter):
    assert choice_letter(answer, CHOICES) == letter


@pytest.mark.parametrize(
    ("answer", "value"),
    [("73", 73), ("The answer is \\boxed{073}.", 73), ("so m+n = 1,024", 1024), ("204.0", 204), ("x = 5, so 33", 33), ("none", None), (None, None)],
)
def test_integer_answer(answer, value):
    assert integer_answer(answer) == value


def test_accuracy_per_kind():
    assert accuracy("gaia", "$17", ["17"]) == 1.0
    assert accuracy("choice", "answer is B", ["B"], CHOICES) == 1.0 and accuracy("choice", "A", ["B"], CHOICES) == 0.0
    assert accuracy("integer", "\\boxed{33}", ["033"]) == 1.0 and accuracy("integer", "34", ["33"]) == 0.0
    assert accuracy("qa", "Paris", ["Paris"]) is None  # QA sets: EM/F1/PM, not ACC
    assert accuracy("gaia", "x", []) is None  # no gold (GAIA's test split): not scored


def _row(task, attempt, acc, group, answer="x"):
    return {"id": task, "attempt": attempt, "source": "gaia", "group": group, "answer": answer, "acc": acc, "em": acc, "f1": acc}


def test_pass_at_k_takes_the_best_attempt_and_at_1_the_mean():
    rows = [
        _row("t1", 1, 0.0, "level 1"), _row("t1", 2, 1.0, "level 1"), _row("t1", 3, 0.0, "level 1"),
        _row("t2", 1, 0.0, "level 2"), _row("t2", 2, 0.0, "level 2"), _row("t2", 3, 0.0, "level 2", answer=None),
        _row("t3", 1, 1.0, "level 2"), _row("t3", 2, 1.0, "level 2"), _row("t3", 3, 1.0, "level 2"),
    ]  # fmt: skip
    tasks = [{"id": t, "source": "gaia", "group": g} for t, g in [("t1", "level 1"), ("t2", "level 2"), ("t3", "level 2"), ("t4", "level 3")]]
    summary = summarize(rows, tasks)
    assert summary["attempts"] == 3
    overall = summary["overall"]
    assert overall["acc"] == 0.5 and overall["n"] == 4 and overall["missing"] == 1  # t1, t3 of 4 (t4 never ran)
    assert overall["acc@1"] == round((1 / 3 + 0 + 1) / 4, 4)
    assert overall["failed"] == 0  # t2 answered in two of its attempts
    assert summary["by_group"]["level 1"]["acc"] == 1.0
    assert summary["by_group"]["level 2"]["acc"] == 0.5 and summary["by_group"]["level 2"]["acc@1"] == 0.5
    level_3 = {"n": 1, "acc": 0.0, "acc@1": 0.0, "em": 0.0, "em@1": 0.0, "f1": 0.0, "f1@1": 0.0, "failed": 0, "missing": 1}
    assert summary["by_group"]["level 3"] == level_3  # a level none of whose tasks ran scores 0, not nothing


def test_one_attempt_keeps_the_summary_shape():
    summary = summarize([{"id": "q", "source": "nq", "answer": "a", "em": 1.0, "f1": 1.0}])
    assert summary == {"overall": {"n": 1, "em": 1.0, "f1": 1.0, "failed": 0, "missing": 0}, "by_source": {"nq": summary["overall"]}}
