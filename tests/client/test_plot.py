"""The learning curve: a colour per run, a style per metric, EM visible where it equals F1, and the legend
outside the axes but inside the saved image."""

from __future__ import annotations

import struct

from memento_client.eval.plot import figure, plot


def _series(*scores: tuple[float, float, float | None]) -> list[dict]:
    return [
        {"iteration": n, "overall": {"em": em, "f1": f1, **({"pm": pm} if pm is not None else {})}}
        for n, (em, f1, pm) in enumerate(scores, 1)
    ]


RUNS = {
    "learned, memory learned (temperature 0.2)": _series((0.4, 0.4, 0.5), (0.5, 0.6, 0.6), (0.6, 0.6, 0.7)),  # EM = F1 twice
    "off, memory off": _series((0.3, 0.45, None)),  # one iteration: flat across
    "similarity, memory similarity": _series((0.35, 0.5, None), (0.4, 0.55, None), (0.45, 0.6, None)),
}


def test_each_run_has_a_colour_each_metric_a_style_and_em_is_drawn_over_f1():
    drawing = figure(RUNS, "memento eval learned")
    lines = {line.get_label(): line for line in drawing.axes[0].get_lines()}
    assert len(lines) == 3 + 2 + 2
    for run in RUNS:
        colours = {lines[name].get_color() for name in lines if name.endswith(run)}
        assert len(colours) == 1
    assert len({line.get_color() for line in lines.values()}) == 3
    for metric, style, marker in [("EM", "-", "o"), ("F1", "--", "s"), ("PM", ":", "^")]:
        drawn = [line for name, line in lines.items() if name.startswith(metric + " ")]
        assert drawn and {(line.get_linestyle(), line.get_marker()) for line in drawn} == {(style, marker)}
    em, f1 = lines["EM · " + next(iter(RUNS))], lines["F1 · " + next(iter(RUNS))]
    assert em.get_zorder() > f1.get_zorder() and f1.get_fillstyle() == "none" and f1.get_markersize() > em.get_markersize()
    flat = lines["EM · off, memory off"]
    assert list(flat.get_xdata()) == [1, 3] and list(flat.get_ydata()) == [0.3, 0.3]


def test_the_legend_is_right_of_the_axes_and_inside_the_saved_image(tmp_path):
    drawing = figure(RUNS, "memento eval learned")
    drawing.canvas.draw()
    renderer = drawing.canvas.get_renderer()
    axes = drawing.axes[0]
    legend = axes.get_legend().get_window_extent(renderer)
    assert legend.x0 >= axes.get_window_extent(renderer).x1  # nothing of the data area is covered
    tight = drawing.get_tightbbox(renderer)  # what bbox_inches="tight" saves, in inches
    inches = legend.transformed(drawing.dpi_scale_trans.inverted())
    assert tight.x0 <= inches.x0 and inches.x1 <= tight.x1 and tight.y0 <= inches.y0 and inches.y1 <= tight.y1

    path = tmp_path / "curve.png"
    plot(RUNS, path, "memento eval learned")
    png = path.read_bytes()
    width, height = struct.unpack(">II", png[16:24])
    assert png[:4] == b"\x89PNG" and abs(width - tight.width * 100) < 25 and abs(height - tight.height * 100) < 25
