"""`Neuron`, `Layer` and `MLP`: fully connected networks of scalar Values.

Their parameters and state dicts follow `torch.nn.Linear` / `torch.nn.Sequential`, so the same
numbers load into PyTorch (`MLP.to_torch()`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from operator import mul
from typing import Any

from autograd import Value
from autograd.files import positive_int
from autograd.mode import call_in_scopes, enter_scope, exit_scope
from nn.module import Module

# name -> the Value method that applies it (None: linear, the affine sum itself).
ACTIVATIONS = {
    "relu": Value.relu,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "leaky_relu": Value.leaky_relu,  # slope 0.01, as torch.nn.LeakyReLU()
    "linear": None,
}
_XAVIER = {"tanh", "sigmoid"}  # every other activation is initialised by He


def init_bound(activation: str, fan_in: int, fan_out: int) -> float:
    """Half-width a of the uniform(-a, a) initial weights: variance a**2 / 3 = He or Xavier.

    He (variance 2 / fan_in) for relu, leaky_relu and linear; Xavier/Glorot
    (variance 2 / (fan_in + fan_out)) for tanh and sigmoid; no gain.
    """
    variance = 2.0 / (fan_in + fan_out) if activation in _XAVIER else 2.0 / fan_in
    return math.sqrt(3.0 * variance)


def _check_widths(nouts: Sequence[int]) -> list[int]:
    if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Sequence) or not nouts:
        raise ValueError(f"nouts must be a non-empty list of layer widths, got {nouts!r:.80}")
    return [positive_int(n, "each layer width in nouts") for n in nouts]


def _check_activation(activation: str) -> str:
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of {list(ACTIVATIONS)}")
    return activation


def _check_input(x: Sequence, nin: int, who: str) -> None:
    try:
        given = len(x)
    except TypeError:
        raise TypeError(
            f"{who} input must be a list of {nin} numbers or Values, got {type(x).__name__}"
        ) from None
    if given != nin:
        raise ValueError(f"{who} expects an input of size {nin}, got size {given}")


def _label_parameters(module: Module) -> None:
    # Labels name each weight in graph pictures; an enclosing module relabels with its names.
    for name, p in module.named_parameters():
        p.label = name


class Neuron(Module):
    """One unit: activation(w . x + b), weights uniform by He / Xavier (see `init_bound`).

    `fan_out` only matters for Xavier (tanh, sigmoid); `Layer` passes its width.
    """

    def __init__(
        self, nin: int, activation: str = "relu", seed: int | None = None, *, fan_out: int = 1
    ):
        self.nin = positive_int(nin, "nin")
        self.activation = _check_activation(activation)
        self._activate = ACTIVATIONS[activation]
        rng = random.Random(seed)
        bound = init_bound(activation, nin, positive_int(fan_out, "fan_out"))
        self.w = [Value(rng.uniform(-bound, bound)) for _ in range(nin)]
        self.b = Value(0.0)
        self._parameters = (*self.w, self.b)
        _label_parameters(self)

    @staticmethod
    def shapes(nin: int) -> dict[str, tuple[int, ...]]:
        """The shape of each of `tensors()` for `nin` inputs, known before building any Value."""
        return {"weight": (positive_int(nin, "nin"),), "bias": ()}

    def tensors(self) -> dict[str, Any]:
        """{"weight": [nin Values], "bias": Value}."""
        return {"weight": self.w, "bias": self.b}

    def parameters(self) -> list[Value]:
        """The weights, then the bias."""
        return list(self._parameters)

    def forward(self, x: Sequence) -> Value:
        """activation(sum_i w_i x_i + b); ValueError if `x` does not have `nin` entries."""
        _check_input(x, self.nin, "Neuron")
        return self.affine_activate(x)

    def affine_activate(self, x: Sequence) -> Value:
        """`forward` without the length check, for callers that have checked it once."""
        # Numbers in x multiply as constants, so the graph holds no node for an input.
        out = sum(map(mul, self.w, x), self.b)
        return out if self._activate is None else self._activate(out)

    def __repr__(self) -> str:
        return f"Neuron({self.nin}, activation={self.activation!r})"


class Layer(Module):
    """`nout` neurons reading the same input; returns a list of `nout` Values (even for 1)."""

    def __init__(self, nin: int, nout: int, activation: str = "relu", seed: int | None = None):
        self.nin = positive_int(nin, "nin")
        self.nout = positive_int(nout, "nout")
        self.activation = _check_activation(activation)
        rng = random.Random(seed)  # one seed per neuron, all drawn from the layer's seed
        self.neurons = [
            Neuron(nin, activation, seed=rng.getrandbits(64), fan_out=nout) for _ in range(nout)
        ]
        self._parameters = tuple(p for n in self.neurons for p in n.parameters())
        self._scopes = tuple(f"neuron{j}" for j in range(nout))
        _label_parameters(self)

    @staticmethod
    def shapes(nin: int, nout: int) -> dict[str, tuple[int, ...]]:
        """The shape of each of `tensors()`, known before building any Value."""
        nin, nout = positive_int(nin, "nin"), positive_int(nout, "nout")
        return {"weight": (nout, nin), "bias": (nout,)}

    def tensors(self) -> dict[str, Any]:
        """{"weight": [nout][nin] Values, "bias": [nout] Values}, as `torch.nn.Linear`."""
        return {"weight": [n.w for n in self.neurons], "bias": [n.b for n in self.neurons]}

    def parameters(self) -> list[Value]:
        """Each neuron's weights and bias, neuron by neuron."""
        return list(self._parameters)

    def forward(self, x: Sequence) -> list[Value]:
        """The neurons' outputs; ValueError if `x` does not have `nin` entries."""
        _check_input(x, self.nin, "Layer")
        return self.outputs(x)

    def outputs(self, x: Sequence) -> list[Value]:
        """`forward` without the length check; neuron j's Values are made in scope `neuron{j}`."""
        return call_in_scopes(self._scopes, [n.affine_activate for n in self.neurons], x)

    def __repr__(self) -> str:
        return f"Layer({self.nin}, {self.nout}, activation={self.activation!r})"


class MLP(Module):
    """Multi-layer perceptron: hidden layers use `activation`, the last layer is linear.

    `MLP(2, [16, 16, 1])` maps 2 inputs to one output Value; with several outputs it returns a
    list. Each layer's seed is drawn from `random.Random(seed)`, so layers differ but a seed
    always gives the same network.
    """

    def __init__(
        self, nin: int, nouts: Sequence[int], activation: str = "relu", seed: int | None = None
    ):
        self.nin = positive_int(nin, "nin")
        self.nouts = _check_widths(nouts)
        self.activation = _check_activation(activation)
        rng = random.Random(seed)
        sizes = [nin, *self.nouts]
        last = len(self.nouts) - 1
        self.layers = [
            Layer(
                sizes[i],
                sizes[i + 1],
                activation="linear" if i == last else activation,
                seed=rng.getrandbits(64),
            )
            for i in range(len(self.nouts))
        ]
        self._parameters = tuple(p for layer in self.layers for p in layer.parameters())
        _label_parameters(self)

    @staticmethod
    def shapes(nin: int, nouts: Sequence[int]) -> dict[str, tuple[int, ...]]:
        """The shape of each of `tensors()`, known before building any Value."""
        sizes = [positive_int(nin, "nin"), *_check_widths(nouts)]
        shapes = {}
        for index in range(len(sizes) - 1):
            for key, shape in Layer.shapes(sizes[index], sizes[index + 1]).items():
                shapes[f"{2 * index}.{key}"] = shape
        return shapes

    def tensors(self) -> dict[str, Any]:
        """`torch.nn.Sequential` names: "0.weight", "0.bias", "2.weight", ... (acts are odd)."""
        tensors = {}
        for index, layer in enumerate(self.layers):
            for key, tensor in layer.tensors().items():
                tensors[f"{2 * index}.{key}"] = tensor
        return tensors

    def parameters(self) -> list[Value]:
        """Every layer's parameters, first layer first."""
        return list(self._parameters)

    def forward(self, x: Sequence) -> Value | list[Value]:
        """The network's output: a Value if the last layer has one neuron, else a list."""
        _check_input(x, self.nin, "MLP")
        # Layer sizes chain by construction, so only the input is checked, once.
        for i, layer in enumerate(self.layers):
            token = enter_scope(f"layer{i}")
            try:
                x = layer.outputs(x)
            finally:
                exit_scope(token)
        return x[0] if len(x) == 1 else x

    def to_torch(self):
        """The equivalent float64 `torch.nn.Sequential(Linear, Act, ..., Linear)` (needs torch)."""
        try:
            import torch
        except ImportError as error:
            raise ImportError("MLP.to_torch() needs PyTorch: pip install torch") from error
        torch_activations = {
            "relu": torch.nn.ReLU,
            "tanh": torch.nn.Tanh,
            "sigmoid": torch.nn.Sigmoid,
            "leaky_relu": torch.nn.LeakyReLU,
            "linear": torch.nn.Identity,  # keeps the activations at the odd indices
        }
        modules = []
        for layer in self.layers:
            modules.append(torch.nn.Linear(layer.nin, layer.nout, dtype=torch.float64))
            if layer is not self.layers[-1]:
                modules.append(torch_activations[self.activation]())
        model = torch.nn.Sequential(*modules)
        state = {
            key: torch.tensor(value, dtype=torch.float64)
            for key, value in self.state_dict().items()
        }
        model.load_state_dict(state, strict=True)
        return model

    def __repr__(self) -> str:
        return f"MLP({self.nin}, {self.nouts}, activation={self.activation!r})"
