"""`plot_decision_boundary`: a 2-D classifier's regions and its data, with matplotlib.

matplotlib is imported only here, when a plot is asked for.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from autograd import Value, no_grad, set_grad_enabled
from autograd.compiler import compile as compile_graph
from nn.module import Module

# Class colours (matplotlib's tab10), and a light version of each for the regions.
CLASS_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
REGION_ALPHA = 0.25


def plot_decision_boundary(
    model: Module,
    X: Sequence[Sequence[float]],
    y: Sequence,
    path: str | os.PathLike | None = None,
    ax: Any = None,
    *,
    threshold: float = 0.0,
    resolution: int = 120,
    title: str | None = None,
    compiled: bool = True,
) -> Any:
    """Draw `model`'s decision regions over 2-D data (X, y); save to `path` if given; return ax.

    A model with one output predicts the larger class where its score is > `threshold` (0 for
    hinge and bce; the midpoint of the targets for mse); one with several outputs predicts the
    argmax. The score is evaluated on a `resolution` x `resolution` grid over the data.
    `compiled=True` traces the model once with `autograd.compile` (about 8x faster); pass False
    for a model whose Python control flow depends on its input. Without `ax` a new figure is
    made (shown inline in Jupyter when `path` is None); the figure is `ax.figure`.
    """
    X = [list(x) for x in X]
    if len(X) != len(y) or not X:
        raise ValueError(
            f"plot_decision_boundary needs one label per sample: {len(X)} X, {len(y)} y"
        )
    if any(len(x) != 2 for x in X):
        widths = sorted({len(x) for x in X})
        raise ValueError(
            f"plot_decision_boundary needs 2-D inputs; X has {widths} columns: "
            "plot a model of two features"
        )
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"resolution must be an int >= 2, got {resolution!r}")
    plt, figure_class = _matplotlib(interactive=path is None and ax is None)

    xs, ys = _axis(X, 0, resolution), _axis(X, 1, resolution)
    scores = _grid_scores(model, xs, ys, compiled)
    classes = sorted(set(y))
    if ax is None:
        figure = plt.figure(figsize=(6, 5)) if plt is not None else figure_class(figsize=(6, 5))
        ax = figure.add_subplot()
    if isinstance(scores[0][0], list):  # several outputs: argmax regions
        regions = [[max(range(len(s)), key=s.__getitem__) for s in row] for row in scores]
        levels = [k - 0.5 for k in range(len(scores[0][0]) + 1)]
        colors = [CLASS_COLORS[k % len(CLASS_COLORS)] for k in range(len(levels) - 1)]
        ax.contourf(xs, ys, regions, levels=levels, colors=colors, alpha=REGION_ALPHA)
        for k in range(len(colors)):  # class k's edge: where its score meets the best other's
            margin = [[s[k] - max(s[:k] + s[k + 1 :]) for s in row] for row in scores]
            if min(map(min, margin)) < 0 < max(map(max, margin)):
                ax.contour(xs, ys, margin, levels=[0.0], colors="#333333", linewidths=1.5)
    else:  # one output: shade the score's side of the threshold, draw the boundary line
        low, high = min(map(min, scores)), max(map(max, scores))
        colors = [CLASS_COLORS[0], CLASS_COLORS[1]]
        sides = [[1 if s > threshold else 0 for s in row] for row in scores]
        ax.contourf(xs, ys, sides, levels=[-0.5, 0.5, 1.5], colors=colors, alpha=REGION_ALPHA)
        if low < threshold < high:
            ax.contour(xs, ys, scores, levels=[threshold], colors="#333333", linewidths=1.5)
    for index, label in enumerate(classes):
        points = [x for x, label_x in zip(X, y, strict=True) if label_x == label]
        ax.scatter(
            [p[0] for p in points],
            [p[1] for p in points],
            s=28,
            color=CLASS_COLORS[index % len(CLASS_COLORS)],
            edgecolors="white",
            linewidths=0.6,
            label=f"class {label}",
            zorder=3,
        )
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.set_xlabel("x[0]")
    ax.set_ylabel("x[1]")
    ax.set_title(title if title is not None else f"decision boundary of {model!r}")
    ax.legend(loc="upper right", framealpha=0.9, fontsize="small")
    if path is not None:
        ax.figure.tight_layout()
        ax.figure.savefig(os.fspath(path), dpi=120)
    return ax


def _matplotlib(interactive: bool) -> tuple[Any, type]:
    """(pyplot or None, Figure): pyplot only for a figure to show; files need no backend."""
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            "plot_decision_boundary needs matplotlib: pip install matplotlib"
        ) from error
    if not interactive:
        return None, Figure  # a bare Figure saves through Agg and touches no global state
    import matplotlib.pyplot as plt

    return plt, Figure


def _axis(X: list[list[float]], column: int, resolution: int) -> list[float]:
    """`resolution` evenly spaced points over the data's range in `column`, plus a margin."""
    low = min(x[column] for x in X)
    high = max(x[column] for x in X)
    margin = 0.1 * (high - low) or 1.0
    low, high = low - margin, high + margin
    return [low + (high - low) * i / (resolution - 1) for i in range(resolution)]


def _grid_scores(model: Module, xs: list[float], ys: list[float], compiled: bool) -> list[list]:
    """The model's output (a float, or a list of floats) at each (x, y), as rows over ys."""
    if not compiled:
        with no_grad():
            return [[_floats(model([x, y])) for x in xs] for y in ys]
    inputs = [Value(xs[0]), Value(ys[0])]
    with set_grad_enabled(True):  # tracing needs the graph, even inside a user's no_grad
        output = model(inputs)
        outputs = output if isinstance(output, list) else [output]
        # One graph for all outputs, keeping each: the hidden layers run once per point.
        graph = compile_graph(sum(outputs[1:], outputs[0]), keep=outputs)
    rows = []
    for y in ys:
        inputs[1].data = y
        row = []
        for x in xs:
            inputs[0].data = x
            graph.forward()
            values = graph.kept_values()
            row.append(values if isinstance(output, list) else values[0])
        rows.append(row)
    return rows


def _floats(output: Value | list[Value]) -> float | list[float]:
    return [o.data for o in output] if isinstance(output, list) else output.data
