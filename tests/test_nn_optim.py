"""Optimizers and lr schedulers, run step for step beside torch.optim on the same problem."""

from __future__ import annotations

import json
import math
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


def _two_steps_on_zero_and_unit_gradients(make_ours, make_torch):
    """Both optimizers on weights [1, 2] with gradients [0, 1], twice: (ours, torch's) weights."""
    from autograd import Value

    ours = [Value(1.0), Value(2.0)]
    theirs = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    optimizer, torch_optimizer = make_ours(ours), make_torch([theirs])
    for _ in range(2):
        ours[0].grad, ours[1].grad = 0.0, 1.0
        theirs.grad = torch.tensor([0.0, 1.0], dtype=torch.float64)
        optimizer.step()
        torch_optimizer.step()
    assert optimizer.steps == 2
    return [p.data for p in ours], theirs.detach().tolist()


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("Adam", {"eps": 0.0}),
        ("Adagrad", {"eps": 0.0}),
        ("RMSprop", {"eps": 0.0}),
        ("RMSprop", {"alpha": 2.0}),
        ("RMSprop", {"eps": 0.0, "momentum": 0.5}),
    ],
)
def test_optimizer_degenerate_step_gives_torchs_nan_not_an_error(name, kwargs):
    import nn.optim

    ours, theirs = _two_steps_on_zero_and_unit_gradients(
        lambda p: getattr(nn.optim, name)(p, lr=0.1, **kwargs),
        lambda p: getattr(torch.optim, name)(p, lr=0.1, **kwargs),
    )
    assert any(x != x for x in theirs)  # the case really is degenerate
    assert ours == pytest.approx(theirs, rel=1e-12, nan_ok=True)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("SGD", {"lr": -0.1}),
        ("SGD", {"lr": 0.0}),
        ("SGD", {"lr": 0.1, "momentum": -0.5}),
        ("SGD", {"lr": 0.1, "weight_decay": -1.0}),
        ("SGD", {"lr": 0.1, "nesterov": True}),
        ("Adam", {"lr": math.nan}),
        ("Adam", {"eps": -1e-8}),
        ("Adam", {"eps": 0.0}),
        ("Adam", {"betas": (1.0, 0.999)}),
        ("Adam", {"betas": (0.9, -0.1)}),
        ("Adam", {"betas": (0.0, 0.0)}),
        ("Adagrad", {"eps": -1.0}),
        ("Adagrad", {"weight_decay": -0.1}),
        ("RMSprop", {"alpha": -0.1}),
        ("RMSprop", {"alpha": 2.0}),
        ("RMSprop", {"momentum": -1.0}),
        ("RMSprop", {"lr": math.inf}),
    ],
)
def test_optimizer_accepts_and_refuses_the_hyperparameters_torch_does(name, kwargs):
    import nn.optim
    from autograd import Value

    def outcome(make):
        try:
            make()
        except ValueError:
            return "refused"
        return "accepted"

    theirs = outcome(
        lambda: getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)], **kwargs)
    )
    ours = outcome(lambda: getattr(nn.optim, name)([Value(0.0)], **kwargs))
    assert ours == theirs


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("momentum", "abc", "momentum must be a number"),
        ("nesterov", "yes", "nesterov must be True or False"),
        ("lr", -1.0, "lr must be a number >= 0"),
        ("lr", 10**400, "too large for a float"),
        ("step", math.inf, "must be an int >= 0"),
        ("step", -1, "must be an int >= 0"),
        ("momentum_buffer", 5, "must be a list of numbers"),
        ("momentum_buffer", [1.0], "has 1 entries"),
        ("type", "Adam", "for 'Adam', not SGD"),
    ],
)
def test_sgd_load_state_dict_checks_everything_and_changes_nothing(key, value, message):
    model = MLP(2, [3, 1], seed=0)
    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
    optimizer.zero_grad()
    mse_loss([model(x) for x in X], Y).backward()
    optimizer.step()
    before = optimizer.state_dict()
    with pytest.raises(ValueError, match=message):
        optimizer.load_state_dict({**before, key: value})
    assert optimizer.state_dict() == before


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("betas", [0.9], "pair"),
        ("betas", [0.9, 1.5], r"betas\[1\] must be in \[0, 1\)"),
        ("exp_avg", 5, "must be a list of numbers"),
        ("exp_avg_sq", ["x"] * 9, "non-numbers"),
        ("eps", None, "eps must be a number"),
    ],
)
def test_adam_load_state_dict_checks_everything_and_changes_nothing(key, value, message):
    model = MLP(2, [2, 1], seed=0)
    optimizer = Adam(model.parameters())
    before = optimizer.state_dict()
    with pytest.raises(ValueError, match=message):
        optimizer.load_state_dict({**before, key: value})
    assert optimizer.state_dict() == before


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda state: {k: v for k, v in state.items() if k != "base_lr"}, "missing"),
        (lambda state: {**state, "last_epoch": "3"}, "last_epoch"),
        (lambda state: {**state, "last_epoch": math.inf}, "last_epoch"),
        (lambda state: {**state, "base_lr": -1.0}, "base_lr"),
    ],
)
def test_scheduler_load_state_dict_checks_everything_and_changes_nothing(name, edit, message):
    ours_class, _, kwargs = SCHEDULERS[name]
    scheduler = ours_class(SGD(MLP(2, [1], seed=0).parameters(), lr=0.1), **kwargs)
    scheduler.step()
    before = scheduler.state_dict()
    with pytest.raises(ValueError, match=message):
        scheduler.load_state_dict(edit(before))
    assert scheduler.state_dict() == before


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_step_that_fails_midway_changes_nothing(name):
    ours_class, _, kwargs = OPTIMIZERS[name]
    model, _ = _pair_of_models()
    optimizer = ours_class(model.parameters(), **kwargs)
    _our_step(model, optimizer)
    weights, state = model.state_dict(), optimizer.state_dict()
    mse_loss([model(x) for x in X], Y).backward()
    model.parameters()[-1].grad = "not a number"  # the last parameter fails, after the others
    with pytest.raises(TypeError):
        optimizer.step()
    assert model.state_dict() == weights
    assert optimizer.state_dict() == state


@pytest.mark.parametrize(
    ("make", "key"),
    [
        (Adagrad, "sum"),
        (RMSprop, "square_avg"),
        (lambda p: RMSprop(p, momentum=0.9), "momentum_buffer"),
        (Adam, "exp_avg"),
        (Adam, "exp_avg_sq"),
    ],
)
def test_optimizer_load_state_dict_refuses_none_for_a_buffer_step_needs(make, key):
    # None was taken and step() then raised TypeError: only SGD's momentum buffer starts as None.
    optimizer = make(MLP(2, [2, 1], seed=0).parameters())
    before = optimizer.state_dict()
    with pytest.raises(ValueError, match="must be a list of numbers"):
        optimizer.load_state_dict({**before, key: None})
    assert optimizer.state_dict() == before


def test_sgd_load_state_dict_takes_the_momentum_buffer_of_no_step_yet():
    fresh, loaded = (MLP(2, [2, 1], seed=0) for _ in range(2))
    first = SGD(fresh.parameters(), lr=0.1, momentum=0.9)
    second = SGD(loaded.parameters(), lr=0.1, momentum=0.9)
    second.load_state_dict(first.state_dict())
    for model, optimizer in ((fresh, first), (loaded, second)):
        optimizer.zero_grad()
        mse_loss([model(x) for x in X], Y).backward()
        optimizer.step()
    assert loaded.state_dict() == fresh.state_dict()


@pytest.mark.parametrize(("name", "buffer"), [("Adam", "exp_avg_sq"), ("Adagrad", "sum")])
def test_optimizer_negative_loaded_square_buffer_gives_torchs_nan_not_an_error(name, buffer):
    # math.sqrt raised "math domain error" where torch.sqrt gives nan (RMSprop already did).
    import nn.optim
    from autograd import Value

    ours = [Value(1.0)]
    optimizer = getattr(nn.optim, name)(ours, lr=0.1)
    optimizer.load_state_dict({**optimizer.state_dict(), buffer: [-4.0]})
    theirs = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    torch_optimizer = getattr(torch.optim, name)([theirs], lr=0.1)
    theirs.grad = torch.zeros(1, dtype=torch.float64)
    torch_optimizer.step()  # creates the state, moves nothing
    state = torch_optimizer.state_dict()
    state["state"][0][buffer] = torch.tensor([-4.0], dtype=torch.float64)
    state["state"][0]["step"] = torch.tensor(0.0)
    torch_optimizer.load_state_dict(state)
    ours[0].grad, theirs.grad = 0.5, torch.tensor([0.5], dtype=torch.float64)
    optimizer.step()
    torch_optimizer.step()
    assert math.isnan(theirs.item()) and math.isnan(ours[0].data)
