"""Optimizers and lr schedulers, run step for step beside torch.optim on the same problem."""

from __future__ import annotations

import json
import random

import pytest

from nn import MLP, mse_loss
from nn.optim import (
    SGD,
    Adagrad,
    Adam,
    CosineLR,
    ExponentialLR,
    RMSprop,
    StepLR,
)
from tests.helpers import require

torch = require("torch")

STEPS = 25
RNG = random.Random(3)
X = [[RNG.uniform(-1, 1), RNG.uniform(-1, 1)] for _ in range(12)]
Y = [RNG.uniform(-1, 1) for _ in range(12)]

# (ours, torch's class, keyword arguments both take)
OPTIMIZERS = {
    "sgd": (SGD, "SGD", {"lr": 0.1}),
    "sgd_momentum": (SGD, "SGD", {"lr": 0.05, "momentum": 0.9}),
    "sgd_nesterov_decay": (
        SGD,
        "SGD",
        {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01},
    ),
    "sgd_weight_decay": (SGD, "SGD", {"lr": 0.1, "weight_decay": 0.05}),
    "adagrad": (Adagrad, "Adagrad", {"lr": 0.1}),
    "adagrad_decay": (Adagrad, "Adagrad", {"lr": 0.1, "eps": 1e-6, "weight_decay": 0.01}),
    "rmsprop": (RMSprop, "RMSprop", {"lr": 0.01}),
    "rmsprop_momentum_decay": (
        RMSprop,
        "RMSprop",
        {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "weight_decay": 0.01},
    ),
    "adam": (Adam, "Adam", {"lr": 0.01}),
    "adam_decay_betas": (
        Adam,
        "Adam",
        {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.01},
    ),
}

SCHEDULERS = {
    "step": (StepLR, "StepLR", {"step_size": 4, "gamma": 0.5}),
    "exponential": (ExponentialLR, "ExponentialLR", {"gamma": 0.9}),
    "cosine": (CosineLR, "CosineAnnealingLR", {"T_max": 8, "eta_min": 0.001}),
}


def _pair_of_models(seed=0):
    model = MLP(2, [4, 3, 1], activation="tanh", seed=seed)
    return model, model.to_torch()


def _our_step(model, optimizer):
    optimizer.zero_grad()
    mse_loss([model(x) for x in X], Y).backward()
    optimizer.step()


def _torch_step(reference, optimizer):
    optimizer.zero_grad()
    prediction = reference(torch.tensor(X, dtype=torch.float64)).flatten()
    torch.nn.functional.mse_loss(prediction, torch.tensor(Y, dtype=torch.float64)).backward()
    optimizer.step()


def _assert_same_weights(model, reference):
    for key, tensor in reference.state_dict().items():
        ours = model.state_dict()[key]
        flat = [x for row in ours for x in row] if isinstance(ours[0], list) else ours
        assert flat == pytest.approx(tensor.flatten().tolist(), rel=1e-9, abs=1e-12), key


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_matches_torch_for_many_steps(name):
    ours_class, torch_name, kwargs = OPTIMIZERS[name]
    model, reference = _pair_of_models()
    optimizer = ours_class(model.parameters(), **kwargs)
    torch_optimizer = getattr(torch.optim, torch_name)(reference.parameters(), **kwargs)
    start = model.state_dict()
    for _ in range(STEPS):
        _our_step(model, optimizer)
        _torch_step(reference, torch_optimizer)
    assert model.state_dict() != start
    _assert_same_weights(model, reference)


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_scheduler_lr_sequence_and_weights_match_torch(name):
    ours_class, torch_name, kwargs = SCHEDULERS[name]
    model, reference = _pair_of_models()
    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.5)
    torch_optimizer = torch.optim.SGD(reference.parameters(), lr=0.1, momentum=0.5)
    scheduler = ours_class(optimizer, **kwargs)
    torch_scheduler = getattr(torch.optim.lr_scheduler, torch_name)(torch_optimizer, **kwargs)
    ours_lrs, torch_lrs = [], []
    for _ in range(STEPS):  # past 2 * T_max, where the cosine turns back up
        _our_step(model, optimizer)
        _torch_step(reference, torch_optimizer)
        scheduler.step()
        torch_scheduler.step()
        ours_lrs.append(optimizer.lr)
        torch_lrs.append(torch_scheduler.get_last_lr()[0])
        assert scheduler.get_last_lr() == optimizer.lr
    assert len(set(ours_lrs)) > 3
    assert ours_lrs == pytest.approx(torch_lrs, rel=1e-12, abs=1e-15)
    _assert_same_weights(model, reference)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_state_dict_resumes_exactly(name):
    ours_class, _, kwargs = OPTIMIZERS[name]
    straight, _ = _pair_of_models()
    resumed, _ = _pair_of_models()
    optimizer = ours_class(straight.parameters(), **kwargs)
    for _ in range(5):
        _our_step(straight, optimizer)
    resumed.load_state_dict(straight.state_dict())
    saved = json.loads(json.dumps(optimizer.state_dict()))  # must survive JSON
    fresh = ours_class(resumed.parameters(), lr=1.0)
    fresh.load_state_dict(saved)
    for _ in range(5):
        _our_step(straight, optimizer)
        _our_step(resumed, fresh)
    assert resumed.state_dict() == straight.state_dict()


def test_optimizer_load_state_dict_rejects_other_type_and_size():
    model, _ = _pair_of_models()
    adam = Adam(model.parameters())
    with pytest.raises(ValueError, match="state_dict is for 'SGD', not Adam"):
        adam.load_state_dict(SGD(model.parameters(), lr=0.1).state_dict())
    small = Adam(model.parameters()[:3]).state_dict()
    with pytest.raises(ValueError, match=r"\['exp_avg'\] has 3 entries"):
        adam.load_state_dict(small)


@pytest.mark.parametrize(
    "make",
    [
        lambda p: SGD(p, lr=-0.1),
        lambda p: SGD(p, lr=0.1, nesterov=True),
        lambda p: SGD([], lr=0.1),
        lambda p: Adam(p, betas=(1.0, 0.999)),
        lambda p: RMSprop(p, eps=-1.0),
    ],
)
def test_optimizer_bad_hyperparameters_raise_value_error(make):
    with pytest.raises(ValueError):
        make(MLP(2, [1], seed=0).parameters())


def test_optimizer_rejects_non_value_params():
    with pytest.raises(TypeError, match="pass model.parameters"):
        SGD([1.0], lr=0.1)


def test_optimizer_zero_grad_clears_grads():
    model, _ = _pair_of_models()
    optimizer = SGD(model.parameters(), lr=0.1)
    model([0.1, 0.2]).backward()
    optimizer.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_sgd_step_is_hand_formula():
    model = MLP(1, [1], seed=0)
    w, b = model.parameters()
    w.grad, b.grad = 2.0, -1.0
    w0, b0 = w.data, b.data
    SGD(model.parameters(), lr=0.5).step()
    assert (w.data, b.data) == (w0 - 1.0, b0 + 0.5)


def test_optimizer_failed_load_state_dict_changes_nothing():
    from nn import MLP
    from nn.optim import Adam

    model = MLP(2, [3, 1], seed=0)
    optimizer = Adam(model.parameters())
    optimizer.lr = 0.5
    state = optimizer.state_dict()
    state["lr"] = 0.001
    state["exp_avg"] = ["not a number"] * len(model.parameters())
    before = optimizer.state_dict()
    with pytest.raises(ValueError, match="exp_avg"):
        optimizer.load_state_dict(state)
    assert optimizer.state_dict() == before
