"""Main content of an HTML page as markdown, plus its title and links.

trafilatura does the main-content extraction (markdown, precision-favouring settings, no
inline links: on the article-extraction benchmark these beat its defaults); when that keeps
almost nothing, a recall-favouring pass runs before giving up. `needs_javascript` tells
whether the page is an empty shell that only a browser can fill.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urljoin

MIN_CONTENT_CHARS = 250  # less main content than this on a page with scripts: render it in a browser
_SPACES = re.compile(r"\s+")
_BLANK_LINES = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class Link:
    url: str
    text: str


@dataclass
class Extracted:
    title: str | None
    markdown: str
    links: list[Link] = field(default_factory=list)
    has_scripts: bool = False

    @property
    def needs_javascript(self) -> bool:
        """Scripts and (almost) no main content: an app shell whose content a browser must render."""
        return self.has_scripts and len(self.markdown) < MIN_CONTENT_CHARS


def _parse(markup: bytes | str):
    import trafilatura  # ~0.5 s: imported on first use, not at server start

    try:
        return trafilatura.load_html(markup)
    except (ValueError, TypeError):
        return None


def _text(value: str | None) -> str:
    return _SPACES.sub(" ", value or "").strip()


def page_title(tree) -> str | None:
    """og:title, else the first h1 when <title> is that h1 plus a site name, else <title>, else the h1."""
    og = _text(next(iter(tree.xpath('//meta[@property="og:title"]/@content')), ""))
    if og:
        return og[:300]
    title = _text(next(iter(tree.xpath("//title/text()")), ""))
    heading = next(iter(tree.xpath("//h1")), None)
    h1 = _text(heading.text_content()) if heading is not None else ""
    if h1 and (not title or (h1 in title and len(h1) < len(title))):
        return h1[:300]
    return title[:300] or None


def page_links(tree, base_url: str) -> list[Link]:
    """Every distinct http(s) link of the page, absolute, without fragments, in page order."""
    base = next(iter(tree.xpath("//base/@href")), None)
    base_url = urljoin(base_url, base) if base else base_url
    seen: dict[str, Link] = {}
    for anchor in tree.xpath("//a[@href]"):
        href = anchor.get("href", "").strip()
        try:
            url = urldefrag(urljoin(base_url, href)).url
        except ValueError:
            continue
        if url.startswith(("http://", "https://")) and url not in seen:
            seen[url] = Link(url=url, text=_text(anchor.text_content())[:200])
    return list(seen.values())


def _main_markdown(tree, url: str, **mode: bool) -> str:
    """trafilatura's markdown of the main content (it prunes `tree` in place)."""
    if tree is None:
        return ""
    import trafilatura

    text = trafilatura.extract(
        tree,
        url=url,
        output_format="markdown",
        include_comments=False,
        include_links=False,
        include_images=False,
        include_tables=True,
        include_formatting=True,
        **mode,
    )
    return _BLANK_LINES.sub("\n\n", text or "").strip()


def extract_html(markup: bytes | str, url: str) -> Extracted:
    """Title, main-content markdown and links of an HTML document fetched from `url`."""
    tree = _parse(markup)
    if tree is None:
        return Extracted(title=None, markdown="")
    title = page_title(tree)
    links = page_links(tree, url)
    has_scripts = bool(tree.xpath("//script[@src or normalize-space(.)]"))
    markdown = _main_markdown(tree, url, favor_precision=True)
    if len(markdown) < MIN_CONTENT_CHARS:
        markdown = max(markdown, _main_markdown(_parse(markup), url, favor_recall=True), key=len)
    return Extracted(title=title, markdown=markdown, links=links, has_scripts=has_scripts)

