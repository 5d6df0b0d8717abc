"""Draw the README's pictures into docs/: `PYTHONPATH=. python docs/make_pictures.py`."""

from __future__ import annotations

from pathlib import Path

from autograd import Value, render_svg
from nn import MLP, mse_loss
from nn.seed_example import build_seed_network

DOCS = Path(__file__).resolve().parent


def mlp_loss(hidden: list[int]) -> Value:
    """An MLP 2-hidden-1 on one point (x1, x2) with its squared error, after backward()."""
    model = MLP(2, [*hidden, 1], seed=0)
    loss = mse_loss([model([Value(0.5, label="x1"), Value(-1.0, label="x2")])], [1.0])
    loss.label = "loss"
    loss.backward()
    return loss


def main() -> None:
    """The seed 2-2-1 network, an MLP 2-4-4-1 grouped by neuron, an MLP 2-16-16-1 collapsed."""
    _, seed_loss = build_seed_network()
    seed_loss.backward()
    render_svg(seed_loss, DOCS / "seed_graph.svg", rankdir="TB")
    render_svg(mlp_loss([4, 4]), DOCS / "mlp_grouped.svg", rankdir="TB")
    render_svg(mlp_loss([16, 16]), DOCS / "mlp_collapsed.svg", collapse=2)


if __name__ == "__main__":
    main()
