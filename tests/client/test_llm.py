"""The LLM layer against the fake endpoint: retries, parameter fallbacks, usage and cost."""

from __future__ import annotations

import pytest

from memento_client.config import ClientConfig
from memento_client.errors import LLMError
from memento_client.llm import LLM, Usage, uses_max_completion_tokens
from tests.client.conftest import make_config
from tests.fakes.openai_server import Reply, error_reply, text_reply

pytestmark = pytest.mark.anyio
USER = [{"role": "user", "content": "hi"}]
_open: list[LLM] = []


def _llm(config) -> LLM:
    _open.append(LLM(config))
    return _open[-1]


@pytest.fixture(autouse=True)
async def _close_clients():
    yield
    while _open:
        await _open.pop().aclose()


async def test_429_then_success_honours_retry_after(fake_openai):
    fake_openai.enqueue(error_reply(429, retry_after=0.05), error_reply(503, retry_after=0.01), text_reply("ok"))
    usage = Usage()
    reply = await _llm(make_config(fake_openai)).complete("planner", USER, usage=usage)
    assert reply.content == "ok"
    assert len(fake_openai.chat_requests) == 3
    assert usage.calls == 1


async def test_retries_run_out_into_a_clear_error(fake_openai):
    fake_openai.enqueue(*[error_reply(500, "boom", retry_after=0.01)] * 2)
    with pytest.raises(LLMError, match="after 2 attempts"):
        await _llm(make_config(fake_openai, retries=1)).complete("planner", USER, usage=Usage())


async def test_an_unreachable_endpoint_is_named_in_the_error():
    import socket

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = ClientConfig(model="fake-model", base_url=f"http://127.0.0.1:{port}/v1", api_key="test", retries=0)
    with pytest.raises(LLMError, match=f"fake-model at http://127.0.0.1:{port}/v1/: Connection error"):
        await _llm(config).complete("planner", USER, usage=Usage())


async def test_auth_errors_are_not_retried(fake_openai):
    fake_openai.enqueue(error_reply(401, "bad key"))
    with pytest.raises(LLMError, match="401"):
        await _llm(make_config(fake_openai)).complete("planner", USER, usage=Usage())
    assert len(fake_openai.chat_requests) == 1


async def test_token_parameter_follows_the_model_family():
    assert uses_max_completion_tokens("o3-mini") and uses_max_completion_tokens("gpt-5-mini")
    assert uses_max_completion_tokens("openai/o4-mini")
    assert not uses_max_completion_tokens("gpt-4o-mini") and not uses_max_completion_tokens("qwen2.5:7b")


async def test_rejected_token_parameter_switches_once_and_is_remembered(fake_openai):
    def responder(request):
        if "max_tokens" in request.body:
            return error_reply(400, "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.")
        return text_reply("ok")

    fake_openai.responder = responder
    llm = _llm(make_config(fake_openai, model="custom-reasoner"))
    assert (await llm.complete("planner", USER, usage=Usage())).content == "ok"
    assert (await llm.complete("planner", USER, usage=Usage())).content == "ok"
    sent = [("max_tokens" in r.body, "max_completion_tokens" in r.body) for r in fake_openai.chat_requests]
    assert sent == [(True, False), (False, True), (False, True)]


async def test_unsupported_json_schema_falls_back_to_plain_text(fake_openai):
    def responder(request):
        if "response_format" in request.body:
            return error_reply(400, "response_format json_schema is not supported")
        return text_reply('{"a": 1}')

    fake_openai.responder = responder
    llm = _llm(make_config(fake_openai))
    schema = {"name": "x", "schema": {"type": "object"}}
    assert (await llm.complete("planner", USER, usage=Usage(), json_schema=schema)).content == '{"a": 1}'
    await llm.complete("planner", USER, usage=Usage(), json_schema=schema)
    assert ["response_format" in r.body for r in fake_openai.chat_requests] == [True, False, False]


async def test_usage_and_cost_are_accounted_per_role(fake_openai):
    usage_reply = {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500}
    fake_openai.enqueue(Reply(content="a", usage=usage_reply), Reply(content="b", usage=usage_reply))
    llm = _llm(make_config(fake_openai, model="gpt-4o-mini", prices={"gpt-4o-mini": [1.0, 2.0]}))
    usage = Usage()
    await llm.complete("planner", USER, usage=usage)
    await llm.complete("executor", USER, usage=usage)
    assert usage.total_tokens == 3000
    assert usage.cost_usd == pytest.approx(2 * (1000 * 1.0 + 500 * 2.0) / 1e6)
    assert usage.by_role["planner"]["calls"] == 1 and usage.by_role["executor"]["prompt_tokens"] == 1000
    assert fake_openai.chat_requests[0].headers["authorization"] == "Bearer test"


async def test_unknown_models_count_calls_without_cost(fake_openai):
    fake_openai.enqueue(text_reply("a"))
    usage = Usage()
    await _llm(make_config(fake_openai, model="local-llama")).complete("planner", USER, usage=usage)
    assert usage.cost_usd == 0 and usage.unpriced_calls == 1


async def test_inline_reasoning_of_local_models_is_dropped(fake_openai):
    fake_openai.enqueue(text_reply('<think>maybe {"a": 1}?\nno.</think>\n{"final_answer": "x"}'))
    reply = await _llm(make_config(fake_openai)).complete("planner", USER, usage=Usage())
    assert reply.content == '{"final_answer": "x"}'


async def test_a_request_that_times_out_is_retried(fake_openai):
    fake_openai.enqueue(Reply(content="late", delay=2.0), text_reply("on time"))
    reply = await _llm(make_config(fake_openai, request_timeout_s=0.3)).complete("planner", USER, usage=Usage())
    assert reply.content == "on time" and len(fake_openai.chat_requests) == 2
