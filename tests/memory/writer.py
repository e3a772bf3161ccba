"""A separate writer process for the concurrency tests: `python -m tests.memory.writer DB BATCH`.

Writes batches of BATCH cases forever (BATCH=0: one case per line read from stdin) and prints
each acknowledged batch's ids as one JSON line, only after `CaseBank.write` returned.
"""

from __future__ import annotations

import itertools
import json
import sys

from memento_memory.bank import CaseBank
from memento_memory.config import BankConfig


def main(db: str, batch: int) -> None:
    with CaseBank.open(BankConfig(db=db, model="feature-hash")) as bank:
        print(json.dumps({"ready": True}), flush=True)
        lines = (line.strip() for line in sys.stdin) if batch == 0 else (None for _ in itertools.count())
        for number, text in enumerate(lines):
            size = max(batch, 1)
            cases = [{"task": text or f"task {number}-{i} about topic {i % 7}", "reward": 1.0} for i in range(size)]
            report = bank.write(cases)
            print(json.dumps(report.created), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
