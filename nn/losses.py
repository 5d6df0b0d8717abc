"""Losses and softmax, built from engine ops only: their gradients come from the engine.

Each loss is the mean over samples, with PyTorch's definition; predictions are Values, targets
plain numbers. `LOSSES` holds one `Loss` record per loss for `fit` and the command line.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from autograd import Value


def _as_list(predictions, what: str) -> list:
    single = isinstance(predictions, (Value, numbers.Real))
    items = [predictions] if single else list(predictions)
    if not items:
        raise ValueError(f"{what} is empty; a loss needs at least one sample")
    return items


def _check_lengths(predictions: list, targets: list, what: str) -> None:
    if len(predictions) != len(targets):
        raise ValueError(
            f"{what}: {len(predictions)} predictions but {len(targets)} targets; "
            "pass one target per prediction"
        )


def _real(number, what: str, index: int) -> float:
    if isinstance(number, bool) or not isinstance(number, numbers.Real):
        raise ValueError(f"{what} at index {index} must be a number, got {number!r:.40}")
    return float(number)


def mean(terms: list[Value]) -> Value:
    """The mean of a non-empty list of Values, as one graph: (t0 + t1 + ...) / n."""
    return sum(terms[1:], terms[0]) / len(terms)


def mse_loss(preds, targets: Sequence) -> Value:
    """Mean of (pred - target)**2 over all entries; per-sample lists of outputs are allowed."""
    preds = _as_list(preds, "mse_loss predictions")
    targets = _as_list(targets, "mse_loss targets")
    _check_lengths(preds, targets, "mse_loss")
    what = "mse_loss target"
    differences = []
    for index, (p, t) in enumerate(zip(preds, targets, strict=True)):
        if isinstance(p, (Value, numbers.Real)):
            differences.append(_value(p, "mse_loss prediction", index) - _real(t, what, index))
            continue
        p = _as_values(p, "mse_loss prediction")
        if not isinstance(t, Sequence) or isinstance(t, str) or len(p) != len(t):
            raise ValueError(
                f"mse_loss sample {index} has {len(p)} outputs; its target must be a list of "
                f"as many numbers, got {t!r:.40}"
            )
        differences.extend(pi - _real(ti, what, index) for pi, ti in zip(p, t, strict=True))
    return mean([d * d for d in differences])


def hinge_loss(scores, labels: Sequence) -> Value:
    """Mean of max(0, 1 - y * s) for labels y in {-1, +1}."""
    scores = _as_values(scores, "hinge_loss scores")
    labels = _as_list(labels, "hinge_loss labels")
    _check_lengths(scores, labels, "hinge_loss")
    terms = []
    for index, (s, y) in enumerate(zip(scores, labels, strict=True)):
        # A number first (an array would compare elementwise), and not a bool.
        if isinstance(y, bool) or (sign := _real(y, "hinge_loss label", index)) not in (-1, 1):
            raise ValueError(
                f"hinge_loss label at index {index} is {y!r}; labels must be -1 or +1 "
                "(map 0/1 labels with 2 * y - 1)"
            )
        terms.append((1.0 - sign * s).relu())
    return mean(terms)


def binary_cross_entropy(logits, labels: Sequence) -> Value:
    """Mean binary cross-entropy from logits (torch's BCEWithLogitsLoss); labels in [0, 1]."""
    logits = _as_values(logits, "binary_cross_entropy logits")
    labels = _as_list(labels, "binary_cross_entropy labels")
    _check_lengths(logits, labels, "binary_cross_entropy")
    terms = []
    for index, (z, y) in enumerate(zip(logits, labels, strict=True)):
        y = _real(y, "binary_cross_entropy label", index)
        if not 0.0 <= y <= 1.0:
            raise ValueError(
                f"binary_cross_entropy label at index {index} is {y!r}; labels must be 0 or 1 "
                "(or a probability in between)"
            )
        # NOTE: -[y log sigmoid(z) + (1-y) log(1 - sigmoid(z))] is (1-y) softplus(z) plus
        # y softplus(-z), two terms >= 0, so nothing cancels: softplus(z) - y z, the same number,
        # loses all its digits when y = 1 and z is large (z = 40: 0.0 for 4.2e-18). softplus
        # never overflows, so logits of +-1000 are fine.
        if y == 0.0:
            terms.append(z.softplus())
        elif y == 1.0:
            terms.append((-z).softplus())
        else:
            terms.append((1.0 - y) * z.softplus() + y * (-z).softplus())
    return mean(terms)


def log_sum_exp(logits: list[Value], shift: float | Value | None = None) -> Value:
    """log(sum(e**z)), computed as log(sum(e**(z - shift))) + shift; shift: the largest logit.

    `shift` may be given (a Value leaf, when the graph is compiled and reused, see nn.train).
    """
    # NOTE: subtracting the largest logit (a constant, taken from data) keeps every exp <= 1
    # and the sum >= 1, so nothing overflows and the log is always defined.
    if shift is None:
        shift = max(z.data for z in logits)
    exps = [(z - shift).exp() for z in logits]
    return sum(exps[1:], exps[0]).log() + shift


def _value(z, what: str, index: int) -> Value:
    # Plain numbers are accepted as constant predictions, so a loss can be evaluated on data.
    return z if isinstance(z, Value) else Value(_real(z, what, index))


def _as_values(predictions, what: str) -> list[Value]:
    return [_value(z, what, index) for index, z in enumerate(_as_list(predictions, what))]


def softmax(logits: Sequence) -> list[Value]:
    """exp(z_i) / sum_j exp(z_j), computed with the largest logit subtracted."""
    logits = _as_values(logits, "softmax input")
    shift = max(z.data for z in logits)
    exps = [(z - shift).exp() for z in logits]
    total = sum(exps[1:], exps[0])
    return [e / total for e in exps]


def log_softmax(logits: Sequence) -> list[Value]:
    """z_i - log(sum_j exp(z_j)), stable for any finite logits."""
    logits = _as_values(logits, "log_softmax input")
    log_total = log_sum_exp(logits)
    return [z - log_total for z in logits]


def cross_entropy(logits_per_sample: Sequence, class_indices: Sequence[int]) -> Value:
    """Mean of -log softmax(logits)[class] over samples (torch's cross_entropy).

    `logits_per_sample` is a list of per-sample logit lists (or one sample's logits), and
    `class_indices` one int in 0..classes-1 per sample.
    """
    samples = _as_list(logits_per_sample, "cross_entropy logits")
    if isinstance(samples[0], (Value, numbers.Real)):  # one unbatched sample, as torch allows
        samples = [samples]
    class_indices = _as_list(class_indices, "cross_entropy class indices")
    _check_lengths(samples, class_indices, "cross_entropy")
    classes = None
    terms = []
    for index, (logits, c) in enumerate(zip(samples, class_indices, strict=True)):
        logits = _as_values(logits, f"cross_entropy logits of sample {index}")
        if classes is None:
            classes = len(logits)
        if len(logits) != classes:
            raise ValueError(
                f"cross_entropy sample {index} has {len(logits)} logits, sample 0 has {classes}"
            )
        if isinstance(c, bool) or not isinstance(c, numbers.Integral) or not 0 <= c < classes:
            raise ValueError(
                f"cross_entropy class index at sample {index} is {c!r}; "
                f"it must be an int in 0..{classes - 1}"
            )
        terms.append(log_sum_exp(logits) - logits[c])
    return mean(terms)


def _nearest(output: Any, classes: Sequence) -> Any:
    """The class (a target: a number or a list of them) closest to `output` in squared distance.

    For one-hot targets this is the argmax of the outputs.
    """
    # NOTE: d * d, not d ** 2: float ** raises OverflowError where * gives inf.
    if isinstance(output, list):
        return min(
            classes,
            key=lambda c: sum((o - t) * (o - t) for o, t in zip(output, c, strict=True)),
        )
    return min(classes, key=lambda c: abs(output - c))


def _argmax(scores: list[float]) -> int:
    return max(range(len(scores)), key=scores.__getitem__)


@dataclass(frozen=True)
class Loss:
    """One loss as `fit` and the command line use it: its function, labels and predictions.

    `accepts(labels)` says whether a data set's distinct labels suit the loss (and a model built
    for them); `to_targets` maps labels to the targets `function` takes; `predict(output,
    classes)` reads a model output (floats) as a predicted target, `classes` being the distinct
    targets; `outputs(labels)` is how many outputs a model needs for those labels, and
    `threshold(labels)` the score where a one-output model's prediction changes class.
    """

    name: str
    function: Callable[[Sequence, Sequence], Value]
    labels: str  # the labels it takes, in words, for error messages
    accepts: Callable[[set], bool]
    to_targets: Callable[[Sequence], list]
    predict: Callable[[Any, Sequence], Any]
    outputs: Callable[[set], int] = lambda labels: 1
    threshold: Callable[[set], float] = lambda labels: 0.0


def _all_ints(labels: set) -> bool:
    return all(
        isinstance(label, numbers.Integral) and not isinstance(label, bool) for label in labels
    )


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss(
            name="hinge",
            function=hinge_loss,
            labels="two classes labelled 0/1 or -1/+1",
            accepts=lambda labels: labels <= {0, 1} or labels <= {-1, 1},
            to_targets=lambda y: [-1 if label == 0 else label for label in y],
            predict=lambda score, classes: 1 if score > 0 else -1,
        ),
        Loss(
            name="bce",
            function=binary_cross_entropy,
            labels="two classes labelled 0/1",
            accepts=lambda labels: labels <= {0, 1},
            to_targets=list,
            predict=lambda logit, classes: 1 if logit > 0 else 0,
        ),
        Loss(
            name="cross_entropy",
            function=cross_entropy,
            labels="class indices 0, 1, ..., K-1 (every class present)",
            accepts=lambda labels: _all_ints(labels) and labels == set(range(len(labels))),
            to_targets=list,
            predict=lambda logits, classes: _argmax(logits),
            outputs=len,  # one logit per class
        ),
        Loss(
            name="mse",
            function=mse_loss,
            labels="real numbers",
            accepts=lambda labels: True,  # mse_loss checks each target is a number
            to_targets=list,
            predict=_nearest,
            threshold=lambda labels: (min(labels) + max(labels)) / 2,  # midway between classes
        ),
    )
}
