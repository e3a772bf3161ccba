"""Plan parsing and context trimming: pure functions."""

from __future__ import annotations

import json

import pytest

from memento_client.loop.context import trim_messages
from memento_client.loop.planner import extract_json, parse_turn
from tests.client.scripted import answer_json, plan_json


def test_plan_is_read_from_fenced_json_with_prose_around():
    text = "Here is my plan:\n```json\n" + plan_json("look up A", "look up B") + "\n```\nThanks"
    turn = parse_turn(text, final=False, max_subtasks=5)
    assert [s.description for s in turn.plan] == ["look up A", "look up B"] and turn.final_answer is None


def test_extra_subtasks_are_dropped_at_the_cap():
    turn = parse_turn(plan_json("a", "b", "c"), final=False, max_subtasks=2)
    assert [s.description for s in turn.plan] == ["a", "b"]


def test_an_answer_wins_over_a_plan():
    text = json.dumps({"thought": "", "plan": [{"id": 1, "description": "x"}], "final_answer": " 42 "})
    turn = parse_turn(text, final=False, max_subtasks=5)
    assert turn.final_answer == "42" and turn.plan == []


@pytest.mark.parametrize(
    ("text", "final", "problem"),
    [
        ("no json here", False, "no JSON object"),
        ('{"plan": "not a list"}', False, "does not match the schema"),
        ('{"plan": [], "final_answer": null}', False, "either a non-empty"),
        (plan_json("a"), True, "last cycle"),
        ("", False, "no JSON object"),
    ],
)
def test_invalid_turns_name_the_problem(text, final, problem):
    with pytest.raises(ValueError, match=problem):
        parse_turn(text, final=final, max_subtasks=5)


def test_on_the_last_cycle_a_prose_reply_is_the_answer_but_broken_json_is_not():
    assert parse_turn("Final answer: Canberra\n", final=True, max_subtasks=5).final_answer == "Canberra"
    assert parse_turn("The capital of Australia is Canberra.", final=True, max_subtasks=5).plan == []
    for not_an_answer in ('{"thought": "x", "final_answer": "Canb', "", "   "):
        with pytest.raises(ValueError, match="no JSON object"):
            parse_turn(not_an_answer, final=True, max_subtasks=5)


def test_extract_json_skips_braces_that_are_not_json():
    assert extract_json('set {x} then {"final_answer": "y"}') == {"final_answer": "y"}
    assert parse_turn(answer_json("y"), final=True, max_subtasks=1).final_answer == "y"


def _exchange(n: int, size: int) -> list[dict]:
    call = {"id": f"c{n}", "type": "function", "function": {"name": "t", "arguments": "{}"}}
    return [
        {"role": "assistant", "content": None, "tool_calls": [call, {**call, "id": f"d{n}"}]},
        {"role": "tool", "tool_call_id": f"c{n}", "content": "x" * size},
        {"role": "tool", "tool_call_id": f"d{n}", "content": "y" * size},
    ]


def test_trimming_keeps_head_and_latest_exchange_and_never_orphans_tool_replies():
    head = [{"role": "system", "content": "sys"}, {"role": "user", "content": "the task"}]
    messages = head + [m for n in range(6) for m in _exchange(n, 1000)]
    trimmed = trim_messages(messages, max_chars=4500)
    assert trimmed[:2] == head
    assert "removed to fit" in trimmed[2]["content"]
    assert trimmed[-3:] == messages[-3:]
    called = set()
    for message in trimmed:
        for call in message.get("tool_calls") or []:
            called.add(call["id"])
        if message["role"] == "tool":
            assert message["tool_call_id"] in called
    assert sum(len(str(m.get("content") or "")) for m in trimmed) <= 4500 + 200


def test_trimming_leaves_a_small_conversation_alone():
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": "t"}, *_exchange(0, 10)]
    assert trim_messages(messages, max_chars=10_000) is messages


def test_trimming_never_drops_the_last_exchange_even_when_it_alone_is_too_big():
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": "t"}, *_exchange(0, 10), *_exchange(1, 5000)]
    trimmed = trim_messages(messages, max_chars=100)
    assert trimmed[-3:] == messages[-3:] and trimmed[1]["content"] == "t"
