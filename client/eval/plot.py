"""The learning curve (learning_curve.png): score per iteration, a colour per run and a line style and
marker per metric (EM solid dots, F1 dashed hollow squares, PM dotted triangles, a benchmark's ACC
dash-dotted diamonds). EM is drawn on top
and F1's larger hollow squares frame its dots, so both show where EM equals F1. The legend sits right
of the axes and the image is cut to fit everything."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# metric: (line style, marker, marker size, marker fill, line width, z-order)
STYLES = {
    "em": ("-", "o", 5, "full", 2.0, 4),
    "f1": ("--", "s", 9, "none", 1.5, 3),
    "pm": (":", "^", 7, "full", 1.5, 2),
    "acc": ("-.", "D", 6, "full", 2.0, 5),
}
COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:cyan")


def figure(runs: dict[str, list[dict[str, Any]]], title: str) -> Figure:
    """The curve of each run (label: its iteration summaries), the first being the run reported on; a
    one-iteration run beside a longer one is a flat line across it, marked only where it starts."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # imported when drawing: it takes a while
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    drawing = Figure(figsize=(7, 4))
    FigureCanvasAgg(drawing)
    axes = drawing.subplots()
    span = [s["iteration"] for s in next(iter(runs.values()), [])] or [1]
    for n, (label, series) in enumerate(runs.items()):
        iterations = [s["iteration"] for s in series]
        for metric, (style, marker, size, fill, width, order) in STYLES.items():
            values = [s["overall"].get(metric) for s in series]
            if not values or any(v is None for v in values):
                continue
            xs, marked = iterations, None
            if len(values) == 1 and n > 0 and len(set(span)) > 1:
                xs, values, marked = [min(span), max(span)], values * 2, [0]
            axes.plot(
                xs, values, linestyle=style, marker=marker, markersize=size, fillstyle=fill, linewidth=width, zorder=order,
                markevery=marked, color=COLOURS[n % len(COLOURS)], label=f"{metric.upper()} · {label}",
            )  # fmt: skip
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("iteration")
    axes.set_ylabel("score")
    axes.set_ylim(-0.02, 1.02)
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, fontsize="small")
    return drawing


def plot(runs: dict[str, list[dict[str, Any]]], path: Path, title: str) -> None:
    figure(runs, title).savefig(path, dpi=100, bbox_inches="tight")
