"""The simulated world of `benchmarks.learning`: look-alike questions with hidden working methods, and a
planner whose success depends on the cases in its prompt.

Tasks are questions about invented companies, from templates in look-alike pairs that differ in one key
word ("annual revenue" / "annual profit"). Each template is a *kind* with its own working method, a
token such as `ledger-scan`; the gold answer is a fixed number per (kind, company).

The simulated planner, given a task and the cases shown to it:
- follows the method of one *successful* case in the prompt, chosen uniformly (a model imitating the
  examples it was given: a look-alike task's case reads as relevant as a right one); with no successful
  case it guesses among all methods; failed cases do not steer it;
- plans one step, "Apply <method> to: <task>", and once the step is reported answers with the gold
  answer with probability `P_RIGHT` if the method works for the task's kind, else `P_LUCKY`.
Random draws come from (seed, task, attempt): every policy meets the same luck on its n-th attempt at a
task. `drift()` gives half of the kinds a new working method (the world changes under the bank).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

P_RIGHT = 0.9
P_LUCKY = 0.05
PAIRS = (
    ("What was the annual revenue of the company {e}?", "What was the annual profit of the company {e}?"),
    ("Who founded the company {e}?", "Who owns the company {e}?"),
    ("In which city is the company {e} headquartered?", "In which country is the company {e} headquartered?"),
)
KINDS = tuple(template for pair in PAIRS for template in pair)
METHODS = (
    "ledger-scan", "filing-search", "registry-lookup", "press-archive", "founder-bio",
    "map-trace", "atlas-check", "annual-report", "news-wire", "patent-index",
)  # fmt: skip
SYLLABLES = ("ka", "lo", "mer", "vin", "dra", "sel", "tor", "bu", "fen", "qui", "ra", "zo", "pel", "gan")
METHOD_IN_PLAN = re.compile(r"Apply ([a-z]+-[a-z]+) to")


def companies(count: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    names: set[str] = set()
    while len(names) < count:
        names.add("".join(rng.choice(SYLLABLES, 3)).capitalize() + " " + str(rng.choice(["Ltd", "Group", "Labs"])))
    return sorted(names)


def _number(*parts: object) -> int:
    return int.from_bytes(hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest(), "little")


@dataclass
class Task:
    id: str
    kind: int
    company: str

    @property
    def question(self) -> str:
        return KINDS[self.kind].format(e=self.company)

    @property
    def gold(self) -> str:
        return gold(self.kind, self.company)


def gold(kind: int, company: str) -> str:
    """The fixed answer to the question of `kind` about `company`."""
    return str(10000 + _number("gold", kind, company) % 90000)


def tasks(per_kind: int, seed: int) -> list[Task]:
    """`per_kind` companies per look-alike pair, each asked both questions of its pair."""
    names = iter(companies(per_kind * len(PAIRS), seed))
    pairs = [(pair, next(names)) for pair in range(len(PAIRS)) for _ in range(per_kind)]
    found = [Task("", kind, name) for pair, name in pairs for kind in (2 * pair, 2 * pair + 1)]
    return [Task(f"t{n}", t.kind, t.company) for n, t in enumerate(found)]


def kind_of(question: str) -> tuple[int, str] | None:
    """(kind, company) of a question written from the templates."""
    for kind, template in enumerate(KINDS):
        head, tail = template.split("{e}")
        if question.startswith(head) and question.endswith(tail):
            return kind, question[len(head) : len(question) - len(tail)]
    return None


@dataclass
class World:
    """The hidden truth: which method works for each kind (and whether the world has drifted)."""

    seed: int
    methods: list[str] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        self.methods = list(rng.choice(METHODS, len(KINDS), replace=False))

    def drift(self) -> None:
        """Half of the kinds (one of each look-alike pair) now need a method no kind used before."""
        unused = [m for m in METHODS if m not in self.methods]
        for n, kind in enumerate(range(0, len(KINDS), 2)):
            self.methods[kind] = unused[n % len(unused)]

    def attempt(self, question: str, shown_successful_methods: Iterable[str]) -> tuple[str, bool]:
        """The method the planner follows and whether its answer will be right."""
        kind, _ = kind_of(question) or (-1, "")
        attempt = self.attempts.get(question, 0)
        self.attempts[question] = attempt + 1
        rng = np.random.default_rng(_number(self.seed, question, attempt))
        followed = [m for m in shown_successful_methods if m in METHODS]
        method = str(rng.choice(followed)) if followed else str(rng.choice(METHODS))
        works = kind >= 0 and method == self.methods[kind]
        return method, bool(rng.random() < (P_RIGHT if works else P_LUCKY))
