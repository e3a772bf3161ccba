"""Extraction, slicing and query compression as plain functions (no server, no network)."""

from __future__ import annotations

from memento_core.text.slices import slice_text
from memento_servers.crawl.extract import extract_html
from memento_servers.crawl.passages import GAP, blocks_of, compress
from tests.fakes.site import ARTICLES, JS_APP, article_html, js_shell, long_article


def test_extraction_keeps_the_article_and_drops_the_boilerplate():
    title, paragraphs = ARTICLES["lighthouses"]
    page = extract_html(article_html(title, paragraphs).encode(), "http://site.test/articles/x.html")
    assert page.markdown.startswith(f"# {title}")
    assert all(p in page.markdown for p in paragraphs)
    assert "Subscribe" not in page.markdown and "cookies" not in page.markdown
    assert page.title.startswith(title) and not page.needs_javascript


def test_links_are_absolute_without_fragments_and_deduplicated():
    html = '<html><body><a href="/a#x">A</a><a href="/a">A again</a><a href="mailto:x@y.z">m</a><a href="b">B</a></body></html>'
    links = extract_html(html, "http://site.test/dir/page.html").links
    assert [(link.url, link.text) for link in links] == [("http://site.test/a", "A"), ("http://site.test/dir/b", "B")]


def test_a_script_shell_is_recognised_as_needing_javascript():
    page = extract_html(js_shell(f"<script>{JS_APP}</script>"), "http://site.test/app")
    assert page.needs_javascript


def test_slices_cover_the_text_exactly_and_end_at_paragraph_breaks():
    text = extract_html(long_article(), "http://site.test/long").markdown
    parts, start = [], 0
    while start is not None:
        part = slice_text(text, start, 3000)
        assert len(part.text) <= 3000
        parts.append(part.text)
        start = part.next_start
    assert "".join(parts) == text
    assert all(part.endswith("\n\n") for part in parts[:-1])


def test_a_slice_of_unbroken_text_is_cut_hard():
    part = slice_text("x" * 100, 0, 30)
    assert (part.text, part.next_start) == ("x" * 30, 30)


def test_compression_keeps_matching_passages_in_order_under_their_headings():
    text = extract_html(long_article(), "http://site.test/long").markdown
    result = compress(text, "How do deserts change? marker 3-1", 2000)
    assert len(result.markdown) <= 2000 and result.kept_blocks >= 2
    assert "## Part 3: deserts" in result.markdown and "Marker 3-1." in result.markdown
    assert result.markdown.index("Part 3:") < result.markdown.index("Part 11:")  # document order
    assert GAP in result.markdown and "glaciers" not in result.markdown


def test_compression_finds_nothing_for_unrelated_queries():
    assert compress("# Tides\n\nThe Moon pulls the sea.", "sourdough starter", 500).kept_blocks == 0


def test_blocks_remember_their_heading_chain():
    blocks = blocks_of("# A\n\nintro\n\n## B\n\nbody\n\n# C\n\nend")
    assert [(b.text, b.headings) for b in blocks if not b.is_heading] == [
        ("intro", ("# A",)), ("body", ("# A", "## B")), ("end", ("# C",))
    ]
