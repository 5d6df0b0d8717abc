"""`fit(compiled=True)` against eager training, and the compiled batch loss against `batch_loss`."""

from __future__ import annotations

import random

import pytest

from nn import MLP, fit
from nn.data import make_moons, make_spirals
from nn.optim import SGD, Adam
from nn.train import CompiledBatchLoss, batch_loss, count_correct, targets_for

# loss -> (data set, classes the model outputs: 1 is a scalar output)
SETTINGS = {
    "hinge": (make_moons(n=30, noise=0.1, seed=0), 1),
    "bce": (make_moons(n=30, noise=0.1, seed=1), 1),
    "mse": (make_moons(n=30, noise=0.1, seed=2), 1),
    "mse_one_hot": (make_spirals(n=30, classes=3, seed=0), 3),
    "cross_entropy": (make_spirals(n=30, classes=3, seed=0), 3),
}


def data_for(setting: str):
    """(X, y, loss name, outputs): mse_one_hot is mse against one-hot target lists."""
    (X, y), outputs = SETTINGS[setting]
    if setting == "mse_one_hot":
        return X, [[float(label == c) for c in range(3)] for label in y], "mse", outputs
    return X, y, setting, outputs


def train(setting: str, compiled: bool, batch_size, epochs: int = 4):
    X, y, loss, outputs = data_for(setting)
    model = MLP(2, [6, 5, outputs], seed=3)
    optimizer = Adam(model.parameters(), lr=0.05)
    history = fit(
        model, X, y, loss, optimizer, epochs=epochs, batch_size=batch_size,
        progress=False, compiled=compiled, seed=7,
    )  # fmt: skip
    return [p.data for p in model.parameters()], history


@pytest.mark.parametrize("batch_size", [None, 8], ids=["full batch", "minibatches 8+8+8+6"])
@pytest.mark.parametrize("setting", list(SETTINGS))
def test_fit_compiled_gives_the_eager_weights_and_history(setting, batch_size):
    eager_weights, eager_history = train(setting, compiled=False, batch_size=batch_size)
    compiled_weights, compiled_history = train(setting, compiled=True, batch_size=batch_size)
    assert compiled_weights == pytest.approx(eager_weights, rel=1e-9, abs=1e-12)
    assert compiled_history["loss"] == pytest.approx(eager_history["loss"], rel=1e-9)
    assert compiled_history["accuracy"] == eager_history["accuracy"]
    assert eager_history["loss"][-1] < eager_history["loss"][0]  # it did train


@pytest.mark.parametrize("setting", list(SETTINGS))
def test_compiled_batch_loss_on_labels_other_than_the_traced_ones(setting):
    """Traced on one batch, run on others with different labels: the eager loss and grads."""
    X, y, loss, outputs = data_for(setting)
    targets = targets_for(loss, y)
    model = MLP(2, [5, outputs], seed=4)
    compiled = CompiledBatchLoss(model, X[:6], loss)
    rng = random.Random(0)
    for _ in range(4):
        batch = rng.sample(range(len(X)), 6)
        batch_X, batch_y = [X[i] for i in batch], [targets[i] for i in batch]
        eager, eager_outputs = batch_loss(model, batch_X, batch_y, loss)
        model.zero_grad()
        eager.backward()
        eager_grads = [p.grad for p in model.parameters()]
        model.zero_grad()
        value, outputs = compiled(batch_X, batch_y)
        assert value == pytest.approx(eager.data, rel=1e-12)
        assert [p.grad for p in model.parameters()] == pytest.approx(eager_grads, rel=1e-12)
        expected = (
            [o.data for o in eager_outputs]
            if outputs and not isinstance(outputs[0], list)
            else [[o.data for o in output] for output in eager_outputs]
        )
        assert outputs == expected


def test_compiled_cross_entropy_shifts_by_each_batch_largest_logit():
    """Logits near 1000 in one batch, near 0 in the traced one: nothing overflows."""
    model = MLP(1, [3], seed=0)  # linear: logits scale with the input
    traced = [[0.001], [0.002]]
    compiled = CompiledBatchLoss(model, traced, "cross_entropy")
    big = [[1000.0 / max(abs(p.data) for p in model.parameters())], [-3.0]]
    eager, _ = batch_loss(model, big, [2, 0], "cross_entropy")
    model.zero_grad()
    eager.backward()
    eager_grads = [p.grad for p in model.parameters()]
    model.zero_grad()
    value, outputs = compiled(big, [2, 0])
    assert max(abs(z) for z in outputs[0]) > 500
    assert value == pytest.approx(eager.data, rel=1e-12)
    assert [p.grad for p in model.parameters()] == pytest.approx(eager_grads, rel=1e-12)


@pytest.mark.parametrize(("one_by_one", "compiled_sizes"), [(2000, [1, 10, 5]), (0, [10, 5])])
def test_fit_compiled_with_sgd_and_a_smaller_last_batch_compiles_each_size_once(
    monkeypatch, one_by_one, compiled_sizes
):
    """The first epoch (up to ONE_BY_ONE_SAMPLES samples) runs one sample's graph (size 1) per
    sample; later batches a graph per batch size, each compiled once."""
    import nn.train

    sizes = []
    original = nn.train.CompiledBatchLoss.__init__

    def counting(self, model, X, loss):
        sizes.append(len(X))
        original(self, model, X, loss)

    monkeypatch.setattr(nn.train.CompiledBatchLoss, "__init__", counting)
    monkeypatch.setattr(nn.train, "ONE_BY_ONE_SAMPLES", one_by_one)
    X, y = make_moons(n=25, seed=0)
    model = MLP(2, [4, 1], seed=0)
    fit(model, X, y, "hinge", SGD(model.parameters(), lr=0.1), epochs=3, batch_size=10,
        progress=False, compiled=True)  # fmt: skip
    assert sizes == compiled_sizes


@pytest.mark.parametrize(
    ("loss", "labels", "outputs", "message"),
    [
        ("hinge", [0, 2], 1, "hinge_loss label"),
        ("bce", [0, 3], 1, "binary_cross_entropy label"),
        ("cross_entropy", [0, 3], 3, "cross_entropy class index"),
    ],
)
def test_fit_compiled_rejects_bad_labels_like_eager(loss, labels, outputs, message):
    X = [[0.0, 1.0], [1.0, 0.0]]
    for compiled in (False, True):
        model = MLP(2, [3, outputs], seed=0)
        with pytest.raises(ValueError, match=message):
            fit(model, X, labels, loss, epochs=1, progress=False, compiled=compiled)


def test_count_correct_takes_floats_as_well_as_values():
    model = MLP(2, [3, 3], seed=0)
    X, y = [[0.5, -1.0], [2.0, 1.0]], [0, 2]
    _, outputs = batch_loss(model, X, y, "cross_entropy")
    floats = [[o.data for o in output] for output in outputs]
    assert count_correct(floats, y, "cross_entropy") == count_correct(outputs, y, "cross_entropy")
    assert count_correct([0.3, -0.2], [1, -1], "hinge") == 2
    assert count_correct([0.3, -0.2], [1, 1], "bce") == 1


def test_fit_compiled_trains_a_model_that_ignores_an_input_feature():
    """Inputs are compiled as no_grad data: one the model never reads is not in the graph."""
    from autograd import Value
    from nn import Module

    class FirstFeature(Module):
        def __init__(self):
            self.w, self.b = Value(0.5), Value(0.0)

        def tensors(self):
            return {"w": self.w, "b": self.b}

        def forward(self, x):
            return self.w * x[0] + self.b

    X, y = [[1.0, 9.0], [2.0, 9.0], [-1.0, 9.0], [-2.0, 9.0]], [1, 1, -1, -1]
    histories = []
    for compiled in (False, True):
        model = FirstFeature()
        histories.append(fit(model, X, y, "hinge", SGD(model.parameters(), lr=0.1), epochs=3,
                             progress=False, compiled=compiled))  # fmt: skip
    assert histories[1]["loss"] == pytest.approx(histories[0]["loss"], rel=1e-12)
