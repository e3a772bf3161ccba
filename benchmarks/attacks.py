"""Attack summary: every regression attack under tests/security run against the real servers, counted per area.

    python -m benchmarks.attacks [--quick]

Each test case (a parametrised case counts once per parameter) is one attack on a real server or the real
fetcher over loopback: held when its test passes, got through when it fails or errors, skipped when this
machine cannot run it (the reason is listed). Areas are the test files' names (fetch, http, crawl cache,
crawl workers, documents, code, transport). `--quick` leaves out the slow ones (bombs over MCP, docx bombs,
40 MB messages, the deep-tree and quota sandboxes). Progress goes to stderr; the last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SECURITY = REPO / "tests" / "security"
SLOW = "not bomb_over_mcp and not docx_bombs and not 40_mb and not quota and not path_max"


def area(classname: str) -> str:
    """`tests.security.test_documents_roots` -> `documents`; crawl files keep two words (`crawl_cache`, `crawl_workers`)."""
    words = classname.rsplit(".", 1)[-1].removeprefix("test_").split("_")
    return "_".join(words[:2] if words[0] == "crawl" else words[:1])


def summarise(report: Path) -> dict[str, dict]:
    areas: dict[str, dict] = defaultdict(lambda: {"attempted": 0, "held": 0, "got_through": [], "skipped": []})
    for case in ElementTree.parse(report).iter("testcase"):
        entry = areas[area(case.get("classname", ""))]
        name = case.get("name", "")
        if case.find("skipped") is not None:
            entry["skipped"].append(f"{name}: {case.find('skipped').get('message', '')}")
            continue
        entry["attempted"] += 1
        if case.find("failure") is not None or case.find("error") is not None:
            entry["got_through"].append(name)
        else:
            entry["held"] += 1
    return dict(sorted(areas.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Leave out the slowest attacks.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        report = Path(work) / "report.xml"
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(SECURITY), f"--junitxml={report}"]
        if args.quick:
            command += ["-k", SLOW]
        started = time.monotonic()
        print(f"running {' '.join(command[2:])}", file=sys.stderr)
        done = subprocess.run(command, cwd=REPO, stdout=sys.stderr)
        if not report.exists():
            sys.exit(f"attacks: pytest produced no report (exit {done.returncode})")
        areas = summarise(report)
    attempted = sum(a["attempted"] for a in areas.values())
    held = sum(a["held"] for a in areas.values())
    for name, entry in areas.items():
        print(f"{name:12} {entry['held']:3} of {entry['attempted']:3} held  {len(entry['skipped'])} skipped", file=sys.stderr)
    result = {
        "benchmark": "attacks",
        "quick": args.quick,
        "attempted": attempted,
        "held": held,
        "got_through": attempted - held,
        "seconds": round(time.monotonic() - started, 1),
        "areas": areas,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
