"""plot_decision_boundary: the PNG it writes, the grid it evaluates, and its errors."""

from __future__ import annotations

import sys

import pytest

from autograd import no_grad
from nn import MLP
from nn.data import make_moons, make_spirals
from nn.plot import _grid_scores, plot_decision_boundary

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_plot_writes_png_and_returns_axes_with_title_and_classes(tmp_path):
    X, y = make_moons(n=40, seed=0)
    path = tmp_path / "b.png"
    ax = plot_decision_boundary(MLP(2, [4, 1], seed=0), X, y, path, resolution=30, title="moons")
    assert path.read_bytes().startswith(PNG_MAGIC)
    assert ax.get_title() == "moons"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["class 0", "class 1"]
    low, high = ax.get_xlim()
    assert low < min(x[0] for x in X) and max(x[0] for x in X) < high


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("nouts", [[5, 1], [5, 3]])
def test_plot_grid_scores_equal_the_models_forward(nouts, compiled):
    model = MLP(2, nouts, seed=1)
    xs, ys = [-1.0, 0.0, 0.5, 2.0], [-0.5, 0.25, 1.0]
    with no_grad():  # a user's no_grad does not stop the compiled trace
        scores = _grid_scores(model, xs, ys, compiled=compiled)
    for row, y in zip(scores, ys, strict=True):
        for score, x in zip(row, xs, strict=True):
            output = model([x, y])
            expected = [o.data for o in output] if isinstance(output, list) else output.data
            assert score == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_plot_multiclass_onto_given_axes_writes_nothing(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    monkeypatch.chdir(tmp_path)
    X, y = make_spirals(n=30, classes=3, seed=0)
    ax = Figure().add_subplot()
    assert plot_decision_boundary(MLP(2, [4, 3], seed=0), X, y, ax=ax, resolution=20) is ax
    assert len(ax.get_legend().get_texts()) == 3
    assert list(tmp_path.iterdir()) == []


def test_plot_refuses_inputs_that_are_not_2d():
    with pytest.raises(ValueError, match=r"needs 2-D inputs; X has \[3\] columns"):
        plot_decision_boundary(MLP(3, [1]), [[1, 2, 3], [4, 5, 6]], [0, 1])


def test_plot_without_matplotlib_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # import fails
    with pytest.raises(ImportError, match="pip install matplotlib"):
        plot_decision_boundary(MLP(2, [1]), [[0, 0], [1, 1]], [0, 1], "never.png")
