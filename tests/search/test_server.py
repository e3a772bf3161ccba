"""memento-search over real MCP sessions (stdio and streamable HTTP): the local corpus end to end,
the default chain degrading offline, and web engines behind a fake."""

from __future__ import annotations

import anyio
import pytest

from tests.harness import connect, error_text, payload
from tests.search.fake_engines import KEY, SHARED_URL, engine_settings

pytestmark = pytest.mark.anyio
OFFLINE = {"DDGS_PROXY": "http://127.0.0.1:9"}  # ddgs's requests die on a closed local port: never the internet


async def test_default_chain_answers_from_the_local_corpus_with_a_warning_when_offline(
    transport, hotpot_index, hotpot_questions
):
    args = ["--index", str(hotpot_index), "--timeout-s", "3"]
    if transport == "http":  # BM25 only: spares this process the torch import; hybrid runs over stdio
        args += ["--local-mode", "fts"]
    with anyio.fail_after(240):
        async with connect("search", transport, args=args, env=OFFLINE) as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
            assert {"search", "search_status", "server_info"} <= tools
            question = hotpot_questions[0]
            data = payload(await client.call_tool("search", {"query": question["question"], "max_results": 5}))
            assert data["backend_used"] == ["local"]
            assert data["warnings"] and data["warnings"][0].startswith("duckduckgo:")
            ids = [result["id"] for result in data["results"]]
            assert set(question["gold_ids"]) & set(ids) and len(ids) == 5
            assert all(r["source"] == "local" and r["url"].startswith("local://") for r in data["results"])

            found = 0
            for item in hotpot_questions[1:8]:
                hits = payload(await client.call_tool("search", {"query": item["question"], "backend": "local"}))
                found += len(set(item["gold_ids"]) & {r["id"] for r in hits["results"]})
                assert hits["warnings"] == []
            assert found >= 12  # of 14 gold paragraphs in the top 10

            status = payload(await client.call_tool("search_status", {}))
            assert status["chain"] == ["duckduckgo", "local"]
            ddg, local = status["backends"]
            assert not ddg["healthy"] and ddg["last_error"] and ddg["tokens_available"] is not None
            assert local["healthy"] and "chunks" in local["detail"]

            refused = error_text(await client.call_tool("search", {"query": "x", "backend": "brave"}))
            assert "Input should be 'duckduckgo' or 'local'" in refused  # the schema lists configured backends only
            assert "query is empty" in error_text(await client.call_tool("search", {"query": "   "}))
            assert error_text(await client.call_tool("search", {"query": "x", "max_results": 0}))


async def test_web_engines_behind_a_fake_with_dedup_cache_and_no_key_leak(fake_engines, tmp_path):
    settings = engine_settings(fake_engines.url)
    args = ["--backend", "searxng", "--backend", "serper", "--backend", "brave", "--index", str(tmp_path / "none")]
    args += ["--searxng-url", settings["searxng_url"], "--serper-url", settings["serper_url"], "--brave-url", settings["brave_url"]]
    env = {"MEMENTO_SEARCH_SERPER_API_KEY": KEY, "MEMENTO_SEARCH_BRAVE_API_KEY": KEY, "MEMENTO_SEARCH_BACKOFF_S": "0.01"}
    with anyio.fail_after(120):
        async with connect("search", "stdio", args=args, env=env) as client:
            failover = payload(await client.call_tool("search", {"query": "down-searxng tides", "max_results": 4}))
            assert failover["backend_used"] == ["serper", "brave"] and len(failover["results"]) == 4
            assert failover["warnings"] == ["searxng: server error (HTTP 503); fell back to the next backend"]
            data = payload(await client.call_tool("search", {"query": "wind farms", "max_results": 5}))
            assert data["backend_used"] == ["searxng", "serper"] and not data["cached"]
            urls = [r["url"] for r in data["results"]]
            assert urls.count(SHARED_URL) == 1 and len(urls) == 5
            again = payload(await client.call_tool("search", {"query": "wind farms", "max_results": 5}))
            assert again["cached"] and again["results"] == data["results"]
            only = payload(await client.call_tool("search", {"query": "wind farms", "backend": "brave"}))
            assert {r["source"] for r in only["results"]} == {"brave"}
            failed = error_text(await client.call_tool("search", {"query": "malformed", "backend": "serper"}))
            assert "serper: the response is not JSON" in failed
            info = payload(await client.call_tool("server_info", {}))
            status = payload(await client.call_tool("search_status", {}))
            for text in (str(data), str(info), str(status), failed):
                assert KEY not in text
            assert info["settings"]["serper_api_key"] == "***"
