"""`fit`: the training loop (minibatches, history, progress bar, callback) for classifiers.

Eager training builds each batch's loss with `batch_loss`; compiled training (`compiled=True`)
traces it once per batch size with `autograd.compile`, inputs and labels as leaves, and gives the
same results (see `CompiledBatchLoss`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from autograd import Value, no_grad, set_grad_enabled
from autograd.compiler import compile as compile_graph
from autograd.files import positive_int
from nn.losses import LOSSES, Loss, hinge_loss, log_sum_exp, mean, mse_loss
from nn.module import Module
from nn.optim import Adam, Optimizer

# (batch inputs, batch targets) -> (the batch's mean loss, the model's outputs), with the
# parameters' gradients set to the loss's gradient.
BatchStep = Callable[[list, list], tuple[float, list]]


def targets_for(loss: str, y: Sequence) -> list:
    """The labels as `loss` wants them: 0/1 labels become -1/+1 for hinge, others are kept."""
    return LOSSES[loss].to_targets(y)


def batch_loss(model: Module, X: Sequence, y: Sequence, loss: str) -> tuple[Value, list]:
    """The mean `loss` of `model` over one batch, and the model's outputs on it.

    `y` must already be in the loss's form (see `targets_for`).
    """
    outputs = [model(x) for x in X]
    return LOSSES[loss].function(outputs, y), outputs


def classes_of(targets: Sequence) -> list | None:
    """The distinct targets, sorted, if they are classes (integral numbers or lists of them).

    None for real-valued targets (mse on measurements, bce on probabilities): there an
    accuracy means nothing.
    """
    if not all(_is_integral(target) for target in targets):
        return None
    distinct = {tuple(t) if isinstance(t, list) else t for t in targets}
    return sorted(list(c) if isinstance(c, tuple) else c for c in distinct)


def count_correct(outputs: list, y: Sequence, loss: str, classes: Sequence = ()) -> int:
    """How many outputs predict their target, read as the loss reads them (see `Loss.predict`).

    Each output is a Value or a float, or a list of them: the sign for hinge/bce, the argmax for
    cross_entropy, the nearest of `classes` (the distinct targets) for mse.
    """
    predict = LOSSES[loss].predict
    return sum(
        predict(_as_floats(output), classes) == target
        for output, target in zip(outputs, y, strict=True)
    )


def _is_integral(target: Any) -> bool:
    if isinstance(target, list):
        return all(map(_is_integral, target))
    return isinstance(target, (int, float)) and math.isfinite(target) and target == int(target)


def _as_floats(output: Any) -> float | list[float]:
    """A model output (a Value, a float or a list of them) as plain floats."""
    if isinstance(output, list):
        return [o.data if isinstance(o, Value) else o for o in output]
    return output.data if isinstance(output, Value) else output


def fit(
    model: Module,
    X: Sequence,
    y: Sequence,
    loss: str = "hinge",
    optimizer: Optimizer | None = None,
    epochs: int = 100,
    batch_size: int | None = None,
    progress: bool = True,
    callback: Callable[[int, dict], Any] | None = None,
    compiled: bool = False,
    seed: int | None = 0,
) -> dict[str, list[float]]:
    """Train `model` on (X, y); returns the history {"loss": [...], "accuracy": [...]}.

    Each epoch records the mean loss and the accuracy (a fraction) over its batches, measured
    on the outputs each update was computed from, as a PyTorch loop reports them (the progress
    bar shows these epoch means). The accuracy is nan where the targets are not classes (mse on
    real numbers, bce on probabilities). `optimizer` defaults to
    `Adam(model.parameters(), lr=0.01)`. `batch_size=None` trains on the whole set; otherwise
    minibatches are reshuffled each epoch from `random.Random(seed)`. Hinge takes 0/1 or -1/+1
    labels, bce 0/1, cross_entropy class indices. `callback(epoch, history)` runs after each
    epoch; `progress=False` hides the tqdm bar. `compiled=True` runs each batch through
    `autograd.compile`: the weights and history of eager training, to rounding, several times
    faster. On moons with batches of 20: the first epoch (one sample's graph compiled, then run
    sample by sample; see ONE_BY_ONE_SAMPLES) ~20 ms against ~50 ms eager, the second (the batch
    graph compiled) ~65 ms, each later one ~4 ms.

    Settings that reach >= 95% training accuracy on moons in about 1.5 s (tests/test_nn_train.py):
    `X, y = make_moons(n=100, noise=0.1, seed=0)`; `model = MLP(2, [16, 16, 1], seed=0)`;
    `fit(model, X, y, loss="hinge", optimizer=Adam(model.parameters(), lr=0.05), epochs=20,
    batch_size=20)`.
    """
    loss_record = _loss_named(loss)
    _check_fit_arguments(X, y, epochs, batch_size)
    targets = loss_record.to_targets(y)
    _check_targets(model, X, targets, loss_record)
    classes = classes_of(targets)
    if optimizer is None:
        optimizer = Adam(model.parameters(), lr=0.01)
    step = (
        _compiled_step(model, loss_record.name, one_by_one=min(len(X), ONE_BY_ONE_SAMPLES))
        if compiled
        else _eager_step(model, loss_record.name)
    )
    history: dict[str, list[float]] = {"loss": [], "accuracy": []}
    bar = _progress_bar(epochs) if progress else None
    try:
        for epoch, batches in enumerate(_epoch_batches(len(X), batch_size, epochs, seed)):
            epoch_loss, accuracy = _train_epoch(
                step, optimizer, batches, X, targets, loss_record, classes
            )
            history["loss"].append(epoch_loss)
            history["accuracy"].append(accuracy)
            if bar is not None:
                _show_epoch(bar, epoch_loss, accuracy)
            if callback is not None:
                callback(epoch, history)
    finally:
        if bar is not None:
            bar.close()
    return history


def _loss_named(name: str) -> Loss:
    if not isinstance(name, str) or name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of {list(LOSSES)}")
    return LOSSES[name]


def _check_fit_arguments(X: Sequence, y: Sequence, epochs: int, batch_size: int | None) -> None:
    if len(X) != len(y) or not X:
        raise ValueError(
            f"fit needs as many labels as samples (at least 1): {len(X)} X, {len(y)} y"
        )
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs must be an int >= 0, got {epochs!r}")
    if batch_size is not None:
        positive_int(batch_size, "batch_size (or None: one batch of all samples)")


def _epoch_batches(
    samples: int, batch_size: int | None, epochs: int, seed: int | None
) -> Iterator[list[list[int]]]:
    """Each epoch's batches of sample indices, reshuffled from `Random(seed)` unless one batch."""
    size = batch_size or samples
    order = list(range(samples))
    rng = random.Random(seed)
    for _ in range(epochs):
        if size < samples:
            rng.shuffle(order)
        yield [order[start : start + size] for start in range(0, samples, size)]


def _eager_step(model: Module, loss: str) -> BatchStep:
    """A `BatchStep` that builds each batch's graph anew and runs backward on it."""

    def step(batch_X: list, batch_y: list) -> tuple[float, list]:
        value, outputs = batch_loss(model, batch_X, batch_y, loss)
        model.zero_grad()
        value.backward()
        return value.data, outputs

    return step


# fit(compiled=True) runs its first epoch, up to this many samples, through one sample's graph.
# A batch's graph (20 samples of an MLP 2-16-16-1: 12,900 nodes) takes ~55 ms to compile, more
# than a first epoch of eager training on moons (~50 ms); one sample's graph (644 nodes) ~12 ms.
# Run sample by sample, a batch costs ~1.6x the batch graph's time (each call adds every
# parameter's gradient): ~0.02 ms more per sample, so after ~2,000 samples the extra has cost
# what compiling the batch graph does, and the batch graph takes over (as in ski rental).
ONE_BY_ONE_SAMPLES = 2000


def _compiled_step(model: Module, loss: str, one_by_one: int = 0) -> BatchStep:
    """A `BatchStep` through compiled graphs: for the first `one_by_one` samples, one graph of
    a single sample run over each sample of a batch (see ONE_BY_ONE_SAMPLES); after that one
    `CompiledBatchLoss` per batch size, compiled on first use."""
    compiled_losses: dict[int, CompiledBatchLoss] = {}
    seen = 0  # samples trained on so far

    def step(batch_X: list, batch_y: list) -> tuple[float, list]:
        nonlocal seen
        size = len(batch_X)
        seen += size
        sample_by_sample = seen <= one_by_one
        if sample_by_sample:
            size = 1
        if size not in compiled_losses:
            compiled_losses[size] = CompiledBatchLoss(model, batch_X[:size], loss)
        model.zero_grad()
        if sample_by_sample:
            return _sample_by_sample(compiled_losses[1], model, batch_X, batch_y)
        return compiled_losses[size](batch_X, batch_y)

    return step


def _sample_by_sample(
    single: CompiledBatchLoss, model: Module, batch_X: list, batch_y: list
) -> tuple[float, list]:
    """The batch's mean loss and outputs through a one-sample graph, run per sample; leaves the
    mean's gradients in the parameters, as the batch's graph would (equal to rounding)."""
    total, outputs = 0.0, []
    for index, (x, target) in enumerate(zip(batch_X, batch_y, strict=True)):
        value, output = single([x], [target])
        total = value if index == 0 else total + value  # the batch graph's sum, term by term
        outputs += output
    scale = 1 / len(batch_X)  # d mean / d term
    for parameter in model.parameters():
        parameter.grad *= scale
    return total / len(batch_X), outputs


def _train_epoch(
    step: BatchStep,
    optimizer: Optimizer,
    batches: list[list[int]],
    X: Sequence,
    targets: list,
    loss: Loss,
    classes: list | None,
) -> tuple[float, float]:
    """One optimizer step per batch; the epoch's mean loss and accuracy (nan without classes)."""
    total_loss, correct = 0.0, 0
    for batch in batches:
        batch_y = [targets[i] for i in batch]
        value, outputs = step([X[i] for i in batch], batch_y)
        optimizer.step()
        total_loss += value * len(batch)
        if classes is not None:
            correct += count_correct(outputs, batch_y, loss.name, classes)
    accuracy = correct / len(targets) if classes is not None else math.nan
    return total_loss / len(targets), accuracy


def _show_epoch(bar: Any, epoch_loss: float, accuracy: float) -> None:
    """Label the bar with the epoch's means (the postfix first, so it redraws once per epoch)."""
    figures = f"loss={epoch_loss:.4g}" + (f" acc={accuracy:.3f}" if accuracy == accuracy else "")
    bar.set_postfix_str(f"epoch mean {figures}", refresh=False)
    bar.update(1)


class CompiledBatchLoss:
    """The loss of `model` on batches of one size, traced once and compiled (beyond SPEC).

    Inputs and targets are leaves whose data each call sets, so one graph serves every batch of
    its size, and the loss is built so that nothing a label decides is frozen into the graph:
    hinge scores are multiplied by label leaves (then scored against +1), mse subtracts target
    leaves, bce always adds both (1-y) softplus(z) and y softplus(-z), cross_entropy picks the
    true logit as the sum of one-hot leaves times the logits. Each adds exact zeros or multiplies
    by exactly 1 (for finite logits), so losses and outputs are the floats of `batch_loss`, and
    so are the gradients, except that for cross_entropy they agree to rounding only: the eager
    graph's order, hence the order in which a hidden unit's gradient terms are summed, depends
    on the true class. cross_entropy's
    log-sum-exp subtracts each sample's largest logit, a constant read from data, so nothing
    overflows: a second compiled graph computes the logits first and the shifts are leaves too.
    """

    def __init__(self, model: Module, X: Sequence, loss: str):
        self.loss = loss
        with set_grad_enabled(True):  # tracing needs the graph
            self.inputs = [[Value(_as_floats(v)) for v in x] for x in X]
            outputs = [model(x) for x in self.inputs]
            flat = [
                o for output in outputs for o in (output if isinstance(output, list) else [output])
            ]
            self.widths = [len(o) if isinstance(o, list) else 0 for o in outputs]
            # Inputs, targets and shifts are data: the compiled graphs compute no gradient for them.
            data = [leaf for x in self.inputs for leaf in x]
            if loss == "cross_entropy":
                self.targets = [[Value(0.0) for _ in logits] for logits in outputs]
                self.shifts = [Value(max(z.data for z in logits)) for logits in outputs]
                self.logits = compile_graph(sum(flat[1:], flat[0]), keep=flat, no_grad=data)
                terms = [
                    log_sum_exp(logits, shift) - _dot(one_hot, logits)
                    for logits, one_hot, shift in zip(
                        outputs, self.targets, self.shifts, strict=True
                    )
                ]
                data += [leaf for one_hot in self.targets for leaf in one_hot] + self.shifts
                self.graph = compile_graph(mean(terms), no_grad=data)
            else:
                self.targets = [
                    [Value(0.0) for _ in output] if isinstance(output, list) else Value(0.0)
                    for output in outputs
                ]
                for target in self.targets:
                    data += target if isinstance(target, list) else [target]
                self.graph = compile_graph(
                    LEAF_TARGET_LOSSES[loss](outputs, self.targets), keep=flat, no_grad=data
                )

    def __call__(self, X: Sequence, y: Sequence) -> tuple[float, list]:
        """Load the batch (X, y in the loss's form), then forward and backward: (loss, outputs).

        The gradients accumulate into the parameters' `.grad`; outputs are floats per sample.
        """
        for leaves, x in zip(self.inputs, X, strict=True):
            for leaf, v in zip(leaves, x, strict=True):
                leaf.data = _as_floats(v)
        if self.loss == "cross_entropy":
            for one_hot, label in zip(self.targets, y, strict=True):
                for index, leaf in enumerate(one_hot):
                    leaf.data = 1.0 if index == label else 0.0
            self.logits.forward()
            outputs = self._per_sample(self.logits.kept_values())
            for shift, logits in zip(self.shifts, outputs, strict=True):
                shift.data = max(logits)
            return self.graph(), outputs
        for target, label in zip(self.targets, y, strict=True):
            if isinstance(target, list):
                for leaf, t in zip(target, label, strict=True):
                    leaf.data = float(t)
            else:
                target.data = float(label)
        value = self.graph()
        return value, self._per_sample(self.graph.kept_values())

    def _per_sample(self, values: list[float]) -> list:
        """The flat kept values regrouped as the model returned them: a float or list each."""
        outputs, position = [], 0
        for width in self.widths:
            outputs.append(values[position] if not width else values[position : position + width])
            position += width or 1
        return outputs


def _hinge_of_leaves(outputs: list, targets: list) -> Value:
    # 1 - 1*(y*s) is 1 - y*s exactly
    return hinge_loss([y * s for s, y in zip(outputs, targets, strict=True)], [1] * len(outputs))


def _mse_of_leaves(outputs: list, targets: list) -> Value:
    # (p - t) - 0.0 is p - t exactly
    differences = [
        [pi - ti for pi, ti in zip(p, t, strict=True)] if isinstance(p, list) else p - t
        for p, t in zip(outputs, targets, strict=True)
    ]
    zeros = [[0.0] * len(d) if isinstance(d, list) else 0.0 for d in differences]
    return mse_loss(differences, zeros)


def _bce_of_leaves(outputs: list, targets: list) -> Value:
    # (1-y) softplus(z) + y softplus(-z), as binary_cross_entropy writes it for a label between
    # 0 and 1; for y = 0 or 1 one term is an exact 0 (for a finite z) where the eager loss
    # leaves it out, so the floats are the same.
    terms = [
        (1.0 - y) * z.softplus() + y * (-z).softplus()
        for z, y in zip(outputs, targets, strict=True)
    ]
    return mean(terms)


# hinge, mse or bce of outputs against target leaves, with the eager loss's floats
# (cross_entropy's one-hot form is built in CompiledBatchLoss).
LEAF_TARGET_LOSSES: dict[str, Callable[[list, list], Value]] = {
    "hinge": _hinge_of_leaves,
    "mse": _mse_of_leaves,
    "bce": _bce_of_leaves,
}


def _dot(one_hot: list[Value], logits: list[Value]) -> Value:
    products = [h * z for h, z in zip(one_hot, logits, strict=True)]
    return sum(products[1:], products[0])


def _check_targets(model: Module, X: Sequence, targets: list, loss: Loss) -> None:
    """Raise the loss's ValueError for bad targets before any step, with placeholder outputs of
    the model's shape (a compiled loss only sees targets as leaf data)."""
    with no_grad():
        output = model(X[0])
        placeholder = [0.0] * len(output) if isinstance(output, list) else 0.0
        loss.function([placeholder] * len(targets), targets)


def _progress_bar(epochs: int):
    try:
        from tqdm.auto import tqdm  # a widget in Jupyter, text in a terminal
    except ImportError as error:
        raise ImportError("fit's progress bar needs tqdm: pip install tqdm") from error
    return tqdm(total=epochs, desc="fit", unit="epoch")
