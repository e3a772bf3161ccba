"""Every server, over both transports and both protocol eras, behaves as an MCP server should."""

from __future__ import annotations

import pytest

from tests.harness import SERVERS, connect, error_text, payload

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("server", SERVERS)
async def test_server_lists_annotated_typed_tools_and_reports_errors(server, transport, mode):
    async with connect(server, transport, mode=mode) as client:
        first = (await client.list_tools()).tools
        second = (await client.list_tools()).tools
        assert [t.name for t in first] == [t.name for t in second], "tool order must be stable"
        for tool in first:
            assert tool.title, f"{tool.name} has no title"
            assert tool.description and len(tool.description) > 20, f"{tool.name} needs a description for a model"
            hints = tool.annotations
            assert hints is not None, f"{tool.name} has no annotations"
            for hint in ("read_only_hint", "destructive_hint", "idempotent_hint", "open_world_hint"):
                assert getattr(hints, hint) is not None, f"{tool.name} leaves {hint} unset"
            assert tool.output_schema, f"{tool.name} has no outputSchema"

        info = payload(await client.call_tool("server_info", {}))
        assert info["name"] == f"memento-{server}"
        assert info["settings"]["transport"] == transport

        missing = await client.call_tool("no_such_tool", {})
        assert "no_such_tool" in error_text(missing)
