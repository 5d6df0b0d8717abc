"""Optimizers (SGD, Adagrad, RMSprop, Adam) and learning-rate schedulers, as in `torch.optim`.

Each update rule is PyTorch's, in its order of operations, so N steps here and in PyTorch give
the same weights to rounding (PyTorch's CPU kernels fuse multiply-adds, which Python cannot);
`opt.lr` is the learning rate a scheduler changes.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

from autograd import Value
from autograd.files import positive_int


def _nonnegative(name: str, number: Any) -> float:
    """`number` as a float if it is a number >= 0 (not nan, not a bool); else ValueError."""
    if isinstance(number, bool) or not isinstance(number, numbers.Real) or not number >= 0:
        raise ValueError(f"{name} must be a number >= 0, got {number!r:.40}")
    try:
        return float(number)
    except OverflowError:  # an int of hundreds of digits, as JSON allows
        raise ValueError(f"{name} is {number!r:.20}..., too large for a float") from None


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r:.40}")
    return value


def _betas(name: str, betas: Any) -> tuple[float, float]:
    """Two coefficients in [0, 1), as torch.optim.Adam checks them."""
    if isinstance(betas, (str, bytes)) or not isinstance(betas, (list, tuple)) or len(betas) != 2:
        raise ValueError(f"{name} must be a pair (beta1, beta2), got {betas!r:.40}")
    for index, beta in enumerate(betas):
        if not 0.0 <= _nonnegative(f"{name}[{index}]", beta) < 1.0:
            raise ValueError(f"{name}[{index}] must be in [0, 1), got {beta!r}")
    return float(betas[0]), float(betas[1])


def _step_count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be an int >= 0, got {value!r:.40}")
    return value


def _divide(numerator: float, denominator: float) -> float:
    """numerator / denominator with IEEE 754's answer where Python raises, as PyTorch gives it.

    x / 0 is +-inf and 0 / 0 is nan, so an update is a number (maybe nan) and never an error
    halfway through a step.
    """
    try:
        return numerator / denominator
    except ZeroDivisionError:
        if numerator == 0 or math.isnan(numerator):
            return math.nan
        return math.copysign(math.inf, numerator) * math.copysign(1.0, denominator)


def _sqrt(x: float) -> float:
    """math.sqrt, but nan for a negative number (as torch.sqrt) instead of an error.

    A running mean of squares goes negative with RMSprop's alpha > 1 or a loaded state.
    """
    return math.sqrt(x) if x >= 0 else math.nan


class Optimizer:
    """Base class: updates the `.data` of `params` from their `.grad` on each `step()`.

    A subclass lists its `hyperparameters` (name -> the check torch.optim applies to it) and
    per-parameter `buffers` (lists of floats; those in `lazy_buffers` are None before the first
    step); `state_dict()` saves both, plus `lr` and the step count. A step computes every new
    number before it changes any, so it is all or nothing.
    """

    hyperparameters: dict[str, Callable[[str, Any], Any]] = {}
    buffers: tuple[str, ...] = ()
    lazy_buffers: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Value], lr: float, **settings: Any):
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        for index, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(
                    f"{type(self).__name__} params must be Values, got {type(p).__name__} at "
                    f"index {index}; pass model.parameters()"
                )
        for name, value in self.check_settings({"lr": lr, **settings}).items():
            setattr(self, name, value)
        self.steps = 0

    @classmethod
    def check_settings(cls, settings: dict[str, Any]) -> dict[str, Any]:
        """lr and the hyperparameters, converted and checked as torch.optim checks them."""
        checks = {"lr": _nonnegative, **cls.hyperparameters}
        return {
            name: check(f"{cls.__name__} {name}", settings[name]) for name, check in checks.items()
        }

    def zero_grad(self) -> None:
        """Set every parameter's `.grad` to 0.0."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Update every parameter once from its current `.grad`."""
        raise NotImplementedError(f"{type(self).__name__} must define step()")

    def _zeros(self) -> list[float]:
        return [0.0] * len(self.params)

    def _gradients(self, weight_decay: float) -> list[float]:
        # L2 weight decay is added to the gradient before any momentum, as in PyTorch.
        if weight_decay:
            return [p.grad + weight_decay * p.data for p in self.params]
        return [p.grad for p in self.params]

    def _commit(self, data: list[float], **buffers: list[float]) -> None:
        """Write a step's results, computed in full beforehand, and count the step."""
        for p, number in zip(self.params, data, strict=True):
            p.data = number
        for name, buffer in buffers.items():
            setattr(self, name, buffer)
        self.steps += 1

    def state_dict(self) -> dict[str, Any]:
        """Type, lr, hyperparameters, step count and buffers, as JSON-ready numbers and lists."""
        state: dict[str, Any] = {"type": type(self).__name__, "lr": self.lr, "step": self.steps}
        for name in self.hyperparameters:
            value = getattr(self, name)
            state[name] = list(value) if isinstance(value, tuple) else value
        for name in self.buffers:
            buffer = getattr(self, name)
            state[name] = None if buffer is None else list(buffer)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what `state_dict()` saved; ValueError saying what is wrong, changing nothing.

        Every entry is checked (type, lr and hyperparameters as the constructor checks them, the
        step count, each buffer's length and numbers) before any is set.
        """
        name = type(self).__name__
        if not isinstance(state, dict) or state.get("type") != name:
            found = state.get("type") if isinstance(state, dict) else type(state).__name__
            raise ValueError(f"this state_dict is for {found!r}, not {name}")
        keys = ("lr", "step", *self.hyperparameters, *self.buffers)
        missing = [key for key in keys if key not in state]
        if missing:
            raise ValueError(f"{name} state_dict is missing {missing}")
        settings = self.check_settings(state)
        steps = _step_count(f"{name} state_dict['step']", state["step"])
        buffers = {key: self._checked_buffer(key, state[key]) for key in self.buffers}
        for key, value in {**settings, **buffers, "steps": steps}.items():
            setattr(self, key, value)

    def _checked_buffer(self, key: str, buffer: Any) -> list[float] | None:
        """A saved buffer as a new list of floats (or None); ValueError if it is not one."""
        where = f"{type(self).__name__} state_dict[{key!r}]"
        if buffer is None and key in self.lazy_buffers:
            return None
        if not isinstance(buffer, list):
            raise ValueError(f"{where} must be a list of numbers, got {buffer!r:.40}")
        if len(buffer) != len(self.params):
            raise ValueError(
                f"{where} has {len(buffer)} entries, this optimizer has {len(self.params)} "
                "parameters"
            )
        if any(isinstance(x, bool) or not isinstance(x, (int, float)) for x in buffer):
            raise ValueError(f"{where} holds non-numbers")
        try:
            return [float(x) for x in buffer]
        except OverflowError:
            raise ValueError(f"{where} holds a number too large for a float") from None

    def __repr__(self) -> str:
        settings = ", ".join(f"{n}={getattr(self, n)!r}" for n in ("lr", *self.hyperparameters))
        return f"{type(self).__name__}({len(self.params)} params, {settings})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum and L2 weight decay.

    As torch.optim.SGD with dampening 0: the momentum buffer starts as the first gradient,
    then buf = momentum * buf + g; the step uses buf, or g + momentum * buf with Nesterov.
    """

    hyperparameters = {"momentum": _nonnegative, "nesterov": _flag, "weight_decay": _nonnegative}
    buffers = lazy_buffers = ("momentum_buffer",)

    def __init__(
        self,
        params: Iterable[Value],
        lr: float,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ):
        super().__init__(
            params, lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay
        )
        self.momentum_buffer: list[float] | None = None

    @classmethod
    def check_settings(cls, settings: dict[str, Any]) -> dict[str, Any]:
        """As `Optimizer.check_settings`, and Nesterov needs momentum (as in PyTorch)."""
        checked = super().check_settings(settings)
        if checked["nesterov"] and not checked["momentum"]:
            raise ValueError("SGD(nesterov=True) needs momentum > 0")
        return checked

    def step(self) -> None:
        """p -= lr * (g, or the momentum buffer, or g + momentum * buffer with Nesterov)."""
        lr, momentum = self.lr, self.momentum
        directions = grads = self._gradients(self.weight_decay)
        if not momentum:
            self._commit([p.data - lr * g for p, g in zip(self.params, grads, strict=True)])
            return
        if self.momentum_buffer is None:
            buffer = grads[:]
        else:
            buffer = [b * momentum + g for b, g in zip(self.momentum_buffer, grads, strict=True)]
        if self.nesterov:
            directions = [g + momentum * b for g, b in zip(grads, buffer, strict=True)]
        else:
            directions = buffer
        data = [p.data - lr * d for p, d in zip(self.params, directions, strict=True)]
        self._commit(data, momentum_buffer=buffer)


class Adagrad(Optimizer):
    """Adagrad as torch.optim.Adagrad (lr_decay 0, initial accumulator 0).

    sum += g * g; p -= lr * g / (sqrt(sum) + eps).
    """

    hyperparameters = {"eps": _nonnegative, "weight_decay": _nonnegative}
    buffers = ("sum",)

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 0.01,
        eps: float = 1e-10,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, lr, eps=eps, weight_decay=weight_decay)
        self.sum = self._zeros()

    def step(self) -> None:
        """Accumulate squared gradients and scale each step by their root."""
        lr, eps = self.lr, self.eps
        grads = self._gradients(self.weight_decay)
        sums = [s + g * g for s, g in zip(self.sum, grads, strict=True)]
        data = [
            p.data - lr * _divide(g, _sqrt(s) + eps)
            for p, g, s in zip(self.params, grads, sums, strict=True)
        ]
        self._commit(data, sum=sums)


class RMSprop(Optimizer):
    """RMSprop as torch.optim.RMSprop (not centered).

    square_avg = alpha * square_avg + (1 - alpha) * g * g; avg = sqrt(square_avg) + eps;
    p -= lr * g / avg, or with momentum buf = momentum * buf + g / avg; p -= lr * buf.
    alpha > 1 is accepted, as PyTorch accepts it; a negative square_avg gives nan, as there.
    """

    hyperparameters = {
        "alpha": _nonnegative,
        "eps": _nonnegative,
        "momentum": _nonnegative,
        "weight_decay": _nonnegative,
    }
    buffers = ("square_avg", "momentum_buffer")

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ):
        super().__init__(
            params, lr, alpha=alpha, eps=eps, momentum=momentum, weight_decay=weight_decay
        )
        self.square_avg = self._zeros()
        self.momentum_buffer = self._zeros()

    def step(self) -> None:
        """Divide each gradient by the root of its running mean square."""
        lr, alpha, eps, momentum = self.lr, self.alpha, self.eps, self.momentum
        grads = self._gradients(self.weight_decay)
        square_avg = [
            a * alpha + (1 - alpha) * g * g for a, g in zip(self.square_avg, grads, strict=True)
        ]
        scaled = [_divide(g, _sqrt(a) + eps) for g, a in zip(grads, square_avg, strict=True)]
        if momentum:
            buffer = [b * momentum + s for b, s in zip(self.momentum_buffer, scaled, strict=True)]
            data = [p.data - lr * b for p, b in zip(self.params, buffer, strict=True)]
            self._commit(data, square_avg=square_avg, momentum_buffer=buffer)
        else:
            data = [p.data - lr * s for p, s in zip(self.params, scaled, strict=True)]
            self._commit(data, square_avg=square_avg)


class Adam(Optimizer):
    """Adam as torch.optim.Adam, with L2 weight decay added to the gradient (not AdamW).

    m = beta1 m + (1 - beta1) g; v = beta2 v + (1 - beta2) g g;
    p -= lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps).
    """

    hyperparameters = {"betas": _betas, "eps": _nonnegative, "weight_decay": _nonnegative}
    buffers = ("exp_avg", "exp_avg_sq")

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, lr, betas=betas, eps=eps, weight_decay=weight_decay)
        self.exp_avg = self._zeros()
        self.exp_avg_sq = self._zeros()

    def step(self) -> None:
        """One bias-corrected Adam update."""
        beta1, beta2 = self.betas
        t = self.steps + 1
        step_size = self.lr / (1 - beta1**t)
        bias_correction2_sqrt = math.sqrt(1 - beta2**t)
        eps = self.eps
        grads = self._gradients(self.weight_decay)
        # m + (1 - beta1) (g - m) is how PyTorch writes beta1 m + (1 - beta1) g (lerp).
        exp_avg = [m + (1 - beta1) * (g - m) for m, g in zip(self.exp_avg, grads, strict=True)]
        exp_avg_sq = [
            v * beta2 + (1 - beta2) * g * g for v, g in zip(self.exp_avg_sq, grads, strict=True)
        ]
        data = [
            p.data - step_size * _divide(m, _sqrt(v) / bias_correction2_sqrt + eps)
            for p, m, v in zip(self.params, exp_avg, exp_avg_sq, strict=True)
        ]
        self._commit(data, exp_avg=exp_avg, exp_avg_sq=exp_avg_sq)


class LRScheduler:
    """Base class: `step()` after each `optimizer.step()` sets `optimizer.lr` for the next one."""

    def __init__(self, optimizer: Optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__} wraps an nn.optim optimizer, got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.last_epoch = 0

    def next_lr(self) -> float:
        """The learning rate for `last_epoch` (a subclass overrides)."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and set the optimizer's lr."""
        self.last_epoch += 1
        self.optimizer.lr = self.next_lr()

    def get_last_lr(self) -> float:
        """The learning rate the last `step()` set (a float: one lr per optimizer here)."""
        return self.optimizer.lr

    def state_dict(self) -> dict[str, Any]:
        """base_lr and last_epoch, enough to resume."""
        return {"type": type(self).__name__, "base_lr": self.base_lr, "last_epoch": self.last_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what `state_dict()` saved; ValueError saying what is wrong, changing nothing."""
        name = type(self).__name__
        if not isinstance(state, dict) or state.get("type") != name:
            raise ValueError(f"not a {name} state_dict: {state!r:.80}")
        missing = [key for key in ("base_lr", "last_epoch") if key not in state]
        if missing:
            raise ValueError(f"{name} state_dict is missing {missing}")
        base_lr = _nonnegative(f"{name} state_dict['base_lr']", state["base_lr"])
        last_epoch = _step_count(f"{name} state_dict['last_epoch']", state["last_epoch"])
        self.base_lr, self.last_epoch = base_lr, last_epoch


class StepLR(LRScheduler):
    """Multiply the lr by `gamma` every `step_size` epochs (torch.optim.lr_scheduler.StepLR)."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1):
        super().__init__(optimizer)
        self.step_size = positive_int(step_size, "StepLR step_size")
        self.gamma = _nonnegative(f"{type(self).__name__} gamma", gamma)

    def next_lr(self) -> float:
        """lr * gamma at multiples of step_size, else unchanged (PyTorch's recursive form)."""
        if self.last_epoch % self.step_size == 0:
            return self.optimizer.lr * self.gamma
        return self.optimizer.lr


class ExponentialLR(LRScheduler):
    """Multiply the lr by `gamma` every epoch (torch.optim.lr_scheduler.ExponentialLR)."""

    def __init__(self, optimizer: Optimizer, gamma: float):
        super().__init__(optimizer)
        self.gamma = _nonnegative(f"{type(self).__name__} gamma", gamma)

    def next_lr(self) -> float:
        """lr * gamma (PyTorch's recursive form)."""
        return self.optimizer.lr * self.gamma


class CosineLR(LRScheduler):
    """Cosine annealing from the initial lr to `eta_min` over `T_max` epochs.

    lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2, the closed form of
    torch.optim.lr_scheduler.CosineAnnealingLR (past T_max it rises again, as PyTorch's does).
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0):  # noqa: N803
        super().__init__(optimizer)
        self.T_max = positive_int(T_max, "CosineLR T_max")
        self.eta_min = _nonnegative("CosineLR eta_min", eta_min)

    def next_lr(self) -> float:
        """The closed-form cosine lr at `last_epoch`."""
        cosine = 1 + math.cos(math.pi * self.last_epoch / self.T_max)
        return self.eta_min + (self.base_lr - self.eta_min) * cosine / 2
