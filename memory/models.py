"""The case bank's data: what a case is, what a write carries, what a retrieval returns."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, JsonValue

Trust = Literal["trusted", "quarantined"]
Policy = Literal["similarity", "learned"]
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"


class Case(BaseModel):
    """One finished task: what was asked, the plan used, how it ended, and where it came from."""

    id: str = Field(description="Stable case id.")
    task: str = Field(description="The task or question as the agent received it.")
    plan: JsonValue = Field(None, description="The plan that was followed (any JSON; Memento uses {'plan': [steps]}).")
    answer: str = Field("", description="The final answer given.")
    summary: str = Field("", description="Optional short summary of the trajectory.")
    reward: float = Field(description="Outcome reward in [0, 1] (1: solved).")
    outcome: str = Field("", description="Outcome label, e.g. success or failure.")
    source: str = Field("", description="Provenance: who or what wrote the case (agent, importer, user).")
    run_id: str = Field("", description="Provenance: the run that produced the case.")
    trust: Trust = Field("trusted", description="quarantined cases are never retrieved unless asked for.")
    tags: list[str] = Field(default_factory=list, description="Free-form labels usable as retrieval filters.")
    created_at: datetime = Field(description="When the case was first written (UTC).")
    updated_at: datetime = Field(description="When the case last changed (UTC).")


class NewCase(BaseModel):
    """A case to write. `id` makes a retried write idempotent; `retrieved_case_ids` with `reward`
    records which past cases were used, so the learned policy can learn from the outcome."""

    task: str
    plan: JsonValue = None
    answer: str = ""
    summary: str = ""
    reward: float = Field(ge=0, le=1)
    outcome: str = ""
    source: str = ""
    run_id: str = ""
    tags: list[str] = Field(default_factory=list)
    trust: Trust = "trusted"
    id: str | None = Field(None, pattern=ID_PATTERN)
    retrieved_case_ids: list[str] = Field(default_factory=list)


class CasePage(BaseModel):
    """A page of `list_cases`."""

    cases: list[Case]
    total: int = Field(description="Cases matching the filters.")
    offset: int
    next_offset: int | None = Field(description="Pass as offset for the next page; null on the last page.")


class DeleteResult(BaseModel):
    """What `delete_case` did."""

    case_id: str
    deleted: bool = Field(description="False when no case had this id (nothing to do).")


class CaseFilters(BaseModel):
    """Which cases a retrieval or listing may return."""

    tags: list[str] = Field(default_factory=list, description="Only cases carrying at least one of these tags.")
    source: str | None = Field(None, description="Only cases with exactly this source.")
    min_reward: float | None = Field(None, ge=0, le=1, description="Only cases with reward >= this.")
    include_quarantined: bool = Field(False, description="Also return quarantined cases.")
    exclude_task: str | None = Field(
        None, description="Never return cases whose task text equals this one (case, whitespace and end punctuation ignored)."
    )
    exclude_tags: list[str] = Field(default_factory=list, description="Never return cases carrying any of these tags.")


class RetrievedCase(Case):
    """A case with how it matched the query."""

    similarity: float = Field(description="Cosine similarity of the case's task to the query task.")
    score: float | None = Field(None, description="Learned policy only: predicted success of using this case.")
    utility: float | None = Field(
        None, description="Learned policy with utilities only: running mean reward of the tasks that used this case."
    )


class RetrievedCases(BaseModel):
    """Cases to plan with, split as Memento's planner uses them."""

    task: str = Field(description="The query task.")
    policy: Policy = Field(description="How the cases were selected.")
    positive: list[RetrievedCase] = Field(description="Cases that went well (reward >= threshold): imitate them.")
    negative: list[RetrievedCase] = Field(description="Cases that went badly: avoid their mistakes.")
    reward_threshold: float = Field(description="The reward separating positive from negative cases.")

    @property
    def ids(self) -> list[str]:
        return [case.id for case in [*self.positive, *self.negative]]


class WriteReport(BaseModel):
    """What a write stored."""

    cases: list[Case] = Field(description="The stored cases, in the order given (already stored ones as they were).")
    created: list[str] = Field(description="Ids newly stored by this write (a retried id is not listed again).")
    transitions: int = Field(description="(task, retrieved case, reward) transitions recorded for the learned policy.")


class Transition(BaseModel):
    """A (task, retrieved case, reward) experience the learned scorer trains on; `from_case` is the
    case written for the task (its provenance: the cases it retrieved)."""

    task: str
    case_id: str
    reward: float = Field(ge=0, le=1)
    run_id: str = ""
    from_case: str = ""


class CaseUse(Transition):
    """One retrieval of a case: the task that retrieved it, the reward that task got, its run, the case
    written for the task (`from_case`) and when it was recorded."""

    created_at: datetime = Field(description="When the transition was recorded (UTC).")


class CaseProvenance(BaseModel):
    """The tasks that retrieved one case, newest first: the learning transitions of the case."""

    case_id: str
    total: int = Field(description="How many recorded tasks retrieved the case (all, not just those returned).")
    uses: list[CaseUse] = Field(description="The latest of them, newest first, at most `limit`.")


class GateState(BaseModel):
    """Whether the learned policy may reorder similarity's shortlist, and the evidence."""

    open: bool = Field(description="True: the learned scorer ranks the cases; false: similarity's order stands.")
    tasks: int = Field(description="Held-out tasks (scored before training on them) in the comparison window.")
    loss_learned: float | None = Field(None, description="Mean log-loss of the learned scorer on them.")
    loss_prior: float | None = Field(None, description="Mean log-loss of the similarity prior on them.")
    reason: str = Field(description="Why the gate is open or closed.")


class ScorerState(BaseModel):
    """Where the learned policy's training stands."""

    trained_steps: int = Field(description="Gradient steps taken so far (all processes, as checkpointed).")
    transitions: int = Field(description="(task, case, reward) transitions recorded in the bank.")
    last_loss: float | None = Field(None, description="Loss of the latest training step.")
    checkpoint: str | None = Field(None, description="Where the scorer's checkpoint lives, if saved.")
    gate: GateState = Field(description="Whether the learned scorer currently beats similarity on held-out transitions.")


class BankStats(BaseModel):
    """Counts and configuration of a case bank."""

    cases: int = Field(description="All cases, trusted and quarantined.")
    trusted: int
    quarantined: int
    positive: int = Field(description="Trusted cases with reward >= the threshold.")
    negative: int
    database: str = Field(description="LanceDB URI of the bank.")
    embedding_model: str
    embedding_dim: int
    index: str = Field(description="'exact' or 'ivf (n lists)': how similarity search runs now.")
    scorer: ScorerState
