"""The fake OpenAI server speaks the real wire protocol: the openai SDK reads it like the real thing."""

from __future__ import annotations

import httpx
import openai
import pytest
from openai import AsyncOpenAI

from tests.fakes.openai_server import error_reply, text_reply, tool_call_reply

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(fake_openai):
    async with AsyncOpenAI(base_url=fake_openai.url, api_key="test", max_retries=0) as sdk:
        yield sdk


async def test_non_streaming_tool_calls_are_parsed_by_the_sdk(fake_openai, client):
    fake_openai.enqueue(tool_call_reply(("search", {"query": "x"}), ("add", '{"a": 1}')))
    response = await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    choice = response.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert [(c.function.name, c.function.arguments) for c in choice.message.tool_calls] == [
        ("search", '{"query": "x"}'),
        ("add", '{"a": 1}'),
    ]
    assert response.usage.total_tokens > 0
    assert fake_openai.requests[0].body["messages"][0]["content"] == "hi"


async def test_streaming_chunks_reassemble_content_and_tool_calls(fake_openai, client):
    fake_openai.enqueue(text_reply("A fairly long streamed answer."), tool_call_reply(("search", {"query": "long query text"})))
    stream = await client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}], stream=True, stream_options={"include_usage": True}
    )
    parts, usage = [], None
    async for chunk in stream:
        if chunk.choices:
            parts.append(chunk.choices[0].delta.content or "")
        usage = chunk.usage or usage
    assert "".join(parts) == "A fairly long streamed answer."
    assert usage is not None and usage.completion_tokens > 0

    stream = await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}], stream=True)
    arguments, name, finish = "", None, None
    async for chunk in stream:
        delta = chunk.choices[0].delta
        for call in delta.tool_calls or []:
            name = call.function.name or name
            arguments += call.function.arguments or ""
        finish = chunk.choices[0].finish_reason or finish
    assert (name, arguments, finish) == ("search", '{"query": "long query text"}', "tool_calls")


async def test_raw_stream_ends_with_done(fake_openai, client):
    fake_openai.enqueue(text_reply("hi"))
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{fake_openai.url}/chat/completions", json={"model": "m", "messages": [], "stream": True})
    events = [line for line in response.text.split("\n\n") if line]
    assert response.headers["content-type"].startswith("text/event-stream")
    assert events[-1] == "data: [DONE]"
    assert all(e.startswith("data: ") for e in events)


async def test_scripted_errors_and_retry_after(fake_openai, client):
    fake_openai.enqueue(error_reply(429, "slow down", retry_after=2), error_reply(500))
    with pytest.raises(openai.RateLimitError) as caught:
        await client.chat.completions.create(model="m", messages=[])
    assert caught.value.response.headers["retry-after"] == "2"
    with pytest.raises(openai.InternalServerError):
        await client.chat.completions.create(model="m", messages=[])


async def test_models_and_an_unscripted_request(fake_openai, client):
    assert [m.id async for m in client.models.list()] == ["fake-model"]
    with pytest.raises(openai.InternalServerError, match="no scripted reply"):
        await client.chat.completions.create(model="m", messages=[])


async def test_responder_answers_from_the_request(fake_openai, client):
    fake_openai.responder = lambda request: text_reply(request.messages[-1]["content"].upper())
    response = await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "echo"}])
    assert response.choices[0].message.content == "ECHO"
