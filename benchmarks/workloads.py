"""The benchmark's workloads, run inside one engine's worker process (see bench.py).

Each engine is reached through `make`, its scalar constructor (None for the hand-written floor),
so one piece of code drives scalargrad, micrograd and PyTorch alike.
"""

from __future__ import annotations

import gc
import math
import pickle
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import floor  # noqa: E402  (benchmarks/floor.py: the same work on plain floats)


def scalar_maker(engine: str) -> Callable | None:
    """The engine's scalar constructor, imported here so that each worker loads only its own."""
    if engine == "scalargrad":
        from autograd import Value

        return Value
    if engine == "micrograd":
        from micrograd.engine import Value

        return Value
    if engine == "torch":
        import torch

        torch.set_num_threads(1)
        return TorchScalar
    if engine == "compiled":
        return CompiledValue
    if engine == "slotted":
        from slotted import Value

        return Value
    return None


# --- the engines, behind one small interface ------------------------------------------------


def TorchScalar(x: float):  # noqa: N802 - stands in for a class
    """A 0-dim float64 tensor that requires grad: PyTorch's closest thing to a Value."""
    import torch

    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


def CompiledValue(x: float):  # noqa: N802 - stands in for a class
    """scalargrad's Value, in the worker whose steps are traced once by `autograd.compile`."""
    from autograd import Value

    return Value(x)


def grad_of(parameter) -> float:
    grad = parameter.grad
    return 0.0 if grad is None else float(grad)


def zero_grads(parameters) -> None:
    for parameter in parameters:
        parameter.grad = None if hasattr(parameter, "requires_grad") else 0.0


def sgd_update(parameters, lr: float) -> None:
    if parameters and hasattr(parameters[0], "requires_grad"):
        import torch

        with torch.no_grad():
            for parameter in parameters:
                parameter -= lr * parameter.grad
    else:
        for parameter in parameters:
            parameter.data -= lr * parameter.grad


# --- data and weights shared by every engine -------------------------------------------------


def moons(n: int = 100, noise: float = 0.1, seed: int = 0) -> tuple[list[list[float]], list[int]]:
    """Two interleaved half circles, labels -1/+1 (for the hinge loss)."""
    rng = random.Random(seed)
    points, labels = [], []
    for i in range(n):
        angle = math.pi * rng.random()
        if i % 2 == 0:
            x, y, label = math.cos(angle), math.sin(angle), 1
        else:
            x, y, label = 1 - math.cos(angle), 0.5 - math.sin(angle), -1
        points.append([x + rng.gauss(0, noise), y + rng.gauss(0, noise)])
        labels.append(label)
    return points, labels


def mlp_weights(sizes: list[int], seed: int = 0) -> list[list[tuple[list[float], float]]]:
    """Per layer, per neuron: (weights, bias) as floats, He-uniform, the same for every engine."""
    rng = random.Random(seed)
    layers = []
    for fan_in, fan_out in zip(sizes, sizes[1:], strict=False):
        bound = math.sqrt(6 / fan_in)
        layers.append(
            [([rng.uniform(-bound, bound) for _ in range(fan_in)], 0.0) for _ in range(fan_out)]
        )
    return layers


# --- W1: one training step of an MLP -----------------------------------------------------


class ValueMLP:
    """The W1 network written with an engine's scalars: neurons are `sum(w*x) + b`."""

    def __init__(self, make: Callable, weights):
        self.layers = [[([make(w) for w in ws], make(b)) for ws, b in layer] for layer in weights]
        self.parameters = [p for layer in self.layers for ws, b in layer for p in (*ws, b)]

    def outputs(self, x) -> list:
        """Relu hidden layers, a linear output layer: every output."""
        for index, layer in enumerate(self.layers):
            hidden = index < len(self.layers) - 1
            outputs = []
            for ws, b in layer:
                activation = sum((w * xi for w, xi in zip(ws, x, strict=False)), b)
                outputs.append(activation.relu() if hidden else activation)
            x = outputs
        return x

    def __call__(self, x):
        return self.outputs(x)[0]

    def loss(self, points, labels):
        """The mean hinge loss over all points."""
        losses = [(1 + -label * self(x)).relu() for x, label in zip(points, labels, strict=False)]
        return sum(losses) * (1.0 / len(losses))

    def step(self, points, labels, lr: float) -> float:
        """Forward over all points, the loss, backward, SGD; returns the loss."""
        loss = self.loss(points, labels)
        zero_grads(self.parameters)
        loss.backward()
        sgd_update(self.parameters, lr)
        return float(loss.data) if not hasattr(loss, "item") else loss.item()

    def gradients(self) -> list[float]:
        return [grad_of(p) for p in self.parameters]


class ScalargradNN:
    """The W1 network as a scalargrad user writes it: `nn.MLP`, `nn.hinge_loss`, `nn.optim.SGD`."""

    def __init__(self, weights, lr: float):
        from nn import MLP, hinge_loss
        from nn.optim import SGD

        self.hinge_loss = hinge_loss  # imported here, not in the timed step
        self.model = MLP(2, [len(layer) for layer in weights], seed=0)
        self.model.load_state_dict(torch_layout(weights))
        self.optimizer = SGD(self.model.parameters(), lr=lr)

    def step(self, points, labels, lr: float) -> float:
        loss = self.hinge_loss([self.model(x) for x in points], labels)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.data

    def gradients(self) -> list[float]:
        return [p.grad for p in self.model.parameters()]


class MicrogradNN:
    """The W1 network with micrograd's own `nn.MLP` (micrograd has no loss or optimizer)."""

    def __init__(self, weights):
        from micrograd.nn import MLP

        self.model = MLP(2, [len(layer) for layer in weights])
        for layer, layer_weights in zip(self.model.layers, weights, strict=True):
            for neuron, (ws, b) in zip(layer.neurons, layer_weights, strict=True):
                for w, value in zip(neuron.w, ws, strict=True):
                    w.data = value
                neuron.b.data = b

    def step(self, points, labels, lr: float) -> float:
        losses = [
            (1 + -label * self.model(x)).relu() for x, label in zip(points, labels, strict=True)
        ]
        loss = sum(losses) * (1.0 / len(losses))
        self.model.zero_grad()
        loss.backward()
        for p in self.model.parameters():
            p.data -= lr * p.grad
        return loss.data

    def gradients(self) -> list[float]:
        return [p.grad for p in self.model.parameters()]


def torch_layout(weights) -> dict:
    """The shared weights as a `torch.nn.Sequential`-style state dict ("0.weight", ...)."""
    state = {}
    for index, layer in enumerate(weights):
        state[f"{2 * index}.weight"] = [list(ws) for ws, _ in layer]
        state[f"{2 * index}.bias"] = [b for _, b in layer]
    return state


class CompiledStep:
    """A network's training step traced once with `autograd.compile` (W4, W6).

    Inputs (and labels, with `label_leaves`) are leaves whose data each step sets, compiled as
    `no_grad` data (no gradient, as the floor computes none for them); then the compiled graph
    runs forward and backward, and SGD updates the network's parameters.
    """

    def __init__(self, model: ValueMLP, points, labels, label_leaves: bool):
        from autograd import Value, compile

        start = time.perf_counter()
        self.model = model
        self.inputs = [[Value(v) for v in point] for point in points]
        self.labels = [Value(float(label)) for label in labels] if label_leaves else []
        loss = model.loss(self.inputs, self.labels or labels)
        traced = time.perf_counter()
        data = [leaf for point in self.inputs for leaf in point] + self.labels  # no gradient
        self.graph = compile(loss, no_grad=data)
        self.seconds = (traced - start, time.perf_counter() - traced)  # trace, compile()

    def step(self, points, labels, lr: float) -> float:
        for leaves, point in zip(self.inputs, points, strict=True):
            for leaf, value in zip(leaves, point, strict=True):
                leaf.data = value
        for leaf, label in zip(self.labels, labels, strict=False):
            leaf.data = label
        zero_grads(self.model.parameters)
        loss = self.graph()
        sgd_update(self.model.parameters, lr)
        return loss

    def gradients(self) -> list[float]:
        return self.model.gradients()


def network(make, weights, lr: float, library: bool, data):
    """The W1 network for this engine: its library's MLP if `library` and it has one."""
    if make is None:
        return floor.FloorMLP(weights)
    if make is CompiledValue:  # W4: inputs and labels are leaves
        return CompiledStep(ValueMLP(make, weights), *data, label_leaves=True)
    if library and make.__module__ == "autograd.value":
        return ScalargradNN(weights, lr)
    if library and make.__module__ == "micrograd.engine":
        return MicrogradNN(weights)
    return ValueMLP(make, weights)


def w1_step_factory(make, weights, data, lr: float, library: bool = False) -> Callable[[], float]:
    """One W1 training step on a network that persists across calls, as in a training loop."""
    points, labels = data
    model = network(make, weights, lr, library, data)
    return lambda: model.step(points, labels, lr)


def one_step_gradients(model, data) -> tuple[float, list[float]]:
    """Loss and parameter gradients of one step of `model` (lr 0), to compare engines."""
    points, labels = data
    loss = model.step(points, labels, lr=0.0)
    return float(loss), [float(g) for g in model.gradients()]


def w1_gradients(make, weights, data, library: bool = False) -> tuple[float, list[float]]:
    """W1's loss and gradients from `weights`."""
    return one_step_gradients(network(make, weights, 0.0, library, data), data)


def w4_compile_seconds(make, weights, data, repeats: int = 1) -> tuple[float, float]:
    """Seconds to trace the W1 step (inputs and labels as leaves) and to `compile` it (W4);
    medians of `repeats`."""
    return _trace_and_compile(lambda: ValueMLP(make, weights), data, True, repeats)


def _trace_and_compile(model, data, label_leaves: bool, repeats: int) -> tuple[float, float]:
    """Median seconds of CompiledStep's trace (the eager forward that builds the loss) and of
    `autograd.compile` on it, garbage collector on as in a user's program (compile pauses the
    collector while it runs: see CompiledGraph)."""
    seconds = []
    for _ in range(repeats):
        network = model()
        gc.collect()
        seconds.append(CompiledStep(network, *data, label_leaves=label_leaves).seconds)
    traces, compiles = zip(*seconds, strict=True)
    return statistics.median(traces), statistics.median(compiles)


# --- W6: a wider MLP with softmax cross-entropy ----------------------------------------------


def micrograd_exp(x):
    """exp for micrograd 0.1.0, which has none: written exactly as micrograd writes its ops."""
    from micrograd.engine import Value

    out = Value(math.exp(x.data), (x,), "exp")

    def _backward():
        x.grad += out.data * out.grad

    out._backward = _backward
    return out


def micrograd_log(x):
    """log for micrograd 0.1.0, which has none: written exactly as micrograd writes its ops."""
    from micrograd.engine import Value

    out = Value(math.log(x.data), (x,), "log")

    def _backward():
        x.grad += (1 / x.data) * out.grad

    out._backward = _backward
    return out


class SoftmaxMLP(ValueMLP):
    """The W6 network: ValueMLP with a mean softmax cross-entropy (log-sum-exp) loss."""

    def __init__(self, make: Callable, weights):
        super().__init__(make, weights)
        micrograd = make.__module__ == "micrograd.engine"
        self.exp = micrograd_exp if micrograd else lambda v: v.exp()
        self.log = micrograd_log if micrograd else lambda v: v.log()

    def loss(self, points, labels):
        """Mean of log(sum exp(z)) - z[label], the largest logit subtracted inside the exps."""
        terms = []
        for x, label in zip(points, labels, strict=True):
            logits = self.outputs(x)
            shift = max(float(z.data) for z in logits)  # a constant, as in nn.cross_entropy
            exps = [self.exp(z - shift) for z in logits]
            terms.append(self.log(sum(exps[1:], exps[0])) + shift - logits[label])
        return sum(terms[1:], terms[0]) * (1.0 / len(terms))


def classification_data(samples: int, features: int = 64, classes: int = 10, seed: int = 6):
    """`samples` Gaussian points with `features` coordinates and uniform class labels."""
    rng = random.Random(seed)
    points = [[rng.gauss(0.0, 1.0) for _ in range(features)] for _ in range(samples)]
    return points, [rng.randrange(classes) for _ in range(samples)]


def softmax_network(make, weights, data):
    """The W6 network for this engine. Compiled, only the inputs are leaves: the labels and the
    log-sum-exp shifts are frozen at trace time, as every step trains on the same batch."""
    if make is None:
        return floor.FloorSoftmaxMLP(weights)
    if make is CompiledValue:
        return CompiledStep(SoftmaxMLP(make, weights), *data, label_leaves=False)
    return SoftmaxMLP(make, weights)


def w6_step_factory(make, weights, data, lr: float) -> Callable[[], float]:
    """One W6 training step (forward, backward, SGD) on a network that persists across calls."""
    points, labels = data
    model = softmax_network(make, weights, data)
    return lambda: model.step(points, labels, lr)


def w6_gradients(make, weights, data) -> tuple[float, list[float]]:
    """W6's loss and gradients from `weights`."""
    return one_step_gradients(softmax_network(make, weights, data), data)


def w6_compile_seconds(make, weights, data, repeats: int = 1) -> tuple[float, float]:
    """Seconds to trace the W6 step and to `compile` it; medians of `repeats`."""
    return _trace_and_compile(lambda: SoftmaxMLP(make, weights), data, False, repeats)


# --- fit on moons: does compiling pay for itself in the first epoch? ------------------------


def fit_epoch_seconds(_make, epochs: int) -> dict[str, list[float]]:
    """Seconds per epoch of `nn.fit` on moons (100 points, MLP 2-16-16-1, hinge, Adam, batches
    of 20), eager and `compiled=True`; a compiled run's first epoch includes its compile."""
    from nn import MLP, fit
    from nn.data import make_moons
    from nn.optim import Adam

    points, labels = make_moons(n=100, noise=0.1, seed=0)

    def epoch_seconds(compiled: bool) -> list[float]:
        model = MLP(2, [16, 16, 1], seed=0)
        ends = []
        gc.collect()
        start = time.perf_counter()
        fit(
            model,
            points,
            labels,
            loss="hinge",
            optimizer=Adam(model.parameters(), lr=0.05),
            epochs=epochs,
            batch_size=20,
            progress=False,
            compiled=compiled,
            callback=lambda epoch, history: ends.append(time.perf_counter()),
        )
        return [end - begin for begin, end in zip([start, *ends], ends, strict=False)]

    return {"eager": epoch_seconds(False), "compiled": epoch_seconds(True)}


# --- W2: memory per op node ----------------------------------------------------------------


def w2_bytes_per_op(make, ops: int) -> float:
    """tracemalloc bytes held per op by a chain y = y*c + d (constants count against the op)."""
    if make is TorchScalar:
        return w2_torch_bytes_per_op(ops)
    c, d = 0.999, 0.001
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    if make is None:
        kept = floor.chain_tape(ops // 2, c, d)
    else:
        y = make(1.0)
        for _ in range(ops // 2):
            y = y * c + d
        kept = y
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del kept
    return used / ops


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


def w2_torch_bytes_per_op(ops: int) -> float:
    """Resident memory per op for torch (its tensors live in C++, invisible to tracemalloc)."""
    gc.collect()
    before = rss_bytes()
    y = TorchScalar(1.0)
    for _ in range(ops // 2):
        y = y * 0.999 + 0.001
    used = rss_bytes() - before
    del y
    return used / ops


# --- W3: deep chains -----------------------------------------------------------------------


def chain_backward_seconds(make, depth: int) -> float:
    """Build y = y + x, `depth` adds deep, and time its backward; raises if it cannot."""
    x = make(1.0)
    y = make(0.0)
    for _ in range(depth):
        y = y + x
    start = time.perf_counter()
    y.backward()
    seconds = time.perf_counter() - start
    assert abs(grad_of(x) - depth) < 1e-6 * depth, "wrong gradient on the chain"
    return seconds


def deepest_chain(make, limit: int) -> int:
    """The deepest chain (up to `limit`) whose backward succeeds, by doubling then bisection."""
    good, bad = 0, None
    depth = 1000
    while bad is None and depth <= limit:
        try:
            chain_backward_seconds(make, depth)
            good, depth = depth, depth * 2
        except RecursionError:
            bad = depth
    if bad is None:
        return good if good == limit else _try_limit(make, good, limit)
    while bad - good > max(1, good // 100):
        middle = (good + bad) // 2
        try:
            chain_backward_seconds(make, middle)
            good = middle
        except RecursionError:
            bad = middle
    return good


def _try_limit(make, good: int, limit: int) -> int:
    try:
        chain_backward_seconds(make, limit)
        return limit
    except RecursionError:
        return good


# --- W5: many independent products -----------------------------------------------------------


def pairwise_sum(terms: list):
    """Sum by halves, so the graph is log2(n) deep rather than n."""
    while len(terms) > 1:
        paired = [a + b for a, b in zip(terms[::2], terms[1::2], strict=False)]
        if len(terms) % 2:
            paired.append(terms[-1])
        terms = paired
    return terms[0]


def w5_factory(make, n: int) -> Callable[[], float]:
    """Forward + backward of a pairwise sum of n products of distinct leaves."""
    rng = random.Random(5)
    a_data = [rng.uniform(-1, 1) for _ in range(n)]
    b_data = [rng.uniform(-1, 1) for _ in range(n)]
    if make is None:
        return lambda: floor.products_step(a_data, b_data)
    a = [make(v) for v in a_data]
    b = [make(v) for v in b_data]

    def step() -> float:
        total = pairwise_sum([ai * bi for ai, bi in zip(a, b, strict=False)])
        total.backward()
        return float(total.data) if not hasattr(total, "item") else total.item()

    return step


# --- W7: a scalar transformer's training step --------------------------------------------

VOCABULARY, EMBEDDING, HEADS, CONTEXT = 27, 16, 4, 8
HEAD_SIZE = EMBEDDING // HEADS
W7_NAME = "alexandra"  # 26 letters and an end token (26): an 8-token sequence and its targets


def transformer_weights(seed: int = 7) -> dict[str, list[list[float]]]:
    """Every matrix of the W7 model as rows of floats, N(0, 0.08), the same for every engine."""
    rng = random.Random(seed)
    shapes = {
        "token": (VOCABULARY, EMBEDDING),
        "position": (CONTEXT, EMBEDDING),
        "query": (EMBEDDING, EMBEDDING),
        "key": (EMBEDDING, EMBEDDING),
        "value": (EMBEDDING, EMBEDDING),
        "attention_out": (EMBEDDING, EMBEDDING),
        "mlp_in": (4 * EMBEDDING, EMBEDDING),
        "mlp_out": (EMBEDDING, 4 * EMBEDDING),
        "head": (VOCABULARY, EMBEDDING),
    }
    return {
        name: [[rng.gauss(0.0, 0.08) for _ in range(columns)] for _ in range(rows)]
        for name, (rows, columns) in shapes.items()
    }


def w7_tokens() -> list[int]:
    """The end token, the name's letters, the end token: inputs [:-1] and targets [1:]."""
    end = VOCABULARY - 1
    return [end, *(ord(letter) - ord("a") for letter in W7_NAME), end][: CONTEXT + 1]


def weighted_sum(ws: list, xs: list):
    """sum(w * x): the 2026 script's way, on every engine."""
    return sum(w * xi for w, xi in zip(ws, xs, strict=True))


def fused_sum(ws: list, xs: list):
    """scalargrad's `dot_product`: the same number as one n-ary node (W7, dot_product row)."""
    from autograd import dot_product

    return dot_product(ws, xs)


class Transformer:
    """The W7 model, written with an engine's scalars as the 2026 scalar GPT script writes it:
    token + position embeddings, RMS norm, one layer of causal 4-head attention and an MLP
    16-64-16 with relu squared (each with a residual), a linear head; mean cross-entropy over
    the sequence; Adam."""

    def __init__(self, make: Callable, weights: dict[str, list[list[float]]], fused: bool = False):
        self.matrices = {name: [[make(w) for w in row] for row in m] for name, m in weights.items()}
        # Every weighted sum (linear layers, attention scores and mixing, the norm's sum of
        # squares) as one dot_product node, for scalargrad's dot_product row; off: sum(w * x).
        self.dot = fused_sum if fused else weighted_sum
        self.parameters = [p for m in self.matrices.values() for row in m for p in row]
        micrograd = make.__module__ == "micrograd.engine"
        self.exp = micrograd_exp if micrograd else lambda v: v.exp()
        self.log = micrograd_log if micrograd else lambda v: v.log()
        self.moments = [0.0] * len(self.parameters), [0.0] * len(self.parameters)
        self.steps = 0
        self.torch = hasattr(self.parameters[0], "requires_grad")

    def softmax(self, logits: list) -> list:
        shift = max(float(v.data) for v in logits)
        exps = [self.exp(v - shift) for v in logits]
        total = sum(exps)
        return [e / total for e in exps]

    def rms_norm(self, x: list) -> list:
        scale = (self.dot(x, x) / len(x) + 1e-5) ** -0.5
        return [xi * scale for xi in x]

    def linear(self, x: list, rows: list) -> list:
        return [self.dot(row, x) for row in rows]

    def logits(self, token: int, position: int, keys: list, values: list) -> list:
        """The next token's logits at `position`; appends this position's key and value."""
        m = self.matrices
        x = [t + p for t, p in zip(m["token"][token], m["position"][position], strict=True)]
        x = self.rms_norm(x)
        residual = x
        x = self.rms_norm(x)
        q, k, v = self.linear(x, m["query"]), self.linear(x, m["key"]), self.linear(x, m["value"])
        keys.append(k)
        values.append(v)
        attended = []
        for head in range(HEADS):
            s = slice(head * HEAD_SIZE, (head + 1) * HEAD_SIZE)
            q_head = q[s]
            scores = [self.dot(q_head, key[s]) / HEAD_SIZE**0.5 for key in keys]
            weights = self.softmax(scores)
            attended += [
                self.dot(weights, [value[s][j] for value in values]) for j in range(HEAD_SIZE)
            ]
        mixed = self.linear(attended, m["attention_out"])
        x = [a + r for a, r in zip(mixed, residual, strict=True)]
        residual = x
        hidden = [h.relu() ** 2 for h in self.linear(self.rms_norm(x), m["mlp_in"])]
        x = [a + r for a, r in zip(self.linear(hidden, m["mlp_out"]), residual, strict=True)]
        return self.linear(x, m["head"])

    def loss(self, tokens: list[int]):
        """Mean cross-entropy of predicting tokens[1:] from tokens[:-1]."""
        keys, values, losses = [], [], []
        for position, (token, target) in enumerate(zip(tokens, tokens[1:], strict=False)):
            probabilities = self.softmax(self.logits(token, position, keys, values))
            losses.append(-self.log(probabilities[target]))
        return (1 / len(losses)) * sum(losses)

    def step(self, tokens: list[int], lr: float) -> float:
        """Forward, backward, one Adam update (betas 0.85, 0.99); returns the loss."""
        loss = self.loss(tokens)
        zero_grads(self.parameters)
        loss.backward()
        self.adam(lr)
        return float(loss.data) if not self.torch else loss.item()

    def adam(self, lr: float, beta1: float = 0.85, beta2: float = 0.99) -> None:
        self.steps += 1
        first, second = self.moments
        correction1, correction2 = 1 - beta1**self.steps, 1 - beta2**self.steps
        for i, p in enumerate(self.parameters):
            g = grad_of(p)
            first[i] = beta1 * first[i] + (1 - beta1) * g
            second[i] = beta2 * second[i] + (1 - beta2) * g * g
            update = lr * (first[i] / correction1) / ((second[i] / correction2) ** 0.5 + 1e-8)
            if self.torch:
                p.data.sub_(update)
            else:
                p.data -= update

    def gradients(self) -> list[float]:
        return [grad_of(p) for p in self.parameters]


class CompiledTransformer(Transformer):
    """W7 through `autograd.compile`: the step's graph traced once (the sequence is fixed)."""

    def __init__(self, make: Callable, weights: dict[str, list[list[float]]]):
        from autograd import compile

        super().__init__(make, weights)
        self.graph = compile(super().loss(w7_tokens()))

    def step(self, tokens: list[int], lr: float) -> float:
        zero_grads(self.parameters)
        loss = self.graph()
        self.adam(lr)
        return loss


def transformer(make, weights, fused: bool = False) -> Transformer:
    """The W7 model for this engine; `fused` (scalargrad only, others ignore it): dot_product."""
    if make is CompiledValue:
        return CompiledTransformer(make, weights)
    return Transformer(make, weights, fused=fused and make is scalar_maker("scalargrad"))


def w7_step_factory(make, weights, lr: float, fused: bool = False) -> Callable[[], float]:
    """One W7 training step on a model that persists across calls."""
    model = transformer(make, weights, fused)
    tokens = w7_tokens()
    return lambda: model.step(tokens, lr)


def w7_gradients(make, weights, fused: bool = False) -> tuple[float, list[float]]:
    """W7's loss and gradients from `weights`."""
    model = transformer(make, weights, fused)
    loss = model.step(w7_tokens(), lr=0.0)
    return float(loss), model.gradients()


# --- the worker process ---------------------------------------------------------------------

FACTORIES = {
    "w1": w1_step_factory,
    "w5": w5_factory,
    "w6": w6_step_factory,
    "w7": w7_step_factory,
}
MEASURES = {
    "w1_gradients": w1_gradients,
    "w4_compile": w4_compile_seconds,
    "w6_gradients": w6_gradients,
    "w6_compile": w6_compile_seconds,
    "fit_epochs": fit_epoch_seconds,
    "w7_gradients": w7_gradients,
    "w2": w2_bytes_per_op,
    "w3_time": chain_backward_seconds,
    "w3_deepest": deepest_chain,
}


def warm_up(step: Callable, calls: int = 8, seconds: float = 2.0) -> None:
    """Run `step` untimed `calls` times, or fewer if they take `seconds` (but at least once).

    As in a training loop, the timed steps are the ones after the first few: CPython 3.11
    specializes a function's bytecode only after it has been entered about 8 times. Code with
    loops gets there within its first call, but a compiled graph's straight-line chunks are
    each entered twice per step, and its first 4-5 steps run ~30% slower (measured on W6).
    """
    start = time.perf_counter()
    for _ in range(calls):
        step()
        if time.perf_counter() - start > seconds:
            break


def serve(engine: str, connection, collect: bool = True) -> None:
    """Answer the parent's requests for one engine until it sends None.

    ("time", workload, arguments, calls): build the workload's step and warm it up the first
    time it is asked with these arguments (see `warm_up`), then run it `calls` times; answers
    the list of seconds. Every call after the warm-up is timed, so each step pays for the
    garbage the step before it left, as in a loop.
    ("measure", name, arguments): answers MEASURES[name](make, *arguments).
    Any exception is answered as ("error", text) so the parent can report it.
    With `collect` False the garbage collector is off in this process (a diagnostic).
    """
    if not collect:
        gc.disable()
    make = scalar_maker(engine)
    steps: dict[tuple, Callable] = {}
    while (request := connection.recv()) is not None:
        try:
            if request[0] == "time":
                _, workload, arguments, calls = request
                key = (workload, pickle.dumps(arguments))  # W1 and W1 nn differ by an argument
                if key not in steps:
                    steps.clear()  # drop the previous workload's graphs and leaves
                    gc.collect()
                    steps[key] = FACTORIES[workload](make, *arguments)
                    warm_up(steps[key])
                step = steps[key]
                answer = []
                for _ in range(calls):
                    start = time.perf_counter()
                    step()
                    answer.append(time.perf_counter() - start)
                if not collect:  # untimed: micrograd's cycles would otherwise pile up
                    gc.collect()
            else:
                _, name, arguments = request
                answer = MEASURES[name](make, *arguments)
        except Exception as error:  # reported by the parent, which decides what it means
            answer = ("error", f"{type(error).__name__}: {error}")
        connection.send(answer)
