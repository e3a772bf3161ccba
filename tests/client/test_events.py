"""Trajectory events: saved as dicts, rebuilt for `memento show`, rendered for the live view."""

from __future__ import annotations

import json

from memento_client.loop import events

SAMPLES = [
    events.TaskStarted(task="What is 2+2?", task_id="q1", tools=3, memory="similarity", t=0.1),
    events.CasesRetrieved(ids=["a", "b"], positive=["a"], t=0.2),
    events.SubtaskStarted(id=1, description="add the numbers", t=0.3),
    events.ToolCalled(subtask=1, name="code__run_python", arguments={"code": "2+2"}, ok=True, seconds=0.05,
                      restarted=False, output="4", t=0.4),
    events.SubtaskFinished(id=1, result="4", steps=1, stop="answered", t=0.5),
    events.Answered(answer="4", stop_reason="answered", t=0.6),
    events.Rewarded(reward=1.0, metrics={"em": 1.0, "f1": 1.0}, t=0.7),
]


def test_every_event_survives_a_round_trip_through_json_and_renders():
    for event in SAMPLES:
        saved = json.loads(json.dumps(event.as_dict()))
        assert saved["kind"] == event.kind and saved["t"] == event.t
        rebuilt = events.from_dict(saved)
        assert rebuilt == event
        assert rebuilt.render() is None or f"{event.t:7.2f}s" in rebuilt.render()


def test_an_unknown_kind_or_an_incomplete_event_is_skipped_not_fatal():
    assert events.from_dict({"kind": "from_a_future_version", "t": 1.0}) is None
    assert events.from_dict({"kind": "task", "t": 1.0, "task": "only the task"}) is None
    assert events.from_dict({"t": 1.0}) is None
