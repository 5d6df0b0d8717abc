"""`gradcheck`: the engine's gradients against central finite differences."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from autograd.engine import grad
from autograd.mode import no_grad
from autograd.value import Value, as_float


def gradcheck(
    fn: Callable[..., Value],
    inputs: Sequence[float],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-4,
) -> bool:
    """True if d fn / d input matches (fn(x + eps) - fn(x - eps)) / 2 eps for every input.

    `fn` takes one Value per input and returns a Value. Raises AssertionError listing each
    input whose analytic and numerical gradients differ by more than atol + rtol * |numerical|.
    """
    points = [as_float(x, f"gradcheck input {i}") for i, x in enumerate(inputs)]
    leaves = [Value(x) for x in points]
    output = fn(*leaves)
    if not isinstance(output, Value):
        raise TypeError(f"gradcheck: fn must return a Value, got {type(output).__name__}")
    analytic = grad(output, leaves)

    def value_at(index: int, x: float) -> float:
        moved = list(points)
        moved[index] = x
        with no_grad():
            return fn(*[Value(p) for p in moved]).data

    failures = []
    for index, (x, exact) in enumerate(zip(points, analytic, strict=True)):
        numerical = (value_at(index, x + eps) - value_at(index, x - eps)) / (2 * eps)
        if not abs(exact - numerical) <= atol + rtol * abs(numerical):
            failures.append(
                f"  input {index} (x={x!r}): analytic {exact!r}, numerical {numerical!r}"
            )
    if failures:
        raise AssertionError("gradcheck: gradients disagree\n" + "\n".join(failures))
    return True
