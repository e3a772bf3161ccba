"""`memento eval --ray [ADDRESS]`: the run's tasks fanned out over Ray actors, results streamed into one run folder.

Each actor (`EvalWorker`) holds its own agent and MCP servers, started once from the driver's mcp.json
entries and model settings, and runs its share of the tasks concurrently (a vision task's images go
along). The driver runs `run_eval` itself: each result line is written as it comes back, exactly as in
a local run, so a Ray run resumes a local one (and the reverse) and its metrics and report are the
same; the driver's own MCP servers serve the case-bank calls the runner makes (benchmark rewards,
memory_stats). Attachments are staged on the driver's disk: tasks with files need a single machine.

The case bank is shared only if every actor reaches the same one: on one machine the default
memory server's local bank already is (processes share it safely); across machines give the
memory server an object-store bank (`--db s3://...`) or point mcp.json at one memory server over
HTTP. Ray is imported only here, so it is needed only when `--ray` is asked for (extra `[scale]`).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from memento_client.config import ClientConfig
from memento_client.eval.runner import EvalPlan, Progress, run_eval
from memento_client.llm import current_task_images, task_images
from memento_client.loop.agent import AgentResult
from memento_client.mcp.config import ServerEntry
from memento_client.mcp.host import Host
from memento_client.session import agent_session, tool_session
from memento_core.errors import ConfigError

log = logging.getLogger(__name__)


class EvalWorker:
    """One agent with its MCP servers in a Ray actor; `run` is `Agent.run`, many at once.

    The agent session lives in one task of the actor's event loop from the first call to `close`
    (its MCP clients must be entered and left in the same task)."""

    def __init__(self, config: ClientConfig, entries: list[ServerEntry], run_id: str, log_dir: str):
        self.session = partial(agent_session, config, entries=entries, run_id=run_id, log_dir=Path(log_dir))
        self.closing = asyncio.Event()
        self.agent: asyncio.Future | None = None
        self.holder: asyncio.Task | None = None

    async def _hold(self) -> None:
        try:
            async with self.session() as agent:
                self.agent.set_result(agent)
                await self.closing.wait()
        except BaseException as exc:
            if not self.agent.done():
                self.agent.set_exception(exc)
            raise

    async def _agent(self):
        if self.agent is None:  # no await before the task exists: concurrent first calls share it
            self.agent = asyncio.get_running_loop().create_future()
            self.holder = asyncio.create_task(self._hold())
        return await asyncio.shield(self.agent)

    async def run(self, question: str, kwargs: dict[str, Any], images: tuple[str, ...] = ()) -> AgentResult:
        agent = await self._agent()
        with task_images(images):
            return await agent.run(question, **kwargs)

    def node(self) -> str:
        import ray

        return ray.get_runtime_context().get_node_id()

    async def close(self) -> None:
        self.closing.set()
        if self.holder is not None:
            await asyncio.gather(self.holder, return_exceptions=True)


@dataclass
class RayAgent:
    """What `run_eval` needs of an agent: `run`, dispatched to the actors in turn, and the driver's own
    `host` for the case-bank calls the runner makes itself (benchmark rewards, memory_stats)."""

    workers: list[Any]
    config: ClientConfig
    host: Host
    nodes: list[str]  # the Ray node of each worker
    turn: int = 0

    async def run(self, question: str, **kwargs: Any) -> AgentResult:
        from ray.exceptions import RayTaskError

        worker = self.workers[self.turn % len(self.workers)]
        self.turn += 1
        try:
            return await worker.run.remote(question, kwargs, current_task_images())
        except RayTaskError as error:  # the task's own exception, recorded as a local run would
            raise (error.cause if isinstance(error.cause, Exception) else error) from None


def _portable(config: ClientConfig) -> ClientConfig:
    """The config with the endpoint and key a remote worker cannot read from the driver's environment."""
    key = config.resolved_api_key()
    return config.model_copy(update={"base_url": config.resolved_base_url(), "api_key": SecretStr(key) if key else None})


@asynccontextmanager
async def ray_agent(
    config: ClientConfig, entries: list[ServerEntry], out: Path, concurrency: int, address: str | None = None
) -> AsyncIterator[RayAgent]:
    """Actors for `concurrency` tasks at once (at most one per CPU), a local Ray started if none runs."""
    try:
        import ray
    except ImportError as exc:
        raise ConfigError("--ray needs Ray: pip install 'memento-mcp[scale]'") from exc
    config.require_models()
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, include_dashboard=False, logging_level="warning", configure_logging=False)
    actors: list[Any] = []
    try:
        count = max(1, min(concurrency, int(ray.cluster_resources().get("CPU", 1))))
        remote = ray.remote(num_cpus=1, max_concurrency=math.ceil(concurrency / count), scheduling_strategy="SPREAD")
        portable = _portable(config)
        worker = remote(EvalWorker)
        actors = [worker.remote(portable, entries, out.name, str(out / "logs" / f"worker-{n}")) for n in range(count)]
        nodes = list(await asyncio.gather(*(actor.node.remote() for actor in actors)))
        log.info("Ray: %d workers on %d node(s)", len(actors), len(set(nodes)))
        async with tool_session(config, entries=entries, log_dir=out / "logs" / "driver") as host:
            yield RayAgent(actors, config, host, nodes)
    finally:
        for actor in actors:
            try:
                await actor.close.remote()  # the MCP servers end cleanly, not by a killed actor
            finally:
                ray.kill(actor)
        if started:
            ray.shutdown()


async def run_eval_on_ray(
    config: ClientConfig, entries: list[ServerEntry], plan: EvalPlan, address: str | None, progress: Progress | None = None
) -> None:
    """`run_eval` with the tasks fanned out on Ray (a local Ray started for the run when `address` is None)."""
    async with ray_agent(config, entries, plan.out, plan.concurrency, address) as agent:
        await run_eval(agent, plan, progress)  # type: ignore[arg-type]
