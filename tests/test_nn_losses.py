"""Losses, softmax and log_softmax: values and gradients against PyTorch float64."""

from __future__ import annotations

import math
import random

import pytest

from autograd import Value
from nn import (
    binary_cross_entropy,
    cross_entropy,
    hinge_loss,
    log_softmax,
    mse_loss,
    softmax,
)
from tests.helpers import require

torch = require("torch")
F = torch.nn.functional

RNG = random.Random(0)
SCORES = [RNG.uniform(-3, 3) for _ in range(8)]
EXTREME = [1000.0, -1000.0, 999.0, -0.5, 0.0, -1000.0, 1000.0, 2.0]
SIGNS = [1, -1, -1, 1, 1, -1, 1, -1]
BITS = [1, 0, 0, 1, 1, 0, 1, 0]
TARGETS = [RNG.uniform(-2, 2) for _ in range(8)]
ROWS = [[RNG.uniform(-4, 4) for _ in range(3)] for _ in range(4)]
EXTREME_ROWS = [[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0], [5.0, 1000.0, 999.5]]
CLASSES = [2, 0, 1, 1]


def _flat(nested):
    return nested if not isinstance(nested[0], list) else [x for row in nested for x in row]


def _nest(values, like):
    if not isinstance(like[0], list):
        return values
    width = len(like[0])
    return [values[i : i + width] for i in range(0, len(values), width)]


# name -> (ours on nested lists of Values, torch on a float64 tensor of the same shape, inputs)
CASES = {
    "mse": (lambda z: mse_loss(z, TARGETS), lambda t: F.mse_loss(t, _t(TARGETS)), SCORES),
    "mse_nested": (
        lambda z: mse_loss(z, [[1.0, 0.0, -1.0]] * 4),
        lambda t: F.mse_loss(t, _t([[1.0, 0.0, -1.0]] * 4)),
        ROWS,
    ),
    "hinge": (
        lambda z: hinge_loss(z, SIGNS),
        lambda t: torch.relu(1 - _t(SIGNS) * t).mean(),
        SCORES,
    ),
    "hinge_extreme": (
        lambda z: hinge_loss(z, SIGNS),
        lambda t: torch.relu(1 - _t(SIGNS) * t).mean(),
        EXTREME,
    ),
    "bce": (
        lambda z: binary_cross_entropy(z, BITS),
        lambda t: F.binary_cross_entropy_with_logits(t, _t(BITS)),
        SCORES,
    ),
    "bce_extreme": (
        lambda z: binary_cross_entropy(z, BITS),
        lambda t: F.binary_cross_entropy_with_logits(t, _t(BITS)),
        EXTREME,
    ),
    "bce_soft_labels": (
        lambda z: binary_cross_entropy(z, [0.25] * 8),
        lambda t: F.binary_cross_entropy_with_logits(t, _t([0.25] * 8)),
        SCORES,
    ),
    "cross_entropy": (
        lambda z: cross_entropy(z, CLASSES),
        lambda t: F.cross_entropy(t, torch.tensor(CLASSES)),
        ROWS,
    ),
    "cross_entropy_extreme": (
        lambda z: cross_entropy(z, [0, 1, 2]),
        lambda t: F.cross_entropy(t, torch.tensor([0, 1, 2])),
        EXTREME_ROWS,
    ),
    "softmax": (softmax, lambda t: F.softmax(t, dim=0), SCORES),
    "softmax_extreme": (softmax, lambda t: F.softmax(t, dim=0), EXTREME),
    "log_softmax": (log_softmax, lambda t: F.log_softmax(t, dim=0), SCORES),
    "log_softmax_extreme": (log_softmax, lambda t: F.log_softmax(t, dim=0), EXTREME),
}


def _t(data):
    return torch.tensor(data, dtype=torch.float64)


@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_value_and_gradient_match_torch(name):
    ours_fn, torch_fn, data = CASES[name]
    leaves = [Value(x) for x in _flat(data)]
    out = ours_fn(_nest(leaves, data))
    tensor = _t(data).requires_grad_(True)
    expected = torch_fn(tensor)

    outputs = out if isinstance(out, list) else [out]
    # Weights make every output's gradient count, with a different weight for each.
    weights = [1.0 + 0.5 * i for i in range(len(outputs))]
    got = [o.data for o in outputs]
    assert all(math.isfinite(x) for x in got)
    assert got == pytest.approx(expected.flatten().tolist(), rel=1e-12, abs=1e-12)

    sum(w * o for w, o in zip(weights, outputs, strict=True)).backward()
    (expected.flatten() * _t(weights)).sum().backward()
    assert [v.grad for v in leaves] == pytest.approx(
        tensor.grad.flatten().tolist(), rel=1e-10, abs=1e-12
    )


def test_cross_entropy_single_unbatched_sample_matches_torch():
    logits = [Value(x) for x in ROWS[0]]
    expected = F.cross_entropy(_t(ROWS[0]), torch.tensor(2))
    assert cross_entropy(logits, 2).data == pytest.approx(expected.item(), rel=1e-12)


def test_loss_accepts_a_single_value_and_number():
    assert mse_loss(Value(3.0), 1.0).data == 4.0
    assert hinge_loss(Value(0.25), -1).data == 1.25


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: mse_loss([Value(1.0)] * 3, [1.0, 2.0]), "3 predictions but 2 targets"),
        (lambda: mse_loss([], []), "empty"),
        (lambda: mse_loss([[Value(1.0)] * 2], [[1.0]]), "2 outputs"),
        (lambda: hinge_loss([Value(1.0)] * 2, [1, 0]), "index 1 is 0; labels must be -1 or"),
        (lambda: hinge_loss([Value(1.0)], [True]), "labels must be -1 or"),
        (lambda: hinge_loss([Value(1.0)] * 2, [1]), "2 predictions but 1 targets"),
        (lambda: binary_cross_entropy([Value(1.0)] * 2, [1, 2]), "index 1 is 2.0"),
        (lambda: binary_cross_entropy([Value(1.0)], ["1"]), "must be a number"),
        (lambda: cross_entropy([[Value(1.0)] * 3], [3]), r"is 3; it must be an int in 0..2"),
        (lambda: cross_entropy([[Value(1.0)] * 3], [-1]), "must be an int in 0..2"),
        (lambda: cross_entropy([[Value(1.0)] * 3], [1.0]), "must be an int"),
        (lambda: cross_entropy([[Value(1.0)] * 3, [Value(1.0)] * 2], [0, 0]), "sample 1 has 2"),
        (lambda: cross_entropy([[Value(1.0)] * 3] * 2, [0]), "2 predictions but 1 targets"),
        (lambda: softmax([]), "empty"),
    ],
)
def test_loss_bad_labels_or_lengths_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_softmax_sums_to_one_and_accepts_numbers():
    probabilities = softmax([1.0, 2.0, 3.0])
    assert sum(p.data for p in probabilities) == pytest.approx(1.0, rel=1e-15)
    expected = math.exp(3) / (math.exp(1) + math.exp(2) + math.exp(3))
    assert probabilities[2].data == pytest.approx(expected, rel=1e-15)


def test_hinge_loss_array_labels_are_a_value_error():
    np = require("numpy")
    with pytest.raises(ValueError, match="hinge_loss label at index 0 must be a number"):
        hinge_loss([Value(1.0)], [np.array([1])])
    assert hinge_loss([Value(0.25)], [np.int64(-1)]).data == 1.25  # numpy numbers are numbers


@pytest.mark.parametrize(
    ("name", "labels", "accepted"),
    [
        ("hinge", [0, 1, 1], True),
        ("hinge", [-1, 1], True),
        ("hinge", [0, 2], False),
        ("bce", [0, 1], True),
        ("bce", [-1, 1], False),
        ("cross_entropy", [2, 0, 1], True),
        ("cross_entropy", [0, 2], False),  # class 1 missing: K would not be the class count
        ("cross_entropy", [0, 1.5], False),
        ("mse", [0.25, -3.0], True),
    ],
)
def test_loss_record_accepts_what_its_function_trains_on(name, labels, accepted):
    from nn.losses import LOSSES

    loss = LOSSES[name]
    assert loss.accepts(set(labels)) == accepted
    if not accepted:
        return
    targets = loss.to_targets(labels)
    classes = sorted(set(targets))
    if name == "cross_entropy":  # a large logit for the target class, one per class
        outputs = [
            [10.0 if k == t else -10.0 for k in range(loss.outputs(set(labels)))] for t in targets
        ]
        as_values = [[Value(z) for z in output] for output in outputs]
    else:  # a score on the target's side (hinge -1/+1, bce 0/1) or the target itself (mse)
        perfect = {"hinge": lambda t: 10.0 * t, "bce": lambda t: 20.0 * t - 10.0, "mse": float}
        outputs = [perfect[name](t) for t in targets]
        as_values = [Value(z) for z in outputs]
    assert loss.function(as_values, targets).data < 1e-3
    assert [loss.predict(output, classes) for output in outputs] == targets


@pytest.mark.parametrize(
    ("name", "labels"), [("hinge", {0, 1}), ("hinge", {-1, 1}), ("bce", {0, 1}), ("mse", {2, 5})]
)
def test_loss_record_threshold_is_where_its_prediction_changes_class(name, labels):
    from nn.losses import LOSSES

    loss = LOSSES[name]
    classes = sorted(set(loss.to_targets(sorted(labels))))
    threshold = loss.threshold(labels)
    below, above = loss.predict(threshold - 1e-9, classes), loss.predict(threshold + 1e-9, classes)
    assert [below, above] == classes


@pytest.mark.parametrize(("z", "label"), [(40.0, 1), (-40.0, 0), (700.0, 1), (35.5, 1), (-3.0, 1)])
def test_binary_cross_entropy_keeps_its_digits_for_confident_right_predictions(z, label):
    """-log sigmoid(z) = log1p(exp(-z)): 4.2e-18 at z = 40, not 0.0 (softplus(z) - z cancels)."""
    logit = Value(z)
    loss = binary_cross_entropy([logit], [label])
    loss.backward()
    margin = z if label == 1 else -z  # how confidently right the prediction is
    assert loss.data == pytest.approx(math.log1p(math.exp(-margin)), rel=1e-15, abs=0.0)
    # d/dz = sigmoid(z) - label = -sigmoid(-margin) for label 1, sigmoid(-margin) for label 0
    expected = 1.0 / (1.0 + math.exp(margin)) * (-1.0 if label == 1 else 1.0)
    assert logit.grad == pytest.approx(expected, rel=1e-12, abs=0.0)
