"""The tool contract of every server: tool names, parameter names, JSON types and which are required.

Hosts, prompts and the client call these by name; a rename or a type change breaks them, so
any change here must be deliberate. `?` marks an optional parameter.
"""

from __future__ import annotations

import pytest

from tests.harness import SERVERS, connect

pytestmark = pytest.mark.anyio

CONTRACT = {
    "search": {
        "search": {"query": "string", "max_results": "integer?", "backend": "string | null?"},
        "search_status": {},
        "server_info": {},
    },
    "crawl": {
        "fetch_page": {"url": "string", "max_chars": "integer | null?", "start_index": "integer?", "query": "string | null?", "render": "string?", "include_links": "boolean?", "respect_robots": "boolean | null?"},
        "crawl_site": {"url": "string", "max_pages": "integer?", "max_depth": "integer?", "same_domain": "boolean?", "include": "array[string] | null?", "exclude": "array[string] | null?", "render": "string?", "respect_robots": "boolean | null?"},
        "fetch_image": {"url": "string", "max_side": "integer | null?", "respect_robots": "boolean | null?"},
        "server_info": {},
    },
    "documents": {
        "read_document": {"source": "string", "pages": "string | null?", "max_chars": "integer | null?", "start_index": "integer?"},
        "document_info": {"source": "string"},
        "find_in_document": {"source": "string", "query": "string", "max_results": "integer?"},
        "render_page": {"source": "string", "page": "integer?", "dpi": "integer?"},
        "server_info": {},
    },
    "code": {
        "run_python": {"code": "string", "session_id": "string | null?", "timeout_s": "number | null?"},
        "run_shell": {"command": "string", "session_id": "string | null?", "timeout_s": "number | null?"},
        "write_file": {"path": "string", "content": "string", "session_id": "string | null?", "encoding": "string?", "append": "boolean?"},
        "read_file": {"path": "string", "session_id": "string", "offset": "integer?", "max_chars": "integer | null?", "encoding": "string?"},
        "list_files": {"session_id": "string", "path": "string?", "recursive": "boolean?"},
        "reset_session": {"session_id": "string", "clear_files": "boolean?"},
        "close_session": {"session_id": "string"},
        "list_sessions": {},
        "server_info": {},
    },
    "memory": {
        "retrieve_cases": {"task": "string", "k": "integer?", "policy": "string?", "tags": "array[string]?", "source": "string | null?", "min_reward": "number | null?", "include_quarantined": "boolean?", "exclude_same_task": "boolean?", "exclude_tags": "array[string]?", "temperature": "number?"},
        "write_case": {"task": "string", "reward": "number", "plan": "object?", "answer": "string | null?", "outcome": "string | null?", "summary": "string | null?", "retrieved_case_ids": "array[string]?", "source": "string | null?", "run_id": "string | null?", "tags": "array[string]?", "case_id": "string | null?"},
        "update_case": {"case_id": "string", "reward": "number | null?", "outcome": "string | null?", "plan": "object?", "answer": "string | null?", "summary": "string | null?", "tags": "array[string] | null?", "trust": "string | null?"},
        "delete_case": {"case_id": "string"},
        "get_case": {"case_id": "string"},
        "list_cases": {"offset": "integer?", "limit": "integer?", "tags": "array[string]?", "source": "string | null?", "min_reward": "number | null?", "trust": "string?"},
        "case_provenance": {"case_id": "string", "limit": "integer?"},
        "memory_stats": {},
        "server_info": {},
    },
}


def json_type(schema: dict) -> str:
    """A parameter's JSON type as one short string, e.g. `string | null` or `array[string]`."""
    if schema.get("type") == "array":
        return f"array[{json_type(schema.get('items', {}))}]"
    if "type" in schema:
        return schema["type"]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " | ".join(json_type(option) for option in schema[key])
    return "object" if "$ref" in schema else "any"


def signature(schema: dict) -> dict[str, str]:
    required = set(schema.get("required", []))
    return {name: json_type(s) + ("" if name in required else "?") for name, s in schema.get("properties", {}).items()}


def test_the_contract_covers_every_server():
    assert set(CONTRACT) == set(SERVERS)


@pytest.mark.parametrize("server", SERVERS)
async def test_tools_keep_their_names_parameters_and_types(server):
    async with connect(server, "stdio") as client:
        tools = (await client.list_tools()).tools
    assert {tool.name: signature(tool.input_schema) for tool in tools} == CONTRACT[server]
