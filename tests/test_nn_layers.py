"""Neuron, Layer and MLP: outputs and gradients against torch.nn.Sequential, init, state dicts."""

from __future__ import annotations

import math
import random
import sys

import pytest

from autograd import Value
from nn import MLP, Layer, Module, Neuron
from nn.layers import ACTIVATIONS
from tests.helpers import require

TORCH_ACTIVATIONS = {
    "relu": "ReLU",
    "tanh": "Tanh",
    "sigmoid": "Sigmoid",
    "leaky_relu": "LeakyReLU",
    "linear": "Identity",
}


def _torch_sequential(torch, nin, nouts, activation):
    """The PyTorch network SPEC §2 says an MLP's state_dict describes, built by hand."""
    modules = []
    for index, (fan_in, fan_out) in enumerate(zip([nin, *nouts], nouts, strict=False)):
        modules.append(torch.nn.Linear(fan_in, fan_out, dtype=torch.float64))
        if index < len(nouts) - 1:
            modules.append(getattr(torch.nn, TORCH_ACTIVATIONS[activation])())
    return torch.nn.Sequential(*modules)


def _inputs(nin, count=5, seed=1):
    rng = random.Random(seed)
    return [[rng.uniform(-2, 2) for _ in range(nin)] for _ in range(count)]


def test_activation_table_matches_torch_table():
    assert set(ACTIVATIONS) == set(TORCH_ACTIVATIONS)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("nouts", [[4, 3, 1], [16, 1, 1], [5, 2]])
def test_mlp_matches_torch_sequential_outputs_and_grads(activation, nouts):
    torch = require("torch")
    model = MLP(3, nouts, activation=activation, seed=7)
    reference = _torch_sequential(torch, 3, nouts, activation)
    state = {k: torch.tensor(v, dtype=torch.float64) for k, v in model.state_dict().items()}
    reference.load_state_dict(state, strict=True)

    inputs = _inputs(3)
    outputs = [model(x) for x in inputs]
    expected = reference(torch.tensor(inputs, dtype=torch.float64))
    flat = [o.data for out in outputs for o in ([out] if isinstance(out, Value) else out)]
    assert flat == pytest.approx(expected.flatten().tolist(), rel=1e-12, abs=1e-12)

    # The gradient of a weighted sum of all outputs, parameter by parameter.
    weights = [0.5 + 0.25 * i for i in range(len(flat))]
    total = sum(
        w * o
        for w, o in zip(
            weights,
            [o for out in outputs for o in ([out] if isinstance(out, Value) else out)],
            strict=True,
        )
    )
    total.backward()
    (expected.flatten() * torch.tensor(weights, dtype=torch.float64)).sum().backward()
    for name, p in model.named_parameters():
        key, _, index = name.partition("[")
        torch_grad = reference.get_parameter(key).grad
        for i in index.rstrip("]").split("]["):
            torch_grad = torch_grad[int(i)]
        assert p.grad == pytest.approx(torch_grad.item(), rel=1e-12, abs=1e-12), name


def test_mlp_single_output_returns_value_and_many_return_list():
    assert isinstance(MLP(2, [3, 1], seed=0)([1.0, 2.0]), Value)
    out = MLP(2, [3, 2], seed=0)([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 2


def test_mlp_accepts_value_inputs_and_passes_gradient_to_them():
    model = MLP(2, [3, 1], activation="tanh", seed=0)
    x = [Value(0.3), Value(-0.7)]
    model(x).backward()
    eps = 1e-6
    for i in range(2):
        shifted = [v.data for v in x]
        shifted[i] += eps
        up = model(shifted).data
        shifted[i] -= 2 * eps
        down = model(shifted).data
        assert x[i].grad == pytest.approx((up - down) / (2 * eps), rel=1e-6)


@pytest.mark.parametrize(
    "module, who",
    [
        (MLP(2, [4, 1], seed=0), "MLP"),
        (Layer(2, 4, seed=0), "Layer"),
        (Neuron(2, seed=0), "Neuron"),
    ],
)
@pytest.mark.parametrize("size", [1, 3])
def test_module_wrong_input_length_raises_value_error(module, who, size):
    with pytest.raises(ValueError, match=rf"{who} expects an input of size 2, got size {size}"):
        module([0.5] * size)


def test_mlp_non_sequence_input_raises_type_error():
    with pytest.raises(TypeError, match="list of 1 numbers"):
        MLP(1, [2, 1], seed=0)(3.0)


@pytest.mark.parametrize(
    "make",
    [
        lambda: MLP(0, [1]),
        lambda: MLP(2, []),
        lambda: MLP(2, [3, 0]),
        lambda: MLP(2, [1], activation="gelu"),
        lambda: Layer(2, -1),
    ],
)
def test_module_bad_construction_raises_value_error(make):
    with pytest.raises(ValueError):
        make()


@pytest.mark.parametrize(
    "make", [lambda: Neuron(2.5), lambda: MLP(2, [3, "4"]), lambda: MLP(True, [1])]
)
def test_module_size_of_the_wrong_type_raises_type_error_naming_it(make):
    with pytest.raises(TypeError, match="must be a positive int"):
        make()


def test_layer_returns_list_even_for_one_neuron():
    out = Layer(3, 1, seed=0)([1.0, 2.0, 3.0])
    assert isinstance(out, list) and len(out) == 1


def test_neuron_forward_is_activation_of_affine_sum():
    neuron = Neuron(3, activation="tanh", seed=4)
    neuron.b.data = 0.25
    x = [0.5, -1.0, 2.0]
    expected = math.tanh(sum(w.data * xi for w, xi in zip(neuron.w, x, strict=True)) + 0.25)
    assert neuron(x).data == pytest.approx(expected, rel=1e-15)


def test_mlp_same_seed_same_weights_different_seed_different():
    a, b, c = MLP(3, [4, 4, 1], seed=1), MLP(3, [4, 4, 1], seed=1), MLP(3, [4, 4, 1], seed=2)
    assert a.state_dict() == b.state_dict()
    assert a.state_dict() != c.state_dict()


def test_mlp_layers_get_different_weights_from_one_seed():
    model = MLP(4, [4, 4, 4], seed=3)
    state = model.state_dict()
    assert state["0.weight"] != state["2.weight"] != state["4.weight"]


@pytest.mark.parametrize(
    "activation, variance",
    [
        ("relu", 2 / 400),
        ("leaky_relu", 2 / 400),
        ("linear", 2 / 400),
        ("tanh", 2 / 500),
        ("sigmoid", 2 / 500),
    ],
)
def test_layer_init_is_uniform_with_he_or_xavier_variance(activation, variance):
    layer = Layer(400, 100, activation=activation, seed=0)
    weights = [w for row in layer.state_dict()["weight"] for w in row]
    mean = sum(weights) / len(weights)
    sample_variance = sum((w - mean) ** 2 for w in weights) / len(weights)
    # 40,000 uniform draws: the sample variance is within ~0.5% (one sd) of the truth.
    assert sample_variance == pytest.approx(variance, rel=0.03)
    assert max(abs(w) for w in weights) <= math.sqrt(3 * variance)
    assert layer.state_dict()["bias"] == [0.0] * 100


def test_mlp_state_dict_has_torch_sequential_keys_and_shapes():
    state = MLP(3, [5, 4, 2], seed=0).state_dict()
    assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    assert [len(state["2.weight"]), len(state["2.weight"][0])] == [4, 5]
    assert len(state["4.bias"]) == 2


def test_mlp_parameter_count_equals_torch():
    torch = require("torch")
    model = MLP(3, [5, 4, 2], seed=0)
    expected = sum(p.numel() for p in _torch_sequential(torch, 3, [5, 4, 2], "relu").parameters())
    assert len(model.parameters()) == len(model.named_parameters()) == expected


def test_mlp_to_torch_gives_same_outputs():
    torch = require("torch")
    model = MLP(2, [6, 6, 3], activation="leaky_relu", seed=5)
    reference = model.to_torch()
    assert isinstance(reference, torch.nn.Sequential)
    assert [type(m).__name__ for m in reference] == [
        "Linear",
        "LeakyReLU",
        "Linear",
        "LeakyReLU",
        "Linear",
    ]
    inputs = _inputs(2)
    expected = reference(torch.tensor(inputs, dtype=torch.float64)).tolist()
    for x, row in zip(inputs, expected, strict=True):
        assert [o.data for o in model(x)] == pytest.approx(row, rel=1e-12, abs=1e-12)


def test_mlp_to_torch_without_torch_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    with pytest.raises(ImportError, match="pip install torch"):
        MLP(2, [1], seed=0).to_torch()


def test_module_load_state_dict_round_trips_values():
    source, target = MLP(2, [3, 1], seed=0), MLP(2, [3, 1], seed=1)
    target.load_state_dict(source.state_dict())
    assert target.state_dict() == source.state_dict()
    assert target([0.3, 0.4]).data == source([0.3, 0.4]).data


def test_module_load_state_dict_wrong_keys_raises_naming_them():
    model = MLP(2, [3, 1], seed=0)
    state = model.state_dict()
    state["5.weight"] = state.pop("2.weight")
    with pytest.raises(ValueError, match=r"missing \['2.weight'\], unexpected \['5.weight'\]"):
        model.load_state_dict(state)


def test_module_load_state_dict_wrong_shape_raises_and_changes_nothing():
    model = MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    state = MLP(2, [3, 1], seed=9).state_dict()
    state["0.weight"] = state["0.weight"][:2]
    with pytest.raises(ValueError, match=r"'0.weight'.*shape \[2, 2\], expected \[3, 2\]"):
        model.load_state_dict(state)
    assert model.state_dict() == before


def test_module_load_state_dict_non_number_raises():
    model = Neuron(2, seed=0)
    with pytest.raises(ValueError, match="real number"):
        model.load_state_dict({"weight": [1.0, "x"], "bias": 0.0})


def test_module_named_parameters_names_state_dict_entries_and_labels():
    model = MLP(2, [2, 1], seed=0)
    named = dict(model.named_parameters())
    assert named["2.weight[0][1]"].data == model.state_dict()["2.weight"][0][1]
    assert named["0.bias[1]"].data == model.state_dict()["0.bias"][1]
    assert all(p.label == name for name, p in named.items())


def test_module_zero_grad_resets_every_parameter():
    model = MLP(2, [3, 1], seed=0)
    model([1.0, -1.0]).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_module_subclass_gets_parameters_from_tensors():
    class Scale(Module):
        def __init__(self):
            self.k = Value(2.0)

        def tensors(self):
            return {"k": self.k}

        def forward(self, x):
            return self.k * x

    model = Scale()
    assert model(3.0).data == 6.0
    assert model.parameters() == [model.k]
    model.load_state_dict({"k": 5.0})
    assert model.state_dict() == {"k": 5.0}


@pytest.mark.parametrize(
    "model",
    [MLP(3, [4, 2], seed=0), Layer(3, 2, seed=0), Neuron(3, seed=0)],
    ids=["MLP", "Layer", "Neuron"],
)
def test_module_named_parameters_lists_the_values_of_parameters_in_its_order(model):
    named = model.named_parameters()
    assert [id(p) for _, p in named] == [id(p) for p in model.parameters()]
    assert len({name for name, _ in named}) == len(named)  # each name once


@pytest.mark.parametrize(
    ("cls", "arguments"),
    [(MLP, {"nin": 3, "nouts": [4, 2]}), (Layer, {"nin": 3, "nout": 2}), (Neuron, {"nin": 3})],
)
def test_module_shapes_are_the_shapes_of_its_state_dict(cls, arguments):
    from nn.module import shape_of

    state = cls(**arguments, seed=0).state_dict()
    assert cls.shapes(**arguments) == {key: shape_of(value, key) for key, value in state.items()}
