"""Crawl benchmark: extraction quality on article-extraction-benchmark pages, and throughput, over MCP.

    python -m benchmarks.crawl [--quick] [--data ../shared/data] [--concurrency 4]

Quality: the pages of <data>/web/aeb_dev are served from a local HTTP server and read with
fetch_page(render="http") over a real stdio session; each result is scored against the gold
`articleBody` with that benchmark's metric (4-word shingles; per-page precision and recall
normalised, averaged over pages, F1 of the averages). trafilatura's `extract` with its defaults
scores the same pages in the same run. Throughput: 100 distinct local URLs (the same pages
under new paths, so no cache hit) fetched with render=http, then render=browser, `concurrency`
calls at a time; pages/s and p50/p90 latency per call. The real pages' scripts run in the browser
(their third-party requests fail here: no internet), so the browser is also timed on 100 copies of
the test site's small script-rendered page. --quick: 30 quality pages, 20 per mode.
Progress goes to stderr; the last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import anyio

from tests.fakes.site import JS_APP, LocalSite, js_shell
from tests.harness import connect, payload

REPO = Path(__file__).resolve().parent.parent
_TOKEN = re.compile(r"\w+")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the benchmark's metric, written from its definition ------------------------------------------------


def shingles(text: str, n: int = 4) -> Counter:
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i : i + n])


def page_counts(gold: str, predicted: str) -> tuple[float, float, float]:
    """(tp, fp, fn) over shingles, normalised to sum to 1 so that long pages weigh no more than short ones."""
    truth, guess = shingles(gold), shingles(predicted)
    tp, fp, fn = sum((truth & guess).values()), sum((guess - truth).values()), sum((truth - guess).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def scores(counts: list[tuple[float, float, float]]) -> dict[str, float]:
    def precision(tp, fp, fn):
        return 1.0 if fp == fn == 0 else (0.0 if tp == fp == 0 else tp / (tp + fp))

    def recall(tp, fp, fn):
        return 1.0 if fp == fn == 0 else (0.0 if tp == fn == 0 else tp / (tp + fn))

    p = statistics.mean(precision(*c) for c in counts if c[0] + c[1] > 0)
    r = statistics.mean(recall(*c) for c in counts if c[0] + c[2] > 0)
    return {"f1": round(2 * p * r / (p + r), 4), "precision": round(p, 4), "recall": round(r, 4)}


# -- runs -----------------------------------------------------------------------------------------------


def load_pages(data: Path) -> tuple[dict[str, bytes], dict[str, str]]:
    root = data / "web" / "aeb_dev"
    gold = {key: item.get("articleBody", "") for key, item in json.loads((root / "ground-truth.json").read_text()).items()}
    pages = {path.name.split(".")[0]: gzip.decompress(path.read_bytes()) for path in sorted((root / "html").glob("*.html.gz"))}
    return pages, gold


def trafilatura_baseline(pages: dict[str, bytes], gold: dict[str, str]) -> dict[str, float]:
    import trafilatura

    started, counts = time.perf_counter(), []
    for key, html in pages.items():
        counts.append(page_counts(gold[key], trafilatura.extract(html.decode("utf-8")) or ""))
    return {**scores(counts), "pages_per_s": round(len(pages) / (time.perf_counter() - started), 1)}


async def fetch_all(client, urls: list[str], render: str, concurrency: int) -> tuple[list[dict], list[float], float]:
    results: list[dict] = [{}] * len(urls)
    latencies: list[float] = []
    limiter = anyio.Semaphore(concurrency)

    async def one(index: int, url: str) -> None:
        async with limiter:
            started = time.perf_counter()
            result = await client.call_tool("fetch_page", {"url": url, "render": render, "max_chars": 200_000})
            latencies.append(time.perf_counter() - started)
            results[index] = {"error": result.content[0].text} if result.is_error else payload(result)

    started = time.perf_counter()
    with anyio.fail_after(1800):
        async with anyio.create_task_group() as group:
            for index, url in enumerate(urls):
                group.start_soon(one, index, url)
    return results, latencies, time.perf_counter() - started


def throughput(results: list[dict], latencies: list[float], elapsed: float) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "pages": len(results),
        "errors": sum("error" in r for r in results),
        "error_samples": sorted({r["error"][:160] for r in results if "error" in r})[:3],
        "pages_per_s": round(len(results) / elapsed, 2),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 1),
    }


async def run(args: argparse.Namespace) -> dict:
    pages, gold = load_pages(args.data)
    keys = list(pages)[: 30 if args.quick else len(pages)]
    speed_count = 20 if args.quick else 100
    report: dict = {"pages": len(keys), "concurrency": args.concurrency}
    log(f"trafilatura on {len(keys)} pages ...")
    report["trafilatura"] = trafilatura_baseline({k: pages[k] for k in keys}, gold)
    with LocalSite() as site, tempfile.TemporaryDirectory() as home:
        quality_urls = [site.add(f"/aeb/{key}.html", pages[key]) for key in keys]
        all_keys = list(pages)
        speed_urls = [site.add(f"/speed/{i}.html", pages[all_keys[i % len(all_keys)]]) for i in range(speed_count)]
        app_page = js_shell(f"<script>{JS_APP}</script>")
        app_urls = [site.add(f"/app/{i}.html", app_page) for i in range(speed_count)]
        server_args = ["--allow-host", "127.0.0.1", "--browser-concurrency", str(args.concurrency), "--log-level", "WARNING"]
        async with connect("crawl", "stdio", args=server_args, env={"MEMENTO_HOME": home}) as client:
            log("memento-crawl fetch_page(render=http) for quality ...")
            results, latencies, elapsed = await fetch_all(client, quality_urls, "http", 1)
            counts = [page_counts(gold[key], r.get("markdown", "")) for key, r in zip(keys, results)]
            report["memento_crawl"] = {
                **scores(counts),
                "pages_per_s_over_mcp": round(len(keys) / elapsed, 1),
                "errors": sum("error" in r for r in results),
            }
            for render in ("http", "browser"):
                log(f"throughput render={render}: {speed_count} pages at concurrency {args.concurrency} ...")
                if render == "browser":  # start the browser outside the timing
                    await client.call_tool("fetch_page", {"url": site.url("/js/app.html"), "render": "browser"})
                report[f"throughput_{render}"] = throughput(*await fetch_all(client, speed_urls, render, args.concurrency))
            log(f"throughput of the browser on a small script-rendered page: {speed_count} pages ...")
            report["throughput_browser_small_js_page"] = throughput(
                *await fetch_all(client, app_urls, "browser", args.concurrency)
            )
    report["target_met"] = report["memento_crawl"]["f1"] >= report["trafilatura"]["f1"]
    return report


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.crawl", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--quick", action="store_true", help="30 quality pages, 20 per throughput mode")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    if not (args.data / "web" / "aeb_dev" / "ground-truth.json").exists():
        print(json.dumps({"skipped": f"no aeb_dev data under {args.data}"}))
        return
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    print(json.dumps(anyio.run(run, args)))


if __name__ == "__main__":
    main()
