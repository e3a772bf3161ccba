"""The memento-search MCP server: tool declarations only (the work is in chain.py, local.py, engines.py)."""


import argparse
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Literal

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from memento_servers.runtime import Command, ServerSpec, annotations, main_for, new_server
from memento_servers.search.config import SearchSettings
from memento_servers.search.errors import IndexingError, InvalidSearch
from memento_servers.search.models import SearchResponse, StatusResponse
from memento_servers.search.service import build_service

INSTRUCTIONS = (
    "Search the web and the user's own indexed documents with `search`; results carry title, url, snippet "
    "and the backend that found them. Backends and their order are fixed by the operator; `search_status` "
    "shows them and their health."
)


def build_server(settings: SearchSettings) -> MCPServer:
    service, client = build_service(settings)
    configured = Literal[tuple(settings.backends)]  # the schema lists only configured backends

    @asynccontextmanager
    async def lifespan(_server: MCPServer) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await client.aclose()

    server = new_server("search", instructions=INSTRUCTIONS, lifespan=lifespan)

    @server.tool(title="Search", annotations=annotations(read_only=True, open_world=True))
    async def search(
        query: Annotated[str, Field(description="What to look for, in plain words (keywords or a question).")],
        max_results: Annotated[int, Field(description="How many results to return.", ge=1, le=50)] = 10,
        backend: Annotated[
            configured | None,  # type: ignore[valid-type]
            Field(description="Use only this configured backend (no failover); omit to use the fallback chain."),
        ] = None,
    ) -> SearchResponse:
        """Search the web and the local document corpus for pages or passages about `query`.

        Use it first to find sources; read a promising hit in full with a crawl or document tool.
        Returns up to `max_results` results (title, url, snippet, source backend, score; local hits
        also carry the document `id`), de-duplicated by URL, plus `backend_used` and `warnings`
        (a backend that failed and was skipped, e.g. no internet). Backends are tried in the
        configured order; local-corpus snippets are cut at a configured length. For different
        results, rephrase the query or raise `max_results`.
        """
        text = " ".join(query.split())
        if not text:
            raise InvalidSearch("query is empty: pass the words to search for")
        if len(text) > settings.max_query_chars:
            raise InvalidSearch(f"query is {len(text)} characters; shorten it to at most {settings.max_query_chars}")
        return await service.search(text, max_results, backend)

    @server.tool(title="Search status", annotations=annotations(read_only=True, open_world=False))
    def search_status() -> StatusResponse:
        """Show the configured search backends in chain order, their health and rate-limit state.

        Use it when `search` returns warnings or nothing, to see which backend failed and why,
        whether one is cooling down after a rate limit, and how large the local corpus is.
        """
        return service.status()

    return server


def _add_quiet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", action="store_true", help="No progress bar.")


def _add_index_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="Folders, files or .jsonl files to index.")
    _add_quiet(parser)
    parser.add_argument(
        "--bm25-only",
        action="store_true",
        help="Return once the text is searchable with BM25; the server (or the next index run) computes the vectors.",
    )


def _run_index(settings: SearchSettings, args: argparse.Namespace) -> int:
    from memento_servers.search.indexer import index_paths

    try:
        report = index_paths(args.paths, settings, progress=not args.quiet, backfill=not args.bm25_only)
    except IndexingError as exc:
        print(f"memento-search index: {exc}", file=sys.stderr)
        return 2
    for error in report.errors:
        print(f"memento-search index: skipped {error}", file=sys.stderr)
    print(json.dumps(report.model_dump()))
    return 1 if report.files_failed and report.files_failed == report.files_seen else 0  # partial success is success


def _run_reindex(settings: SearchSettings, args: argparse.Namespace) -> int:
    from memento_servers.search.indexer import reindex

    try:
        report = reindex(settings, progress=not args.quiet)
    except IndexingError as exc:
        print(f"memento-search reindex: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report.model_dump()))
    return 0


SPEC = ServerSpec(
    name="search",
    summary="Web and local-corpus search.",
    settings=SearchSettings,
    build=build_server,
    default_port=8711,
    commands=(
        Command(
            name="index",
            help="Index folders of text/markdown/HTML/PDF files or JSONL into the local corpus (incremental).",
            add_arguments=_add_index_arguments,
            run=_run_index,
        ),
        Command(
            name="reindex",
            help="Re-embed the whole corpus with the configured --embedding-model/--embedding-backend (one command).",
            add_arguments=_add_quiet,
            run=_run_reindex,
        ),
    ),
)
main = main_for(SPEC)
