"""`Module`: the base of every model; parameters by name and a PyTorch-style state dict.

A subclass says which Values are its parameters by overriding `tensors()`; everything else
(`parameters`, `named_parameters`, `zero_grad`, `state_dict`, `load_state_dict`) follows.
"""

from __future__ import annotations

import numbers
from typing import Any

from autograd import Value


class Module:
    """Base class of models: `model(x)` calls `forward(x)`; parameters come from `tensors()`."""

    def tensors(self) -> dict[str, Any]:
        """Parameters by name, each a Value or a nested list of Values (a subclass overrides)."""
        return {}

    def named_parameters(self) -> list[tuple[str, Value]]:
        """(name, Value) per parameter, e.g. ("0.weight[3][1]", w), in `parameters()` order."""
        names = {id(p): name for name, p in _flatten_tensors(self.tensors())}
        return [(names[id(p)], p) for p in self.parameters()]

    def parameters(self) -> list[Value]:
        """Every parameter Value, in a stable order (Layer and MLP: neuron by neuron, w..., b)."""
        return [p for _, p in _flatten_tensors(self.tensors())]

    def zero_grad(self) -> None:
        """Set every parameter's `.grad` to 0.0 (leaves accumulate across `backward` calls)."""
        for p in self.parameters():
            p.grad = 0.0

    def state_dict(self) -> dict[str, Any]:
        """The parameters' numbers, keyed and nested like `tensors()` (floats, not Values)."""
        return {key: _numbers_of(tensor) for key, tensor in self.tensors().items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Copy numbers from `state` into the parameters; ValueError on wrong keys or shapes.

        Everything is checked before anything is written, so a failed load changes nothing.
        """
        if not isinstance(state, dict):
            raise TypeError(f"state_dict must be a dict, got {type(state).__name__}")
        tensors = self.tensors()
        missing = [key for key in tensors if key not in state]
        unexpected = [key for key in state if key not in tensors]
        if missing or unexpected:
            raise ValueError(
                f"state_dict keys do not match {type(self).__name__}: "
                f"missing {missing}, unexpected {unexpected}"
            )
        updates: list[tuple[Value, float]] = []
        for key, tensor in tensors.items():
            expected, given = shape_of(tensor, key), shape_of(state[key], key)
            if expected != given:
                raise ValueError(
                    f"state_dict[{key!r}] has shape {list(given)}, expected {list(expected)}"
                )
            _append_updates(key, tensor, state[key], updates)
        for p, number in updates:
            p.data = number

    def forward(self, x):
        """The model's output for input `x` (a subclass overrides)."""
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, x):
        return self.forward(x)


def shape_of(tensor: Any, key: str, depth: int = 0) -> tuple[int, ...]:
    """The shape of a nested list (() for a scalar); ValueError if it is ragged or too deep."""
    if not isinstance(tensor, (list, tuple)):
        return ()
    if depth == 8:  # parameters are at most 2-D; this also keeps the recursion shallow
        raise ValueError(f"{key!r} is nested more than 8 lists deep")
    shapes = {shape_of(item, key, depth + 1) for item in tensor}
    if len(shapes) > 1:
        raise ValueError(f"{key!r} is ragged: its rows have shapes {sorted(shapes)}")
    return (len(tensor), *(shapes.pop() if shapes else ()))


def _flatten_tensors(tensors: dict[str, Any]) -> list[tuple[str, Value]]:
    """(name, Value) for every Value in `tensors`, e.g. ("weight[3][1]", w), in tensor order."""
    named: list[tuple[str, Value]] = []
    for key, tensor in tensors.items():
        _append_named(key, tensor, named)
    return named


def _append_named(name: str, tensor: Any, out: list[tuple[str, Value]]) -> None:
    if isinstance(tensor, Value):
        out.append((name, tensor))
        return
    for index, item in enumerate(tensor):
        _append_named(f"{name}[{index}]", item, out)


def _numbers_of(tensor: Any) -> Any:
    """A tensor of Values as the same nesting of their floats."""
    if isinstance(tensor, Value):
        return tensor.data
    return [_numbers_of(item) for item in tensor]


def _append_updates(name: str, tensor: Any, numbers_: Any, out: list[tuple[Value, float]]) -> None:
    """(parameter, its new float) for each Value of `tensor`; ValueError for a non-number."""
    if isinstance(tensor, Value):
        if isinstance(numbers_, bool) or not isinstance(numbers_, numbers.Real):
            raise ValueError(
                f"state_dict entry {name} must be a real number, got {type(numbers_).__name__}"
            )
        try:
            out.append((tensor, float(numbers_)))
        except OverflowError:  # an int of hundreds of digits, as JSON allows
            raise ValueError(
                f"state_dict entry {name} is {numbers_!r:.20}..., too large for a float"
            ) from None
        return
    for index, (item, number) in enumerate(zip(tensor, numbers_, strict=True)):
        _append_updates(f"{name}[{index}]", item, number, out)
