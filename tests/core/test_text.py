"""memento_core.text: natural cut points, slices with their continuation note, chunks, BM25."""

from __future__ import annotations

from memento_core.text.bm25 import BM25
from memento_core.text.boundaries import cut_point
from memento_core.text.chunks import chunk_spans, chunk_text
from memento_core.text.slices import continuation_note, slice_text

SENTENCE = "The tide turns twice a day as the Moon pulls the sea. "
TEXT = "\n\n".join(
    "\n".join(f"Paragraph {p}, line {k}. " + SENTENCE * 2 for k in range(4)) for p in range(12)
)


def test_the_strongest_boundary_in_the_second_half_wins():
    text = "x" * 40 + "\n\n" + "y" * 20 + "\n" + "z" * 10 + ". " + "w " * 20
    assert cut_point(text, 0, 80) == 42  # the paragraph, though a line, a sentence and spaces come later
    assert cut_point(text, 0, 100) == 63  # the paragraph is in the first half: the line
    prose = "v " * 30 + "end. " + "w " * 20
    assert cut_point(prose, 0, 80) == 65  # a sentence beats a later space
    assert cut_point("word " * 20, 0, 23) == 20  # after the last space, never inside a word


def test_a_boundary_too_early_is_ignored_and_unbroken_text_is_cut_hard():
    text = "ab\n\n" + "x" * 100
    assert cut_point(text, 0, 50) == 50
    assert cut_point("short", 0, 50) == 5


def test_slices_cover_the_text_exactly_without_gap_or_overlap():
    for size in (120, 333, 1000):
        parts, start = [], 0
        while start is not None:
            part = slice_text(TEXT, start, size)
            assert len(part.text) <= size and part.text == TEXT[part.start : part.end]
            assert parts == [] or part.start == parts[-1].end
            parts.append(part)
            start = part.next_start
        assert "".join(p.text for p in parts) == TEXT
        assert all(p.text[-1].isspace() for p in parts[:-1])  # no slice ends inside a word


def test_the_continuation_note_names_the_next_start_and_the_arguments_to_repeat():
    part = slice_text(TEXT, 0, 500)
    note = continuation_note(part)
    assert f"start_index={part.next_start}" in note and f"0-{part.end} of {len(TEXT)}" in note
    assert continuation_note(part, pages="2-4").endswith(f"start_index={part.next_start} and pages='2-4'")
    assert continuation_note(slice_text(TEXT, len(TEXT) - 10, 500)) is None
    assert slice_text(TEXT, 10**9, 500).text == ""  # a start past the end is clamped


def test_chunks_are_bounded_trimmed_and_overlap_from_a_word_start():
    chunks = chunk_text(TEXT, 400, 80)
    assert len(chunks) > 5 and all(len(c) <= 400 and c == c.strip() for c in chunks)
    for before, after in zip(chunks, chunks[1:]):
        head = after.split()[0]
        assert head in before.split()[-20:]  # the next chunk starts inside the previous one's tail
        assert TEXT.index(after) > TEXT.index(before)
    assert chunk_text("  short  ", 400) == ["short"] and chunk_text("   ", 400) == []


def test_chunks_without_overlap_tile_the_text():
    spans = chunk_spans(TEXT, 300)
    assert spans[0][0] == 0 and spans[-1][1] == len(TEXT.rstrip())
    for (_, end), (start, _) in zip(spans, spans[1:]):
        assert end <= start and not TEXT[end:start].strip()  # only whitespace between chunks


def test_bm25_ranks_the_passage_with_the_query_terms_first():
    passages = [
        "bread rises when yeast ferments the dough".split(),
        "the lighthouse keeper trims the lamp at dusk".split(),
        "tides follow the moon and the lighthouse stands on the rocks".split(),
    ]
    scores = BM25(passages).scores("lighthouse lamp".split())
    assert scores.index(max(scores)) == 1 and scores[0] == 0
    assert BM25(passages).scores(["sourdough"]) == [0.0, 0.0, 0.0]
