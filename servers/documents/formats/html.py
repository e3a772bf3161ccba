"""HTML to markdown: the main content (boilerplate dropped), links unwrapped, data URIs shortened."""

from __future__ import annotations

import base64
import binascii
import warnings
from typing import NamedTuple
from urllib.parse import parse_qs, urlsplit

from bs4 import BeautifulSoup, Tag, XMLParsedAsHTMLWarning
from markdownify import ATX, MarkdownConverter

from memento_servers.documents.context import Context
from memento_servers.documents.formats.text import decode_text
from memento_servers.documents.model import Document

DROP_TAGS = (
    "script", "style", "noscript", "template", "svg", "canvas", "iframe", "object", "embed", "nav", "footer",
    "aside", "button", "input", "select", "textarea", "form", "dialog", "head",
)
DROP_SELECTORS = ("[role=navigation]", "[role=banner]", "[hidden]", "[aria-hidden=true]", ".mw-editsection", ".navbox", ".vector-header-container")
CONTENT_SELECTORS = ("#mw-content-text", "main", "[role=main]", "article")


def shorten_data_uri(uri: str) -> str:
    """`data:image/png;base64,iVBOR...` -> `data:image/png;base64...`, so images never flood the text."""
    return uri.split(",", 1)[0] + "..." if uri.startswith("data:") else uri


def unwrap_link(href: str) -> str:
    """The target of a search engine's redirect link (Bing `ck/a?u=a1<base64>`, Google `/url?q=`), else `href`."""
    parts = urlsplit(href)
    query = parse_qs(parts.query)
    if parts.netloc.endswith("bing.com") and parts.path.startswith("/ck/") and query.get("u"):
        encoded = query["u"][0]
        if encoded.startswith("a1"):
            encoded = encoded[2:]
        try:
            return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return href
    if parts.path == "/url" and query.get("q") and ("google." in parts.netloc or not parts.netloc):
        return query["q"][0]
    if "duckduckgo.com" in parts.netloc and query.get("uddg"):
        return query["uddg"][0]
    return href


class Markdown(MarkdownConverter):
    """markdownify with ATX headings, unescaped text, unwrapped links and short data URIs."""

    def __init__(self, keep_data_uris: bool = False, **options):
        super().__init__(heading_style=ATX, escape_asterisks=False, escape_underscores=False, bullets="*", **options)
        self.keep_data_uris = keep_data_uris

    def convert_a(self, el, text, parent_tags):
        href = el.get("href") or ""
        if href.startswith(("javascript:", "data:")):
            el["href"] = ""
        elif href:
            el["href"] = unwrap_link(href)
        return super().convert_a(el, text, parent_tags)

    def convert_img(self, el, text, parent_tags):
        src = el.get("src") or ""
        if not self.keep_data_uris:
            el["src"] = shorten_data_uri(src)
        return super().convert_img(el, text, parent_tags)


def clean(soup: BeautifulSoup | Tag) -> None:
    """Remove scripts, navigation and other boilerplate in place."""
    for tag in soup.find_all(DROP_TAGS):
        tag.decompose()
    for selector in DROP_SELECTORS:
        for tag in soup.select(selector):
            tag.decompose()


def main_content(soup: BeautifulSoup) -> Tag:
    for selector in CONTENT_SELECTORS:
        found = soup.select(selector)
        if len(found) == 1 and found[0].get_text(strip=True):
            return found[0]
    return soup.body or soup


class Converted(NamedTuple):
    markdown: str
    title: str | None
    warnings: list[str]


def html_to_markdown(html: str, keep_data_uris: bool = False) -> Converted:
    """Markdown, title and warnings of an HTML document or fragment."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)  # XHTML chapters, feeds' HTML fragments
        soup = BeautifulSoup(html, "lxml")
    title = soup.title.get_text(strip=True) if soup.title else None
    clean(soup)
    content = main_content(soup)
    try:
        markdown = Markdown(keep_data_uris=keep_data_uris).convert_soup(content).strip()
    except RecursionError:  # markdownify recurses per element; bs4's text extraction does not
        text = content.get_text("\n", strip=True)
        return Converted(text, title, ["the HTML is nested too deeply for markdown; returned as plain text"])
    heading = soup.find("h1")
    if title and content.name != "body" and heading is not None and heading not in content.descendants:
        markdown = f"# {heading.get_text(' ', strip=True)}\n\n{markdown}"
    return Converted(markdown, title, [])


def convert(data: bytes, context: Context) -> Document:
    markdown, title, problems = html_to_markdown(decode_text(data, context.charset), context.keep_data_uris)
    metadata = {"url": context.url} if context.url else {}
    return Document(markdown=markdown, format="html", title=title, metadata=metadata, warnings=problems)
