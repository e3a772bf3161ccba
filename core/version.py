"""The installed memento distribution: its name, its version, and whether an extra's requirements are installed."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, distribution, version

from packaging.requirements import Requirement

DISTRIBUTION = "memento-agent"  # on the package index; `memento-mcp` there is an unrelated project


def package_version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0+unknown"


def missing_requirements(extra: str) -> list[str]:
    """The distributions `DISTRIBUTION[extra]` needs that are not installed (with the extras it pulls in);
    empty when all are, or when memento itself is not installed (a source tree: nothing to check against)."""
    try:
        declared = [Requirement(line) for line in distribution(DISTRIBUTION).requires or []]
    except PackageNotFoundError:
        return []
    wanted, seen, missing = [extra], set(), []
    while wanted:
        current = wanted.pop()
        seen.add(current)
        for requirement in declared:
            if requirement.marker is None or not requirement.marker.evaluate({"extra": current}):
                continue
            if requirement.marker.evaluate({"extra": ""}):
                continue  # a base requirement whose marker is about the platform, not an extra
            if requirement.name == DISTRIBUTION:
                wanted += [e for e in requirement.extras if e not in seen]
                continue
            try:
                distribution(requirement.name)
            except PackageNotFoundError:
                missing.append(requirement.name)
    return sorted(set(missing))


def extra_advice(program: str, extra: str) -> str | None:
    """One line saying which extra `program` needs and how to install it, or None when it is installed."""
    missing = missing_requirements(extra)
    if not missing:
        return None
    return f"{program} needs the [{extra}] extra ({', '.join(missing)} not installed): pip install '{DISTRIBUTION}[{extra}]'"
