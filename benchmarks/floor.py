"""The pure-Python floor: each workload's forward and backward written by hand on plain floats.

No graph objects at all, so its time is what the arithmetic itself costs in CPython; an engine
can only approach it.
"""

from __future__ import annotations

import math


class FloorMLP:
    """The W1 network (relu hidden layers, linear output) with a hand-written backward."""

    def __init__(self, weights):
        self.layers = [[(list(ws), b) for ws, b in layer] for layer in weights]
        self.grads = None

    def output_loss(self, outputs: list[float], label, scale: float):
        """Hinge: the sample's loss term and d mean loss / d output (None: no gradient)."""
        margin = 1 - label * outputs[0]
        if margin <= 0:
            return 0.0, None
        return margin, [-label * scale]

    def step(self, points, labels, lr: float) -> float:
        """Mean loss over all points, its gradients, and one SGD update."""
        layers = self.layers
        grad_w = [[[0.0] * len(ws) for ws, _ in layer] for layer in layers]
        grad_b = [[0.0] * len(layer) for layer in layers]
        scale = 1.0 / len(points)
        total = 0.0
        last = len(layers) - 1
        for x, label in zip(points, labels, strict=True):
            inputs = []  # the input of each layer
            sums = []  # each layer's pre-activations
            h = x
            for index, layer in enumerate(layers):
                inputs.append(h)
                z = []
                for ws, b in layer:
                    s = b
                    for w, xi in zip(ws, h, strict=True):
                        s += w * xi
                    z.append(s)
                sums.append(z)
                h = z if index == last else [s if s > 0 else 0.0 for s in z]
            term, deltas = self.output_loss(h, label, scale)
            total += term
            if deltas is None:
                continue
            for index in range(last, -1, -1):
                layer, h_in = layers[index], inputs[index]
                gw, gb = grad_w[index], grad_b[index]
                back = [0.0] * len(h_in)
                for j, (ws, _) in enumerate(layer):
                    delta = deltas[j]
                    gb[j] += delta
                    row = gw[j]
                    for i, w in enumerate(ws):
                        row[i] += delta * h_in[i]
                        back[i] += delta * w
                if index:
                    previous = sums[index - 1]
                    deltas = [d if previous[i] > 0 else 0.0 for i, d in enumerate(back)]
        self.grads = (grad_w, grad_b)
        self.layers = [
            [
                ([w - lr * g for w, g in zip(ws, gw[j], strict=True)], b - lr * gb[j])
                for j, (ws, b) in enumerate(layer)
            ]
            for layer, gw, gb in zip(layers, grad_w, grad_b, strict=True)
        ]
        return total * scale

    def gradients(self) -> list[float]:
        """The last step's gradients, in the order of an engine's parameter list."""
        grad_w, grad_b = self.grads
        return [
            g
            for gw, gb in zip(grad_w, grad_b, strict=True)
            for row, b in zip(gw, gb, strict=True)
            for g in (*row, b)
        ]


class FloorSoftmaxMLP(FloorMLP):
    """The W6 network: FloorMLP with softmax cross-entropy over its outputs."""

    def output_loss(self, outputs: list[float], label: int, scale: float):
        """log(sum exp(z)) - z[label], and its gradient (softmax(z) - one_hot(label)) * scale."""
        shift = max(outputs)
        exps = [math.exp(z - shift) for z in outputs]
        total = sum(exps)
        deltas = [e / total * scale for e in exps]
        deltas[label] -= scale
        return math.log(total) + shift - outputs[label], deltas


def chain_tape(steps: int, c: float, d: float) -> list[float]:
    """y = y*c + d, keeping what a hand-written backward needs: every intermediate value."""
    y = 1.0
    tape = []
    for _ in range(steps):
        y = y * c
        tape.append(y)
        y = y + d
        tape.append(y)
    return tape


def products_step(a: list[float], b: list[float]) -> float:
    """sum(a_i * b_i) and its gradients d/da_i = b_i, d/db_i = a_i."""
    total = 0.0
    for x, y in zip(a, b, strict=True):
        total += x * y
    grad_a = [y * 1.0 for y in b]
    grad_b = [x * 1.0 for x in a]
    assert len(grad_a) == len(grad_b)
    return total
