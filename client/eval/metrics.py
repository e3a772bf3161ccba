"""Answer metrics: SQuAD-normalised exact match and token F1, each the max over the gold aliases."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD's normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1(prediction: str, gold: str) -> float:
    predicted, truth = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not predicted or not truth:
        return float(predicted == truth)
    common = sum((Counter(predicted) & Counter(truth)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(truth)
    return 2 * precision * recall / (precision + recall)


def best(metric, prediction: str | None, golds: Sequence[str]) -> float:
    """`metric` maxed over gold aliases; no prediction (or no gold) scores 0."""
    if not prediction or not golds:
        return 0.0
    return max(metric(prediction, gold) for gold in golds)


def score(prediction: str | None, golds: Sequence[str]) -> dict[str, float]:
    return {"em": best(exact_match, prediction, golds), "f1": best(f1, prediction, golds)}
