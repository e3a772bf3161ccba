"""Pseudo-relevance feedback (RM3) and the in-memory BM25 index it scores with (small hand-made fixtures)."""

from __future__ import annotations

import pytest

from memento_servers.search.feedback import rm3
from memento_servers.search.lexical import Analyzer, LexicalIndex


def test_rm3_mixes_the_query_with_the_heaviest_terms_of_the_hits():
    hits = [(["reef", "coral", "bleach"], 3.0), (["reef", "algae"], 1.0), (["lava"], 0.0)]
    weights = rm3(["coral"], hits, expansion_terms=2, query_weight=0.6)
    # model: reef 3/4*1/3 + 1/4*1/2 = 0.375, coral 0.25, bleach 0.25, algae 0.125; lava's hit has no weight
    assert set(weights) == {"coral", "reef"}  # the tie coral/bleach goes to the first seen
    assert weights["reef"] == pytest.approx(0.4 * 0.375 / 0.625)
    assert weights["coral"] == pytest.approx(0.6 + 0.4 * 0.25 / 0.625)
    assert sum(weights.values()) == pytest.approx(1.0)


def test_rm3_without_usable_hits_keeps_the_query_alone():
    assert rm3(["tide", "tide", "moon"], [([], 5.0), (["x"], 0.0)], 10, 0.5) == pytest.approx({"tide": 2 / 3, "moon": 1 / 3})
    assert rm3([], [(["x", "y"], 1.0)], 1, 0.5) == {"x": 1.0}  # a query of stop words only still gets expanded


def test_analyzer_stems_folds_case_and_drops_stop_words():
    # bm25s's English stop words are Lucene's short list (33 words): "the" and "in" go, "were" stays
    assert Analyzer()("The Corals were BLEACHING in warmer waters") == ["coral", "were", "bleach", "warmer", "water"]


def test_lexical_index_scores_weighted_queries():
    index = LexicalIndex(
        ["a", "b", "c"],
        ["Coral reefs bleach in warm water.", "Lava flows from the volcano.", "Reef fish eat algae on the reef."],
    )
    assert [item for item, _ in index.top(index.weights_of("reefs"), 5)] == ["c", "a"]  # c says reef twice
    assert index.top({"coral": 1.0}, 5)[0][0] == "a"
    lava_first = index.top({"lava": 5.0, "reef": 1.0}, 5)
    assert lava_first[0][0] == "b" and {item for item, _ in lava_first} == {"a", "b", "c"}
    assert index.top({"unknownword": 1.0}, 5) == []
    assert index.top(index.weights_of("reefs"), 1) == index.top(index.weights_of("reefs"), 5)[:1]  # partial sort, same order
