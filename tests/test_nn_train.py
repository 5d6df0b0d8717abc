"""fit: accuracy on moons, a hand-written loop as reference, minibatches, progress, callback."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

from autograd import Value
from nn import MLP, fit
from nn.data import make_moons, make_spirals, make_xor
from nn.optim import SGD, Adam
from tests.helpers import require

# The documented settings (see fit's docstring): reach >= 95% on moons in a couple of seconds.
MOONS_SETTINGS = {"loss": "hinge", "epochs": 20, "batch_size": 20}
MOONS_LR = 0.05


def _accuracy_by_sign(model, X, y):
    return sum((model(x).data > 0) == (label == 1) for x, label in zip(X, y, strict=True)) / len(y)


def test_fit_reaches_95_percent_on_moons_with_documented_settings():
    X, y = make_moons(n=100, noise=0.1, seed=0)
    model = MLP(2, [16, 16, 1], seed=0)
    optimizer = Adam(model.parameters(), lr=MOONS_LR)
    history = fit(model, X, y, optimizer=optimizer, progress=False, **MOONS_SETTINGS)
    assert _accuracy_by_sign(model, X, y) >= 0.95
    assert len(history["loss"]) == len(history["accuracy"]) == MOONS_SETTINGS["epochs"]
    assert history["loss"][-1] < history["loss"][0]
    assert all(0.0 <= a <= 1.0 for a in history["accuracy"])


def test_fit_full_batch_equals_hand_written_sgd_loop():
    X, y = make_moons(n=30, noise=0.1, seed=1)
    model, reference = MLP(2, [5, 1], seed=2), MLP(2, [5, 1], seed=2)
    history = fit(model, X, y, optimizer=SGD(model.parameters(), lr=0.1), epochs=3, progress=False)

    losses = []
    params = reference.parameters()
    for _ in range(3):
        scores = [reference(x) for x in X]
        terms = [(1 - (2 * label - 1) * s).relu() for s, label in zip(scores, y, strict=True)]
        loss = sum(terms, Value(0.0)) * (1 / len(X))
        for p in params:
            p.grad = 0.0
        loss.backward()
        for p in params:
            p.data -= 0.1 * p.grad
        losses.append(loss.data)
    assert history["loss"] == pytest.approx(losses, rel=1e-12)
    for ours, theirs in zip(model.parameters(), params, strict=True):
        assert ours.data == pytest.approx(theirs.data, rel=1e-12, abs=1e-15)


def _torch_loss_and_accuracy(loss, outputs, y):
    torch = require("torch")
    F = torch.nn.functional
    z = torch.tensor(outputs, dtype=torch.float64)
    if loss == "hinge":
        signs = torch.tensor([2 * label - 1 for label in y], dtype=torch.float64)
        return torch.relu(1 - signs * z).mean().item(), ((z > 0) == (signs > 0)).double().mean()
    if loss == "bce":
        labels = torch.tensor(y, dtype=torch.float64)
        value = F.binary_cross_entropy_with_logits(z, labels).item()
        return value, ((z > 0) == (labels > 0.5)).double().mean()
    if loss == "mse":
        labels = torch.tensor(y, dtype=torch.float64)
        return F.mse_loss(z, labels).item(), ((z > 0.5) == (labels > 0.5)).double().mean()
    classes = torch.tensor(y)
    return F.cross_entropy(z, classes).item(), (z.argmax(dim=1) == classes).double().mean()


@pytest.mark.parametrize("loss", ["hinge", "bce", "mse", "cross_entropy"])
def test_fit_history_is_loss_and_accuracy_of_the_epoch(loss):
    if loss == "cross_entropy":
        X, y = make_spirals(n=30, classes=3, seed=0)
        model = MLP(2, [8, 3], seed=1)
    else:
        X, y = make_xor(n=40, noise=0.3, seed=0)
        model = MLP(2, [8, 1], seed=1)
    outputs = [model(x) for x in X]
    outputs = [o.data if isinstance(o, Value) else [v.data for v in o] for o in outputs]
    # lr=0: the model does not move, so the epoch's numbers describe these outputs.
    history = fit(
        model, X, y, loss=loss, optimizer=SGD(model.parameters(), lr=0.0), epochs=1, progress=False
    )
    expected_loss, expected_accuracy = _torch_loss_and_accuracy(loss, outputs, y)
    assert history["loss"][0] == pytest.approx(expected_loss, rel=1e-12)
    assert history["accuracy"][0] == pytest.approx(float(expected_accuracy), rel=1e-12)


def test_fit_minibatches_step_once_per_batch_and_callback_sees_history():
    class CountingSGD(SGD):
        steps_taken = 0

        def step(self):
            CountingSGD.steps_taken += 1
            super().step()

    X, y = make_moons(n=20, seed=0)
    model = MLP(2, [4, 1], seed=0)
    seen = []
    fit(
        model,
        X,
        y,
        optimizer=CountingSGD(model.parameters(), lr=0.1),
        epochs=4,
        batch_size=7,
        progress=False,
        callback=lambda epoch, history: seen.append((epoch, len(history["loss"]))),
    )
    assert CountingSGD.steps_taken == 4 * 3  # batches of 7, 7, 6
    assert seen == [(0, 1), (1, 2), (2, 3), (3, 4)]


def test_fit_minibatch_order_is_seeded():
    X, y = make_moons(n=20, seed=0)
    runs = []
    for seed in (5, 5, 6):
        model = MLP(2, [4, 1], seed=0)
        fit(model, X, y, epochs=2, batch_size=4, progress=False, seed=seed)
        runs.append(model.state_dict())
    assert runs[0] == runs[1] != runs[2]


def test_fit_shows_progress_bar_unless_disabled(capsys):
    X, y = make_moons(n=10, seed=0)
    fit(MLP(2, [3, 1], seed=0), X, y, epochs=3, progress=True)
    assert "3/3" in capsys.readouterr().err
    fit(MLP(2, [3, 1], seed=0), X, y, epochs=3, progress=False)
    assert capsys.readouterr().err == ""


def test_fit_progress_bar_shows_a_huge_loss_in_a_few_digits(capsys):
    # "{:.4f}" printed a loss of 1e300 as 301 digits
    X = [[0.5, -0.5], [-0.5, 0.5]]
    history = fit(MLP(2, [3, 1], seed=0), X, [1e150, -1e150], loss="mse", epochs=1)
    shown = re.findall(r"loss=(\S+)", capsys.readouterr().err)
    assert shown and all(len(figure) <= 10 for figure in shown), shown
    assert float(shown[-1]) == pytest.approx(history["loss"][-1], rel=1e-3)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"loss": "l1"}, "unknown loss 'l1'"),
        ({"epochs": -1}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
    ],
)
def test_fit_bad_arguments_raise_value_error(kwargs, message):
    X, y = make_moons(n=10, seed=0)
    with pytest.raises(ValueError, match=message):
        fit(MLP(2, [3, 1], seed=0), X, y, progress=False, **kwargs)


@pytest.mark.parametrize("batch_size", [True, 2.0, "4"])
def test_fit_batch_size_of_the_wrong_type_raises_type_error(batch_size):
    X, y = make_moons(n=10, seed=0)
    with pytest.raises(TypeError, match="batch_size"):
        fit(MLP(2, [3, 1], seed=0), X, y, progress=False, batch_size=batch_size)


def test_fit_mismatched_lengths_raise_value_error():
    X, y = make_moons(n=10, seed=0)
    with pytest.raises(ValueError, match="10 X, 9 y"):
        fit(MLP(2, [3, 1], seed=0), X, y[:9], progress=False)


def test_fit_progress_bar_without_tqdm_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # makes the import fail
    X, y = make_moons(n=10, seed=0)
    with pytest.raises(ImportError, match="pip install tqdm"):
        fit(MLP(2, [3, 1], seed=0), X, y, epochs=1, progress=True)


def test_nn_import_pulls_in_no_third_party_module():
    code = "import json, sys, nn, nn.optim, nn.data; print(json.dumps(list(sys.modules)))"
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    top_level = {name.split(".")[0] for name in json.loads(result.stdout)}
    assert not {"torch", "tqdm", "matplotlib", "numpy"} & top_level


@pytest.mark.parametrize(("loss", "labels"), [("mse", [0.25, -1.5, 2.0]), ("bce", [0.2, 0.9, 0.5])])
def test_fit_accuracy_is_nan_where_targets_are_not_classes(loss, labels, capsys):
    X = [[0.1, 0.2], [0.3, -0.1], [0.5, 0.5]]
    history = fit(MLP(2, [3, 1], seed=0), X, labels, loss=loss, epochs=2)
    assert len(history["accuracy"]) == 2
    assert all(math.isnan(accuracy) for accuracy in history["accuracy"])
    assert "acc=" not in capsys.readouterr().err


def test_fit_progress_bar_says_its_figures_are_epoch_means(capsys):
    X, y = make_moons(n=10, seed=0)
    fit(MLP(2, [3, 1], seed=0), X, y, epochs=2)
    assert re.search(r"epoch mean loss=\d\.\d{4} acc=\d\.\d{3}", capsys.readouterr().err)
