"""A small real website on 127.0.0.1 for tests: articles, a JavaScript page, redirects, errors, big,
slow and non-HTML responses, a crawlable cluster of linked pages and robots.txt.

    from tests.fakes.site import site          # in a conftest.py or test module: registers the fixture
    def test_x(site):  site.url("/articles/tides.html")

Or outside pytest: `with LocalSite() as s: ...`. All text is written for this project.

Routes:
    /articles/{tides,bread,lighthouses}.html  articles inside nav, sidebar, comments and footer
    /articles/long.html        a long article (~40k characters of text) for pagination
    /js/app.html               empty shell; inline script writes the article into #app
    /js/external.html          empty shell; /js/app.js (fetched by the browser) writes the article
    /js/probe.html             writes the article, then reports a same-site fetch of /data.json and a fetch of
                               http://0.0.0.0:<port>/private/secret.html (which a safe browser must not send)
    /redirect/chain/N          N hops, then /articles/tides.html
    /redirect/to?url=U         one 302 to U (e.g. http://10.0.0.1/, http://169.254.169.254/)
    /redirect/loop             redirects to itself forever
    /status/CODE               an HTML error page with that status (404, 500, ...)
    /huge.html                 ~3 MB of paragraphs
    /slow.html?delay=S         answers after S seconds (default 5)
    /files/report.pdf          a 2-page PDF made with pymupdf; /data.json; /image.png; /notes.txt
    /site/index.html           hub of 30 linked pages /site/page-K.html (links to neighbours, an
                               external host, a private address and /private/secret.html)
    /robots.txt                disallows /private/ (or answers `robots_status`, e.g. 500)
"""

from __future__ import annotations

import json
import threading
import time
import zlib
from collections.abc import Iterator
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlsplit

import pytest

ARTICLES = {
    "tides": (
        "Why the Sea Breathes Twice a Day",
        [
            "Twice each day the water along most coastlines rises and falls, and the rhythm is older than any "
            "harbour built to use it. The tide is the ocean's answer to the pull of the Moon and, to a lesser "
            "degree, the Sun.",
            "Gravity weakens with distance, so the Moon pulls harder on the near side of the Earth than on its "
            "centre, and harder on the centre than on the far side. The difference stretches the oceans into two "
            "bulges, one facing the Moon and one facing away from it.",
            "As the Earth turns beneath these bulges, a given beach passes through both of them in a little more "
            "than a day: 24 hours and 50 minutes, because the Moon moves along its orbit while the Earth spins.",
            "When the Sun and Moon line up, at new and full moon, their pulls add and the range between high and "
            "low water is largest. These are the spring tides, and the name has nothing to do with the season.",
            "At the quarter moons the two pulls work at right angles and the range shrinks. Sailors call these "
            "neap tides, and harbour masters plan deep-draught arrivals around them.",
            "Local geography then reshapes the simple picture. The Bay of Fundy funnels the incoming water until "
            "the difference between low and high tide exceeds fifteen metres, while parts of the Mediterranean "
            "barely notice the tide at all.",
        ],
    ),
    "bread": (
        "A Slow Loaf: Notes on Sourdough Fermentation",
        [
            "A sourdough starter is a small ecosystem of wild yeasts and lactic acid bacteria living in flour "
            "and water. Feeding it regularly keeps the balance between the two populations stable.",
            "The yeasts produce carbon dioxide, which raises the dough, while the bacteria produce lactic and "
            "acetic acids that give the bread its sour flavour and help it keep longer.",
            "Temperature steers the outcome. A warm kitchen favours the yeasts and a milder loaf; a cool one "
            "slows everything down and lets the acids build up over a long, patient rise.",
            "Bakers judge readiness by the dough rather than by the clock: a domed surface, a few bubbles at the "
            "edges and a gentle spring when pressed with a floured finger.",
            "Baking in a covered pot traps steam during the first twenty minutes, so the crust stays soft long "
            "enough for the loaf to expand fully before it sets and browns.",
        ],
    ),
    "lighthouses": (
        "Lights Along the Coast: How Lighthouses Tell Ships Apart",
        [
            "Every lighthouse along a coast shows its own signature, called its character, so that a navigator "
            "can tell one light from another in the dark.",
            "A character combines colour, the pattern of flashes and the period in which the pattern repeats. "
            "Two white flashes every ten seconds means something quite different from one red flash every five.",
            "The Fresnel lens, introduced in the 1820s, replaced heavy mirrors with rings of glass prisms that "
            "bent the light of a single lamp into a powerful horizontal beam visible for many miles.",
            "Most lights are automated today, watched over by remote monitoring rather than resident keepers, "
            "but their characters are still printed in every nautical almanac.",
        ],
    ),
}

LONG_TOPICS = ["rivers", "glaciers", "deserts", "forests", "volcanoes", "wetlands", "coral reefs", "prairies"]

JS_ARTICLE = [
    "Fireflies make light through a chemical reaction in which the enzyme luciferase acts on luciferin.",
    "Each species flashes in its own rhythm, and females answer the males of their species with a matching delay.",
    "Light pollution makes these signals harder to see, and firefly numbers fall near bright streets.",
]


PROBE_SCRIPT = """
var app = document.getElementById("app");
function say(id, text) { var p = document.createElement("p"); p.id = id; p.textContent = text; app.appendChild(p); }
app.innerHTML = "<article><h1>Network probe</h1></article>";
%s.forEach(function (p, i) { say("para" + i, p); });
fetch("/data.json").then(function (r) { return r.json(); })
  .then(function (d) { say("same-site", "The same-site request returned station " + d.station + "."); })
  .catch(function () { say("same-site", "The same-site request failed."); });
fetch("http://0.0.0.0:" + location.port + "/private/secret.html")
  .then(function (r) { return r.text(); })
  .then(function (t) { say("private", "The private request LEAKED: " + t.length + " characters."); })
  .catch(function () { say("private", "The private request was blocked before it left the browser."); });
""" % json.dumps(JS_ARTICLE)


def _page(title: str, body_html: str, *, head: str = "") -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} | Coastal Review</title>
<meta name="viewport" content="width=device-width, initial-scale=1">{head}
<link rel="stylesheet" href="/static/site.css"></head>
<body>
<header class="site-header"><a href="/" class="logo">Coastal Review</a>
<nav><ul><li><a href="/">Home</a></li><li><a href="/articles/tides.html">Science</a></li>
<li><a href="/articles/bread.html">Food</a></li><li><a href="/articles/lighthouses.html">History</a></li>
<li><a href="/about.html">About</a></li><li><a href="/subscribe.html">Subscribe</a></li></ul></nav></header>
<div class="cookie-banner">We use cookies to improve your experience. <button>Accept all</button></div>
{body_html}
<footer class="site-footer"><p>&copy; 2026 Coastal Review. All rights reserved.</p>
<ul><li><a href="/privacy.html">Privacy policy</a></li><li><a href="/terms.html">Terms of use</a></li>
<li><a href="/contact.html">Contact</a></li></ul></footer>
</body></html>"""


def article_html(title: str, paragraphs: list[str], *, extra_links: str = "") -> str:
    text = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    body = f"""<main><article><h1>{title}</h1>
<p class="byline">By Morgan Reed &middot; <time datetime="2026-03-14">March 14, 2026</time></p>
{text}
{extra_links}
</article>
<aside class="sidebar"><h3>Most read</h3><ul><li><a href="/articles/bread.html">A slow loaf</a></li>
<li><a href="/articles/lighthouses.html">Lights along the coast</a></li></ul>
<div class="ad">Advertisement: Book your summer sailing course today!</div></aside>
<section class="comments"><h3>3 comments</h3><p>Great read, thanks!</p><p>Share this on social media.</p></section>
</main>"""
    return _page(title, body)


def long_article() -> str:
    sections = []
    for i in range(60):
        topic = LONG_TOPICS[i % len(LONG_TOPICS)]
        sections.append(f"<h2>Part {i + 1}: {topic}</h2>")
        for j in range(3):
            sections.append(
                f"<p>Section {i + 1}, paragraph {j + 1}. Field notes on {topic}: observers recorded how {topic} "
                f"change with the seasons, which species depend on them, and how measurements taken over decades "
                f"reveal slow trends that a single visit would never show. Marker {i + 1}-{j + 1}.</p>"
            )
    return article_html("A Field Guide to Landscapes", [], extra_links="\n".join(sections))


def js_shell(script: str) -> str:
    body = f"""<main><div id="app"><noscript>Please enable JavaScript to read this article.</noscript></div></main>
{script}"""
    return _page("Loading...", body)


JS_APP = """
document.title = "How Fireflies Glow";
var app = document.getElementById("app");
var html = "<article><h1>How Fireflies Glow</h1>";
%s.forEach(function (p) { html += "<p>" + p + "</p>"; });
app.innerHTML = html + "</article>";
""" % json.dumps(JS_ARTICLE)


def crawl_page(k: int, total: int) -> str:
    neighbours = [n for n in (k - 1, k + 1, k + 2) if 1 <= n <= total]
    links = "".join(f'<li><a href="/site/page-{n}.html">Page {n}</a></li>' for n in neighbours)
    body = f"""<main><article><h1>Handbook page {k}</h1>
<p>This is page {k} of the station handbook. It explains procedure {k} in plain words: who does it, when, and
which instruments are checked before the logbook entry for procedure {k} is signed.</p>
<p>Keep the handbook open at page {k} while you work through the checklist for procedure {k}.</p>
<ul>{links}</ul>
<p><a href="http://example.invalid/elsewhere">An external reference</a>
<a href="http://10.0.0.1/admin">Router admin</a> <a href="/private/secret.html">Staff only</a>
<a href="mailto:desk@example.org">Mail us</a></p></article></main>"""
    return _page(f"Handbook page {k}", body)


def site_index(total: int) -> str:
    items = "".join(f'<li><a href="/site/page-{k}.html">Page {k}</a></li>' for k in range(1, 6))
    body = f"""<main><article><h1>Station handbook</h1><p>The handbook has {total} pages; start anywhere.</p>
<ul>{items}</ul></article></main>"""
    return _page("Station handbook", body)


def _make_pdf() -> bytes:
    import pymupdf

    doc = pymupdf.open()
    for number, text in enumerate(
        [
            "Quarterly report on coastal erosion. Dune retreat averaged 1.8 metres this quarter.",
            "Recommendations: replant marram grass and close two footpaths during the nesting season.",
        ],
        start=1,
    ):
        page = doc.new_page()
        page.insert_text((72, 72), f"Page {number}", fontsize=16)
        page.insert_text((72, 110), text, fontsize=11)
    data = doc.tobytes()
    doc.close()
    return data


def _make_png() -> bytes:
    import struct

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x80\x00" * 4 for _ in range(4))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


class QuietServer(ThreadingHTTPServer):
    """Clients hanging up early (timeouts, size caps) are expected here, not worth a traceback."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass


class LocalSite:
    """The site, served from a thread on 127.0.0.1:<free port>. `pages` may be extended with `add`."""

    def __init__(self, *, robots: str = "User-agent: *\nDisallow: /private/\n", robots_status: int = 200,
                 crawl_pages: int = 30, huge_bytes: int = 3_000_000):
        self.robots = robots
        self.robots_status = robots_status
        self.crawl_pages = crawl_pages
        self.huge_bytes = huge_bytes
        self.extra: dict[str, tuple[bytes, str]] = {}
        self.requests: list[str] = []  # paths requested, in order (for tests that check what was fetched)
        self._server: ThreadingHTTPServer | None = None

    # lifecycle
    def start(self) -> LocalSite:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                site.requests.append(self.path)
                status, headers, body = site.respond(self.path)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self._server = QuietServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True, name="local-site").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> LocalSite:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "site not started"
        return self._server.server_address[1]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, body: bytes | str, content_type: str = "text/html; charset=utf-8") -> str:
        """Serve `body` at `path` (e.g. benchmark pages); returns its URL."""
        self.extra[path] = (body.encode() if isinstance(body, str) else body, content_type)
        return self.url(path)

    # content
    @cached_property
    def pdf(self) -> bytes:
        return _make_pdf()

    @cached_property
    def huge(self) -> bytes:
        paragraph = "<p>" + "The archive keeps every daily weather report since records began. " * 20 + "</p>\n"
        count = self.huge_bytes // len(paragraph) + 1
        return article_html("The Complete Weather Archive", [], extra_links=paragraph * count).encode()

    def respond(self, raw_path: str) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(raw_path)
        path, query = parts.path, parse_qs(parts.query)
        html = "text/html; charset=utf-8"
        if path in self.extra:
            body, kind = self.extra[path]
            return 200, {"Content-Type": kind}, body
        if path.startswith("/articles/") and path.endswith(".html"):
            name = path[len("/articles/") : -len(".html")]
            if name == "long":
                return 200, {"Content-Type": html}, long_article().encode()
            if name in ARTICLES:
                return 200, {"Content-Type": html}, article_html(*ARTICLES[name]).encode()
        if path == "/js/app.html":
            return 200, {"Content-Type": html}, js_shell(f"<script>{JS_APP}</script>").encode()
        if path == "/js/external.html":
            return 200, {"Content-Type": html}, js_shell('<script src="/js/app.js"></script>').encode()
        if path == "/js/probe.html":
            return 200, {"Content-Type": html}, js_shell(f"<script>{PROBE_SCRIPT}</script>").encode()
        if path == "/js/app.js":
            return 200, {"Content-Type": "application/javascript"}, JS_APP.encode()
        if path.startswith("/redirect/chain/"):
            left = int(path.rsplit("/", 1)[1] or 0)
            target = f"/redirect/chain/{left - 1}" if left > 1 else "/articles/tides.html"
            return 302, {"Location": target}, b""
        if path == "/redirect/to":
            return 302, {"Location": query.get("url", ["/"])[0]}, b""
        if path == "/redirect/loop":
            return 302, {"Location": "/redirect/loop"}, b""
        if path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[1])
            return code, {"Content-Type": html}, _page(f"Error {code}", f"<main><h1>Error {code}</h1></main>").encode()
        if path == "/huge.html":
            return 200, {"Content-Type": html}, self.huge
        if path == "/slow.html":
            time.sleep(float(query.get("delay", ["5"])[0]))
            return 200, {"Content-Type": html}, article_html(*ARTICLES["tides"]).encode()
        if path == "/files/report.pdf":
            return 200, {"Content-Type": "application/pdf"}, self.pdf
        if path == "/data.json":
            return 200, {"Content-Type": "application/json"}, json.dumps({"station": "North Pier", "tide_m": 4.2}).encode()
        if path == "/image.png":
            return 200, {"Content-Type": "image/png"}, _make_png()
        if path == "/notes.txt":
            return 200, {"Content-Type": "text/plain; charset=utf-8"}, "Plain notes: check the tide gauge at dawn.\n".encode()
        if path == "/site/index.html":
            return 200, {"Content-Type": html}, site_index(self.crawl_pages).encode()
        if path.startswith("/site/page-") and path.endswith(".html"):
            k = int(path[len("/site/page-") : -len(".html")])
            if 1 <= k <= self.crawl_pages:
                return 200, {"Content-Type": html}, crawl_page(k, self.crawl_pages).encode()
        if path == "/private/secret.html":
            return 200, {"Content-Type": html}, article_html("Staff only", ["The door code is 4321."]).encode()
        if path == "/robots.txt":
            return self.robots_status, {"Content-Type": "text/plain"}, self.robots.encode()
        return 404, {"Content-Type": html}, _page("Not found", "<main><h1>Page not found</h1></main>").encode()

    def redirect_to(self, target: str) -> str:
        return self.url("/redirect/to?url=" + quote(target, safe=""))


@pytest.fixture(scope="session")
def site() -> Iterator[LocalSite]:
    """The local test site, shared by every test of the session."""
    with LocalSite() as running:
        yield running
