"""Optimizers (SGD, Adagrad, RMSprop, Adam) and learning-rate schedulers, as in `torch.optim`.

Each update rule is PyTorch's, operation for operation, so N steps here and in PyTorch give the
same weights; `opt.lr` is the learning rate a scheduler changes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from autograd import Value


def _check_nonnegative(name: str, number: float) -> float:
    if isinstance(number, bool) or not isinstance(number, (int, float)) or not number >= 0:
        raise ValueError(f"{name} must be a number >= 0, got {number!r}")
    return float(number)


class Optimizer:
    """Base class: updates the `.data` of `params` from their `.grad` on each `step()`.

    A subclass lists its `hyperparameters` and per-parameter `buffers` (lists of floats, or
    None before the first step); `state_dict()` saves both, plus `lr` and the step count.
    """

    hyperparameters: tuple[str, ...] = ()
    buffers: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Value], lr: float):
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        for index, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(
                    f"{type(self).__name__} params must be Values, got {type(p).__name__} at "
                    f"index {index}; pass model.parameters()"
                )
        self.lr = _check_nonnegative("lr", lr)
        self.steps = 0

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
        """Restore what `state_dict()` saved; ValueError if it is for another optimizer or size."""
        name = type(self).__name__
        if not isinstance(state, dict) or state.get("type") != name:
            found = state.get("type") if isinstance(state, dict) else type(state).__name__
            raise ValueError(f"this state_dict is for {found!r}, not {name}")
        keys = ("lr", "step", *self.hyperparameters, *self.buffers)
        missing = [key for key in keys if key not in state]
        if missing:
            raise ValueError(f"{name} state_dict is missing {missing}")
        # Convert and check everything first, so that a bad state_dict changes nothing.
        buffers = {}
        for key in self.buffers:
            buffer = state[key]
            if buffer is not None and len(buffer) != len(self.params):
                raise ValueError(
                    f"{name} state_dict[{key!r}] has {len(buffer)} entries, "
                    f"this optimizer has {len(self.params)} parameters"
                )
            try:
                buffers[key] = None if buffer is None else [float(x) for x in buffer]
            except (TypeError, ValueError):
                raise ValueError(f"{name} state_dict[{key!r}] holds non-numbers") from None
        lr = _check_nonnegative("lr", state["lr"])
        try:
            steps = int(state["step"])
        except (TypeError, ValueError):
            raise ValueError(
                f"{name} state_dict['step'] is {state['step']!r}, not an int"
            ) from None
        self.lr, self.steps = lr, steps
        for key in self.hyperparameters:
            value = state[key]
            setattr(self, key, tuple(value) if isinstance(value, list) else value)
        for key, buffer in buffers.items():
            setattr(self, key, buffer)

    def __repr__(self) -> str:
        settings = ", ".join(f"{n}={getattr(self, n)!r}" for n in ("lr", *self.hyperparameters))
        return f"{type(self).__name__}({len(self.params)} params, {settings})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum and L2 weight decay.

    As torch.optim.SGD with dampening 0: the momentum buffer starts as the first gradient,
    then buf = momentum * buf + g; the step uses buf, or g + momentum * buf with Nesterov.
    """

    hyperparameters = ("momentum", "nesterov", "weight_decay")
    buffers = ("momentum_buffer",)

    def __init__(
        self,
        params: Iterable[Value],
        lr: float,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, lr)
        self.momentum = _check_nonnegative("momentum", momentum)
        self.nesterov = bool(nesterov)
        self.weight_decay = _check_nonnegative("weight_decay", weight_decay)
        if self.nesterov and not self.momentum:
            raise ValueError("SGD(nesterov=True) needs momentum > 0")
        self.momentum_buffer: list[float] | None = None

    def step(self) -> None:
        """p -= lr * (g, or the momentum buffer, or g + momentum * buffer with Nesterov)."""
        self.steps += 1
        lr, momentum = self.lr, self.momentum
        grads = self._gradients(self.weight_decay)
        if momentum:
            if self.momentum_buffer is None:
                self.momentum_buffer = grads[:]
            else:
                buffer = self.momentum_buffer
                for i, g in enumerate(grads):
                    buffer[i] = buffer[i] * momentum + g
            if self.nesterov:
                grads = [g + momentum * b for g, b in zip(grads, self.momentum_buffer, strict=True)]
            else:
                grads = self.momentum_buffer
        for p, g in zip(self.params, grads, strict=True):
            p.data -= lr * g


class Adagrad(Optimizer):
    """Adagrad as torch.optim.Adagrad (lr_decay 0, initial accumulator 0).

    sum += g * g; p -= lr * g / (sqrt(sum) + eps).
    """

    hyperparameters = ("eps", "weight_decay")
    buffers = ("sum",)

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 0.01,
        eps: float = 1e-10,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, lr)
        self.eps = _check_nonnegative("eps", eps)
        self.weight_decay = _check_nonnegative("weight_decay", weight_decay)
        self.sum = self._zeros()

    def step(self) -> None:
        """Accumulate squared gradients and scale each step by their root."""
        self.steps += 1
        lr, eps, sums = self.lr, self.eps, self.sum
        for i, (p, g) in enumerate(
            zip(self.params, self._gradients(self.weight_decay), strict=True)
        ):
            sums[i] += g * g
            p.data -= lr * (g / (math.sqrt(sums[i]) + eps))


class RMSprop(Optimizer):
    """RMSprop as torch.optim.RMSprop (not centered).

    square_avg = alpha * square_avg + (1 - alpha) * g * g; avg = sqrt(square_avg) + eps;
    p -= lr * g / avg, or with momentum buf = momentum * buf + g / avg; p -= lr * buf.
    """

    hyperparameters = ("alpha", "eps", "momentum", "weight_decay")
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
        super().__init__(params, lr)
        self.alpha = _check_nonnegative("alpha", alpha)
        self.eps = _check_nonnegative("eps", eps)
        self.momentum = _check_nonnegative("momentum", momentum)
        self.weight_decay = _check_nonnegative("weight_decay", weight_decay)
        self.square_avg = self._zeros()
        self.momentum_buffer = self._zeros()

    def step(self) -> None:
        """Divide each gradient by the root of its running mean square."""
        self.steps += 1
        lr, alpha, eps, momentum = self.lr, self.alpha, self.eps, self.momentum
        square_avg, buffer = self.square_avg, self.momentum_buffer
        for i, (p, g) in enumerate(
            zip(self.params, self._gradients(self.weight_decay), strict=True)
        ):
            square_avg[i] = square_avg[i] * alpha + (1 - alpha) * g * g
            avg = math.sqrt(square_avg[i]) + eps
            if momentum:
                buffer[i] = buffer[i] * momentum + g / avg
                p.data -= lr * buffer[i]
            else:
                p.data -= lr * (g / avg)


class Adam(Optimizer):
    """Adam as torch.optim.Adam, with L2 weight decay added to the gradient (not AdamW).

    m = beta1 m + (1 - beta1) g; v = beta2 v + (1 - beta2) g g;
    p -= lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps).
    """

    hyperparameters = ("betas", "eps", "weight_decay")
    buffers = ("exp_avg", "exp_avg_sq")

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, lr)
        beta1, beta2 = betas
        for name, beta in (("betas[0]", beta1), ("betas[1]", beta2)):
            if not 0.0 <= _check_nonnegative(name, beta) < 1.0:
                raise ValueError(f"Adam {name} must be in [0, 1), got {beta!r}")
        self.betas = (float(beta1), float(beta2))
        self.eps = _check_nonnegative("eps", eps)
        self.weight_decay = _check_nonnegative("weight_decay", weight_decay)
        self.exp_avg = self._zeros()
        self.exp_avg_sq = self._zeros()

    def step(self) -> None:
        """One bias-corrected Adam update."""
        self.steps += 1
        beta1, beta2 = self.betas
        step_size = self.lr / (1 - beta1**self.steps)
        bias_correction2_sqrt = math.sqrt(1 - beta2**self.steps)
        eps, exp_avg, exp_avg_sq = self.eps, self.exp_avg, self.exp_avg_sq
        for i, (p, g) in enumerate(
            zip(self.params, self._gradients(self.weight_decay), strict=True)
        ):
            # m + (1 - beta1) (g - m) is how PyTorch writes beta1 m + (1 - beta1) g (lerp).
            exp_avg[i] += (1 - beta1) * (g - exp_avg[i])
            exp_avg_sq[i] = exp_avg_sq[i] * beta2 + (1 - beta2) * g * g
            denom = math.sqrt(exp_avg_sq[i]) / bias_correction2_sqrt + eps
            p.data -= step_size * (exp_avg[i] / denom)


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
        """Restore what `state_dict()` saved."""
        if not isinstance(state, dict) or state.get("type") != type(self).__name__:
            raise ValueError(f"not a {type(self).__name__} state_dict: {state!r:.80}")
        self.base_lr = float(state["base_lr"])
        self.last_epoch = int(state["last_epoch"])


class StepLR(LRScheduler):
    """Multiply the lr by `gamma` every `step_size` epochs (torch.optim.lr_scheduler.StepLR)."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1):
        super().__init__(optimizer)
        if isinstance(step_size, bool) or not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"StepLR step_size must be a positive int, got {step_size!r}")
        self.step_size = step_size
        self.gamma = _check_nonnegative("gamma", gamma)

    def next_lr(self) -> float:
        """lr * gamma at multiples of step_size, else unchanged (PyTorch's recursive form)."""
        if self.last_epoch % self.step_size == 0:
            return self.optimizer.lr * self.gamma
        return self.optimizer.lr


class ExponentialLR(LRScheduler):
    """Multiply the lr by `gamma` every epoch (torch.optim.lr_scheduler.ExponentialLR)."""

    def __init__(self, optimizer: Optimizer, gamma: float):
        super().__init__(optimizer)
        self.gamma = _check_nonnegative("gamma", gamma)

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
        if isinstance(T_max, bool) or not isinstance(T_max, int) or T_max < 1:
            raise ValueError(f"CosineLR T_max must be a positive int, got {T_max!r}")
        self.T_max = T_max
        self.eta_min = _check_nonnegative("eta_min", eta_min)

    def next_lr(self) -> float:
        """The closed-form cosine lr at `last_epoch`."""
        cosine = 1 + math.cos(math.pi * self.last_epoch / self.T_max)
        return self.eta_min + (self.base_lr - self.eta_min) * cosine / 2
