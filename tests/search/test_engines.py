"""Each web engine against the fake server that speaks its documented format."""

from __future__ import annotations

import logging

import pytest

from memento_servers.search.config import SearchSettings
from memento_servers.search.errors import InvalidSearch
from memento_servers.search.service import build_service
from tests.search.fake_engines import KEY, SHARED_URL, engine_settings

pytestmark = pytest.mark.anyio
WEB = ["searxng", "brave", "tavily", "serper"]
WRONG_KEY = "sk-wrong-key-0000"


def service_for(url: str, backends: list[str], **extra):
    settings = SearchSettings(backends=backends, backoff_s=0.01, retries=2, **{**engine_settings(url), **extra})
    service, _client = build_service(settings)
    return service


@pytest.mark.parametrize("engine", WEB)
async def test_engine_results_are_normalised(fake_engines, engine):
    response = await service_for(fake_engines.url, [engine]).search("solar panels", 10)
    assert response.backend_used == [engine] and response.warnings == []
    assert [r.url for r in response.results][0] == SHARED_URL
    first = response.results[0]
    assert first.source == engine and first.title == "Shared page about solar panels"
    assert first.snippet == "solar panels seen by every engine"  # markup stripped
    assert all(r.score > 0 and r.id is None for r in response.results)
    assert len(response.results) == 3


@pytest.mark.parametrize("engine", WEB)
async def test_engine_retries_after_429_then_succeeds(fake_engines, engine):
    response = await service_for(fake_engines.url, [engine]).search(f"fail429once {engine}", 5)
    assert response.warnings == [] and len(response.results) == 3
    assert fake_engines.seen[f"{engine}:fail429once {engine}"] == 2


@pytest.mark.parametrize("engine", WEB)
async def test_engine_server_errors_and_malformed_bodies_become_warnings(fake_engines, engine):
    service = service_for(fake_engines.url, [engine])
    broken = await service.search("fail500", 5)
    assert broken.results == [] and "HTTP 500" in broken.warnings[0]
    assert fake_engines.seen[f"{engine}:fail500"] == 3  # one try plus two retries
    malformed = await service.search("malformed", 5)
    assert malformed.results == [] and "not JSON" in malformed.warnings[0]


@pytest.mark.parametrize("engine", WEB)
async def test_engine_empty_results_are_not_an_error(fake_engines, engine):
    response = await service_for(fake_engines.url, [engine]).search("noresults here", 5)
    assert response.results == [] and response.warnings == [] and response.backend_used == []


@pytest.mark.parametrize("engine", ["brave", "tavily", "serper"])
async def test_keys_are_sent_but_never_leak_into_results_errors_or_logs(fake_engines, engine, caplog):
    caplog.set_level(logging.DEBUG)
    ok = await service_for(fake_engines.url, [engine]).search(f"key check {engine}", 5)
    sent = [r for r in fake_engines.requests if r["engine"] == engine and r["query"] == f"key check {engine}"]
    assert KEY in " ".join(sent[0]["headers"].values())
    wrong = service_for(fake_engines.url, [engine], **{f"{engine}_api_key": WRONG_KEY})
    refused = await wrong.search(f"bad key {engine}", 5)
    assert "HTTP 401" in refused.warnings[0]
    with pytest.raises(InvalidSearch) as error:
        await wrong.search(f"bad key again {engine}", 5, backend=engine)
    status = wrong.status().model_dump_json()
    for text in (ok.model_dump_json(), refused.model_dump_json(), str(error.value), status, caplog.text):
        assert KEY not in text and WRONG_KEY not in text


async def test_missing_key_is_reported_without_a_request(fake_engines):
    service = service_for(fake_engines.url, ["brave"], brave_api_key=None)
    response = await service.search("no key at all", 5)
    assert "no API key configured" in response.warnings[0]
    assert not [r for r in fake_engines.requests if r["query"] == "no key at all"]


async def test_duplicate_urls_across_engines_are_dropped_and_the_chain_fills_up(fake_engines):
    response = await service_for(fake_engines.url, ["searxng", "serper", "tavily"]).search("dedup me", 5)
    urls = [r.url for r in response.results]
    assert len(urls) == len(set(urls)) == 5 and urls.count(SHARED_URL) == 1
    assert response.backend_used == ["searxng", "serper"]  # tavily never needed


async def test_web_results_are_cached_on_disk(fake_engines):
    first = await service_for(fake_engines.url, ["serper"]).search("cache me", 5)
    again = await service_for(fake_engines.url, ["serper"]).search("cache  ME", 5)  # a new service: disk cache
    assert not first.cached and again.cached and again.results == first.results
    assert fake_engines.seen["serper:cache me"] == 1
