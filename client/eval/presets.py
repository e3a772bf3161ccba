"""`memento eval --preset paper`: the paper's protocol for a benchmark, recorded in the run's config.json.

As we read the paper (Memento, arXiv 2508.16153): K = 4 retrieved cases; GAIA validation reported as
pass@3 (3 independent attempts per task); the DeepResearcher-style QA sets run for 5 iterations of
continual learning (the case bank carried over, a question may meet its own earlier cases); PM judged
by an LLM where the paper reports PM (QA sets, SimpleQA, HLE, visual QA). Flags given explicitly win.
"""

from __future__ import annotations

from typing import Any

from memento_client.config import ClientConfig
from memento_core.errors import ConfigError

_COMMON = {"cases_k": 4, "same_task_cases": "allowed"}
PAPER: dict[str, dict[str, Any]] = {
    "qa": {**_COMMON, "iterations": 5, "attempts": 1, "judge": True},
    "gaia": {**_COMMON, "iterations": 1, "attempts": 3, "judge": False},
    "hle": {**_COMMON, "iterations": 1, "attempts": 1, "judge": True},
    "gpqa": {**_COMMON, "iterations": 1, "attempts": 1, "judge": False},
    "mmlu-pro": {**_COMMON, "iterations": 1, "attempts": 1, "judge": False},
    "aime": {**_COMMON, "iterations": 1, "attempts": 1, "judge": False},
    "vqa": {**_COMMON, "iterations": 1, "attempts": 1, "judge": True},
}
PRESETS = {"paper": PAPER}


def protocol(preset: str, benchmark: str, config: ClientConfig) -> dict[str, Any]:
    """The preset's settings for `benchmark`; a one-line error when it needs a judge and none is configured."""
    settings = PRESETS[preset][benchmark]
    if settings["judge"] and config.model_for("judge") is None:
        raise ConfigError(f"--preset {preset} scores {benchmark} with a judge model (PM): pass --judge-model or set judge_model")
    return settings
