"""The simulated model of `benchmarks.learning`: an OpenAI-compatible chat server that plays the agent's
planner and executor in `benchmarks.learning_world`'s world.

    sim = SimulatedModel(); stop = sim.start()   # sim.url: http://127.0.0.1:PORT/v1
    sim.reset(seed); ...run memento eval...; sim.drift(); ...; sim.log (one row per planned attempt)

It answers by role, told apart by the system prompts of `memento_client.loop.planner` and `.executor`:

- planner, first turn of a task: the methods in the plans of the *successful* cases its prompt shows
  (one per case, `learning_world.METHOD_IN_PLAN`; failed cases are not read), `World.attempt(question,
  methods)`, and a one-subtask plan `Apply <method> to: <question>`; (method, right) is kept for the question;
- executor: a short text result, never a tool call;
- planner once results are reported: the task's gold answer if the attempt was right, else a wrong
  5-digit number (deterministic per question and attempt).

Every reply is a function of the world's seed and the attempt count per question, so two runs of the
same questions with the same seed meet the same luck. The judge role is never asked (no judge model).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.learning_world import KINDS, METHOD_IN_PLAN, World, _number, gold, kind_of
from tests.fakes.openai_server import FakeOpenAI, RecordedRequest, Reply, error_reply, serve, text_reply

PLANNER_MARK = "planner of a research agent"  # memento_client.loop.planner.SYSTEM
EXECUTOR_MARK = "executor of a research agent"  # memento_client.loop.executor.SYSTEM
SUCCESSFUL = "Successful cases ("  # headings of memento_client.loop.planner.cases_text
FAILED = "Failed cases ("
REPORTED = "Results of cycle"  # memento_client.loop.agent.results_report


def role_of(request: RecordedRequest) -> str:
    system = str(request.messages[0].get("content") or "") if request.messages else ""
    if PLANNER_MARK in system:
        return "planner"
    if EXECUTOR_MARK in system:
        return "executor"
    return "other"


def user_text(request: RecordedRequest) -> str:
    """The first user message: the planner's task and cases, or the executor's task and subtask."""
    return next((str(m.get("content") or "") for m in request.messages if m.get("role") == "user"), "")


def task_of(prompt: str) -> str:
    """The question of a planner ("Task: ...") or executor ("Overall task: ...") prompt: its first line."""
    match = re.match(r"(?:Overall task|Task): (.+)", prompt)
    return match.group(1).strip() if match else ""


def successful_methods(prompt: str) -> list[str]:
    """One method per successful case shown (the first `Apply <method> to` of its plan), in prompt order."""
    if SUCCESSFUL not in prompt:
        return []
    section = prompt.split(SUCCESSFUL, 1)[1].split(FAILED, 1)[0]
    methods = []
    for block in re.split(r"\n\[case ", section)[1:]:
        plan = next((line for line in block.splitlines() if line.startswith("Plan: ")), "")
        if found := METHOD_IN_PLAN.search(plan):
            methods.append(found.group(1))
    return methods


def wrong_answer(question: str, attempt: int, gold: str) -> str:
    value = 10000 + _number("wrong", question, attempt) % 90000
    if str(value) == gold:
        value = 10000 + (value - 10000 + 1) % 90000
    return str(value)


def gold_of(question: str) -> str:
    """The gold answer `learning_world.Task.gold` gives the question's (kind, company)."""
    found = kind_of(question)
    if found is None:
        return ""
    return gold(*found)


def plan_json(subtask: str) -> str:
    return json.dumps({"thought": "follow the method of a case that worked", "plan": [{"id": 1, "description": subtask}], "final_answer": None})


def answer_json(answer: str) -> str:
    return json.dumps({"thought": "the step reported the figure", "plan": [], "final_answer": answer})


@dataclass
class Attempt:
    """One planned attempt, for the benchmark's diagnostics."""

    question: str
    kind: int
    attempt: int  # 0-based count of earlier attempts at the question (= iteration - 1 in memento eval)
    shown: list[str]  # methods of the successful cases shown
    method: str
    right: bool
    working: str  # the method that worked for the kind at the time

    @property
    def shown_working(self) -> bool:
        return self.working in self.shown


class _Server(FakeOpenAI):
    """The fake server without its request log (a long benchmark would keep every prompt)."""

    def next_reply(self, request: RecordedRequest) -> Reply:
        assert self.responder is not None
        return self.responder(request)


class SimulatedModel:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.world: World | None = None
        self.chosen: dict[str, tuple[int, str, bool]] = {}  # question -> (attempt, method, right)
        self.log: list[Attempt] = []
        self.unexpected: list[str] = []  # requests it could not place (should stay empty)
        self.url = ""

    def start(self) -> Callable[[], None]:
        """Serve on a free loopback port in a background thread; returns the function that stops it."""
        server = _Server(models=("sim",))
        server.responder = self
        stop = serve(server)
        self.url = server.url
        return stop

    def reset(self, seed: int) -> None:
        """A fresh world (the same for every arm given the seed) and an empty attempt log."""
        with self.lock:
            self.world = World(seed)
            self.chosen = {}
            self.log = []
            self.unexpected = []

    def drift(self) -> None:
        with self.lock:
            assert self.world is not None
            self.world.drift()

    def __call__(self, request: RecordedRequest) -> Reply:
        try:
            role, prompt = role_of(request), user_text(request)
            question = task_of(prompt)
            if role == "executor":
                subtask = prompt.rsplit("Your subtask: ", 1)[-1].strip()
                return text_reply(f"Done: {subtask[:80]}. The figure is in the step's notes.")
            if role == "planner" and question:
                if any(REPORTED in str(m.get("content") or "") for m in request.messages):
                    return text_reply(answer_json(self._answer(question)))
                return text_reply(plan_json(self._plan(question, successful_methods(prompt))))
        except Exception as exc:  # noqa: BLE001 (a bug here must show in the results, not hang the client)
            self._unexpected(f"{type(exc).__name__}: {exc}")
            return error_reply(400, f"simulated model failed: {exc}")
        self._unexpected(f"unplaced request: {prompt[:120]!r}")
        return error_reply(400, "simulated model: not a planner or executor request")

    def _unexpected(self, what: str) -> None:
        with self.lock:
            self.unexpected.append(what)

    def _plan(self, question: str, shown: list[str]) -> str:
        with self.lock:
            assert self.world is not None, "reset(seed) first"
            method, right = self.world.attempt(question, shown)
            attempt = self.world.attempts[question] - 1
            kind = (kind_of(question) or (-1, ""))[0]
            working = self.world.methods[kind] if 0 <= kind < len(KINDS) else ""
            self.chosen[question] = (attempt, method, right)
            self.log.append(Attempt(question, kind, attempt, shown, method, right, working))
        return f"Apply {method} to: {question}"

    def _answer(self, question: str) -> str:
        with self.lock:
            attempt, _, right = self.chosen.get(question, (-1, "", False))
        gold = gold_of(question)
        return gold if right else wrong_answer(question, attempt, gold)


def self_check() -> None:
    """The parsing against the client's own prompt code, so a change of its wording fails loudly here."""
    from types import SimpleNamespace

    from memento_client.loop.planner import cases_text

    def case(n: int, method: str) -> SimpleNamespace:
        return SimpleNamespace(id=f"c{n}", task=f"q{n}", plan=[f"Apply {method} to: q{n}"], answer="1")

    positive, negative = [case(1, "ledger-scan"), case(2, "map-trace")], [case(3, "atlas-check")]
    cases = SimpleNamespace(positive=positive, negative=negative, ids=["c1", "c2", "c3"])
    question = "What was the annual revenue of the company Kalomer Ltd?"
    prompt = f"Task: {question}\n\n" + cases_text(cases)  # type: ignore[arg-type]
    if successful_methods(prompt) != ["ledger-scan", "map-trace"] or task_of(prompt) != question:
        raise RuntimeError(f"the planner prompt changed; the simulated model cannot read it:\n{prompt}")
