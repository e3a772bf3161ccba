"""Benchmark scorers as their authors define them: GAIA's quasi-exact match, multiple-choice accuracy
(the option letter read robustly from a free-text answer), AIME's integer match. QA sets keep EM/F1
(`metrics`) and PM (`judge`); HLE is judged only, so its accuracy is the judge's verdict."""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

Kind = str  # qa | gaia | choice | integer | judge
KINDS = ("qa", "gaia", "choice", "integer", "judge")
LETTERS = string.ascii_uppercase


# GAIA (Mialon et al. 2023): numbers compare as floats once $ , % are stripped; a gold answer holding ,
# or ; is a list compared element by element; other strings compare with all whitespace and punctuation
# removed, case ignored (list elements keep their punctuation).


def _as_number(text: str) -> float | None:
    cleaned = re.sub(r"[$,%]", "", text).strip()
    try:
        return float(cleaned)
    except ValueError:
        return None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _squash(text: str, *, punctuation: bool) -> str:
    text = re.sub(r"\s", "", text).lower()
    return text.translate(str.maketrans("", "", string.punctuation)) if punctuation else text


def _element_match(answer: str, gold: str) -> bool:
    if _is_number(gold.strip()):
        return _as_number(answer) == float(gold)
    return _squash(answer, punctuation=False) == _squash(gold, punctuation=False)


def gaia_match(answer: str | None, gold: str) -> bool:
    """GAIA's quasi-exact match of a final answer against the gold answer."""
    answer = "None" if answer is None else str(answer)
    if _is_number(gold.strip()):
        return _as_number(answer) == float(gold)
    if "," in gold or ";" in gold:
        golds, answers = re.split(r"[,;]", gold), re.split(r"[,;]", answer)
        return len(golds) == len(answers) and all(_element_match(a, g) for a, g in zip(answers, golds))
    return _squash(answer, punctuation=True) == _squash(gold, punctuation=True)


# Multiple choice: the last explicit statement ("answer is C", "Answer: (C)", "**C**") wins; else a
# reply that is only a letter, or that starts with one ("C) ..."); else a reply naming exactly one
# option's text.

_STATED = re.compile(r"(?i:answer|option|choice)[\s:=*_]*(?:(?i:is)\b)?[\s:=*_]*(?:(?i:option)\s*)?[\(\[]?([A-Z])[\)\]]?(?![A-Za-z])")
_BOLD = re.compile(r"\*\*\s*\(?([A-Z])\)?\s*\*\*")
_BOXED = re.compile(r"\\boxed\{\s*(?:\\text\{)?\s*([A-Z])\s*\}?\s*\}")
_LEADING = re.compile(r"^[\s*_]*[\(\[]?([A-Z])(?:[\)\]\.:]|\s*$|\s+[-\u2013])")


def choice_letter(answer: str | None, choices: Sequence[str]) -> str | None:
    """The option letter an answer picks among `choices` (A, B, ...), or None when it picks none."""
    if not answer:
        return None
    valid = LETTERS[: len(choices)]
    if (bare := answer.strip(" .*()[]").upper()) in valid and len(bare) == 1:
        return bare
    for pattern in (_BOXED, _STATED, _BOLD):
        found = [letter for letter in pattern.findall(answer) if letter in valid]
        if found:
            return found[-1]
    if (match := _LEADING.match(answer)) and match.group(1) in valid:
        return match.group(1)
    said = _squash(answer, punctuation=True)
    texts = [_squash(text, punctuation=True) for text in choices]
    named = [LETTERS[i] for i, text in enumerate(texts) if text == said]
    if not named:  # the option's text within a longer reply, when only one option's text is there
        named = [LETTERS[i] for i, text in enumerate(texts) if len(text) > 3 and text in said]
    return named[0] if len(named) == 1 else None


# AIME: the answer is an integer from 0 to 999; the reply's \boxed{...} if any, else its last integer.

_INTEGER = re.compile(r"-?\d[\d,]*(?:\.0+)?(?![\d.]*\d)")


def integer_answer(answer: str | None) -> int | None:
    """The integer a reply gives as its answer, or None."""
    if not answer:
        return None
    boxed = re.findall(r"\\boxed\{([^{}]*)\}", answer)
    text = boxed[-1] if boxed else answer
    found = _INTEGER.findall(text.replace("{,}", ","))
    if not found:
        return None
    try:
        return int(float(found[-1].replace(",", "")))
    except ValueError:
        return None


def accuracy(kind: Kind, answer: str | None, gold: Sequence[str], choices: Sequence[str] = ()) -> float | None:
    """The benchmark's own score of `answer` (1.0 or 0.0); None for QA sets (EM/F1/PM instead), for
    judged sets (the judge decides) and without gold."""
    if not gold:
        return None
    if kind == "gaia":
        return float(any(gaia_match(answer, g) for g in gold))
    if kind == "choice":
        return float(choice_letter(answer, choices) == gold[0])
    if kind == "integer":
        expected = integer_answer(gold[0])
        return float(expected is not None and integer_answer(answer) == expected)
    return None
