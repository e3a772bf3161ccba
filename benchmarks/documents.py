"""Documents benchmark: PDF pages/s beside MarkItDown, test vectors, and first-page latency over MCP stdio.

    python -m benchmarks.documents [--quick] [--data ../shared/data]

Pages/s: every PDF under <data>/documents plus a generated PDF (300 pages; 60 with --quick), converted
by our text-layer path and by MarkItDown in the same run. Vectors: MarkItDown's test_vectors.json on
our conversions. Latency: read_document(pages=k) of the generated 300-page PDF over a real stdio
session (one fresh page per call, so no cache hit), and again on a cached page.
Progress goes to stderr; the last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio

from tests.documents import samples

REPO = Path(__file__).resolve().parent.parent


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def page_count(data: bytes) -> int:
    import pymupdf

    with pymupdf.open(stream=data, filetype="pdf") as document:
        return document.page_count


def time_ours(files: list[Path]) -> tuple[float, dict[str, str]]:
    from memento_servers.documents.convert import convert_bytes

    outputs, started = {}, time.perf_counter()
    for path in files:
        outputs[path.name] = convert_bytes(path.read_bytes(), filename=path.name).markdown
    return time.perf_counter() - started, outputs


def time_markitdown(files: list[Path]) -> tuple[float, dict[str, str]]:
    from markitdown import MarkItDown

    converter = MarkItDown()
    converter.convert(str(files[0]))  # load its lazy imports outside the timing
    outputs, started = {}, time.perf_counter()
    for path in files:
        outputs[path.name] = converter.convert(str(path)).text_content
    return time.perf_counter() - started, outputs


def vectors_passed(convert) -> tuple[int, int, list[str]]:
    passed, failures = 0, []
    for group, vector in samples.vectors():
        markdown = convert(vector, group)
        problems = samples.check_vector(markdown, vector)
        passed += not problems
        failures += [f"{vector['filename']}: {p}" for p in problems]
    return passed, len(samples.vectors()), failures


def ours_for_vector(vector: dict, group: str) -> str:
    from memento_servers.documents.convert import convert_bytes

    return convert_bytes(
        (samples.DATA / vector["filename"]).read_bytes(), filename=vector["filename"],
        content_type=vector["mimetype"] + (f"; charset={vector['charset']}" if vector["charset"] else ""),
        url=vector["url"], keep_data_uris=group == "DATA_URI_TEST_VECTORS",
    ).markdown


async def latency(pdf: Path, calls: int) -> dict[str, float]:
    from tests.harness import connect

    async with connect("documents", "stdio", args=["--root", str(pdf.parent)]) as client:
        await client.call_tool("read_document", {"source": pdf.name, "pages": "300"})  # wait for the warm worker
        fresh, cached = [], []
        for page in range(1, calls + 1):
            started = time.perf_counter()
            result = await client.call_tool("read_document", {"source": pdf.name, "pages": str(page)})
            fresh.append((time.perf_counter() - started) * 1000)
            assert not result.is_error, result
        for _ in range(calls):
            started = time.perf_counter()
            await client.call_tool("read_document", {"source": pdf.name, "pages": "1"})
            cached.append((time.perf_counter() - started) * 1000)
    return {
        "first_page_p50_ms": round(statistics.median(fresh), 1),
        "first_page_p90_ms": round(sorted(fresh)[int(0.9 * (len(fresh) - 1))], 1),
        "cached_page_p50_ms": round(statistics.median(cached), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--quick", action="store_true", help="a 60-page generated PDF and fewer latency calls")
    args = parser.parse_args()
    pages_generated = 60 if args.quick else 300
    result: dict[str, object] = {"quick": args.quick}
    with tempfile.TemporaryDirectory() as folder:
        generated = Path(folder) / f"generated-{pages_generated}.pdf"
        generated.write_bytes(samples.report_pdf(pages_generated))
        real = sorted((args.data / "documents").rglob("*.pdf")) if (args.data / "documents").is_dir() else []
        if not real:
            log(f"no PDFs under {args.data / 'documents'}: timing the generated PDF only")
        files = [*real, generated]
        pages = {p.name: page_count(p.read_bytes()) for p in files}
        total_pages = sum(pages.values())
        log(f"{len(files)} PDFs, {total_pages} pages")
        result.update({"pdf_files": len(files), "pdf_pages": total_pages, "real_pdf_pages": sum(pages[p.name] for p in real),
                       "generated_pdf_pages": pages_generated, "target_ratio": 5.0})
        time_ours(files)  # imports and first-use costs outside the timing
        chars = {"ours": 0, "markitdown": 0}
        seconds = {}
        for label, subset in (("real", real), ("generated", [generated])):
            if not subset:
                continue
            # best of several runs: the machine is shared, and the minimum is the least disturbed figure
            ours_s, ours_out = min((time_ours(subset) for _ in range(3)), key=lambda r: r[0])
            theirs_s, theirs_out = min((time_markitdown(subset) for _ in range(1 if args.quick else 2)), key=lambda r: r[0])
            subset_pages = sum(pages[p.name] for p in subset)
            seconds[label] = (ours_s, theirs_s)
            chars["ours"] += sum(map(len, ours_out.values()))
            chars["markitdown"] += sum(map(len, theirs_out.values()))
            log(f"{label}: {subset_pages} pages, ours {ours_s:.2f} s, markitdown {theirs_s:.2f} s")
            result[f"{label}_pages_per_s"] = round(subset_pages / ours_s, 1)
            result[f"{label}_markitdown_pages_per_s"] = round(subset_pages / theirs_s, 1)
        ours_total = sum(o for o, _ in seconds.values())
        theirs_total = sum(t for _, t in seconds.values())
        result.update({
            "pdf_pages_per_s": round(total_pages / ours_total, 1),
            "markitdown_pages_per_s": round(total_pages / theirs_total, 1),
            "ratio_vs_markitdown": round(theirs_total / ours_total, 1),
            "output_chars_ours": chars["ours"],
            "output_chars_markitdown": chars["markitdown"],
        })
        passed, total, failures = vectors_passed(ours_for_vector)
        result.update({"vectors_passed": passed, "vectors_total": total})
        for failure in failures:
            log(f"vector failure: {failure}")
        if pages_generated < 300:
            generated = Path(folder) / "generated-300.pdf"
            generated.write_bytes(samples.report_pdf(300))
        log("latency over MCP stdio ...")
        result.update(anyio.run(latency, generated, 10 if args.quick else 30))
        result["target_p50_ms"] = 150
    print(json.dumps(result))


if __name__ == "__main__":
    main()
