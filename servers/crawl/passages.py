"""Query-focused compression: keep the passages of a markdown page most relevant to a query.

No model call: blocks (paragraphs, list items, table rows groups) are ranked with Okapi BM25,
each block scored together with the headings above it; the best blocks that fit the budget
are returned in document order, each preceded by its heading chain, with `[…]` where text
was left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from memento_core.text.bm25 import BM25

GAP = "[…]"
_WORD = re.compile(r"\w+")
_HEADING = re.compile(r"^(#{1,6})\s")
STOPWORDS = frozenset(
    "a an and are as at be by for from has have how in is it its of on or that the this to was were what when "
    "where which who why will with does did do about into than then there their they these those".split()
)
MAX_BLOCK_CHARS = 1200  # longer paragraphs are split at sentence ends into blocks of about this size


def terms(text: str) -> list[str]:
    """Lowercase word tokens without stopwords, with a plural 's' stripped."""
    words = (w.lower() for w in _WORD.findall(text))
    return [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words if w not in STOPWORDS]


@dataclass
class Block:
    index: int
    text: str
    headings: tuple[str, ...]  # enclosing headings, outermost first
    is_heading: bool = False


def _split_long(text: str) -> list[str]:
    if len(text) <= MAX_BLOCK_CHARS:
        return [text]
    parts, current = [], ""
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        if current and len(current) + len(sentence) > MAX_BLOCK_CHARS:
            parts.append(current)
            current = ""
        current = f"{current} {sentence}".strip()
    return [*parts, current] if current else parts


def blocks_of(markdown: str) -> list[Block]:
    blocks: list[Block] = []
    chain: list[tuple[int, str]] = []  # (level, heading line)
    for raw in re.split(r"\n\s*\n", markdown):
        raw = raw.strip()
        if not raw:
            continue
        heading = _HEADING.match(raw)
        if heading and "\n" not in raw:
            level = len(heading.group(1))
            chain = [(lvl, line) for lvl, line in chain if lvl < level]
            blocks.append(Block(len(blocks), raw, tuple(line for _, line in chain), is_heading=True))
            chain.append((level, raw))
            continue
        for part in _split_long(raw):
            blocks.append(Block(len(blocks), part, tuple(line for _, line in chain)))
    return blocks


@dataclass
class Compressed:
    markdown: str
    kept_blocks: int
    total_blocks: int


def compress(markdown: str, query: str, max_chars: int) -> Compressed:
    """The passages of `markdown` most relevant to `query`, in order, within `max_chars`."""
    blocks = blocks_of(markdown)
    content = [b for b in blocks if not b.is_heading]
    scores = BM25(terms(" ".join(b.headings) + " " + b.text) for b in content).scores(terms(query))
    ranked = sorted((pair for pair in zip(scores, content) if pair[0] > 0), key=lambda pair: -pair[0])
    chosen: set[int] = set()
    counted: set[str] = set()
    used = 0
    for _, block in ranked:
        new_headings = [h for h in block.headings if h not in counted]
        cost = len(block.text) + sum(len(h) for h in new_headings) + 2 * (len(new_headings) + 1) + len(GAP) + 2
        if used + cost > max_chars:
            continue
        chosen.add(block.index)
        counted.update(new_headings)
        used += cost
    if not chosen:
        return Compressed("", 0, len(content))
    return Compressed(_render(blocks, chosen)[:max_chars], len(chosen), len(content))


def _render(blocks: list[Block], chosen: set[int]) -> str:
    out: list[str] = []
    shown: tuple[str, ...] = ()
    skipped = False  # content left out since the last block shown
    for block in blocks:
        if block.index not in chosen:
            skipped = skipped or not block.is_heading
            continue
        if skipped:
            out.append(GAP)
        out.extend(h for h in block.headings if h not in shown)
        shown = block.headings
        out.append(block.text)
        skipped = False
    if skipped:
        out.append(GAP)
    return "\n\n".join(out)
