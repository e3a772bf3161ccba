"""The eval workers spread over a real two-node Ray cluster on loopback, and run tasks on both nodes."""

from __future__ import annotations

import sys

import anyio
import pytest

from memento_client.config import ClientConfig
from memento_client.eval.ray_fanout import ray_agent
from memento_client.mcp.config import ServerEntry
from tests.client.conftest import REPO
from tests.client.scripted import AgentScript

ray = pytest.importorskip("ray", reason="Ray is missing: pip install -e '.[scale]'")


@pytest.fixture
def two_nodes():
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, logging_level="warning")
    yield
    ray.shutdown()
    cluster.shutdown()


def test_one_worker_per_node_and_tasks_answered_on_both(two_nodes, tmp_path, fake_openai):
    fake_openai.responder = AgentScript(answers={"first?": "one", "second?": "two"}, tool=("toy__echo", {"text": "x"}))
    config = ClientConfig(model="fake-model", base_url=fake_openai.url, api_key="test", memory="off", retries=1)
    toy = ServerEntry("toy", command=sys.executable, args=("-m", "tests.client.toy_server"), cwd=str(REPO))

    async def main() -> list[str]:
        async with ray_agent(config, [toy], tmp_path / "run", concurrency=2) as agent:
            assert len(agent.workers) == 2 and len(set(agent.nodes)) == 2  # SPREAD: one actor per node
            answers = [await agent.run(question) for question in ("first?", "second?")]  # in turn: both workers
            return [result.answer for result in answers]

    assert anyio.run(main) == ["one", "two"]
