"""The rule table: every primitive op, its forward and its local derivatives, once.

A rule is a Python expression over the op's inputs `x`, `y` and its result `out`. The same text
is compiled three ways: over floats (the eager fast path), over Values (`create_graph=True`,
so derivatives are differentiable again) and, by `autograd.compile`, into straight-line code.
"""

from __future__ import annotations

import math
from collections.abc import Callable

inf = math.inf
nan = math.nan


# --- float functions the rules may call ------------------------------------------------------
# Each raises the built-in exception a Python user expects; the operator methods then add the
# op's name and inputs to the message (`value.domain_error`).


def sigmoid(x: float) -> float:
    """Logistic function 1 / (1 + e**-x)."""
    # NOTE: branch on the sign so that exp() only ever sees a non-positive argument.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def softplus(x: float) -> float:
    """log(1 + e**x)."""
    # NOTE: max(x, 0) + log1p(e**-|x|) is the same function without overflow for large |x|.
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def power(x: float, y: float) -> float:
    """x ** y as a real number: refuses the complex results Python would return."""
    if x < 0 and math.isfinite(y) and not y.is_integer():
        raise ValueError("a negative base to a non-integer power is not a real number")
    return x**y


def ieee_power(x: float, y: float) -> float:
    """x ** y with IEEE limits instead of exceptions (0 ** -1 = inf), for derivatives only."""
    try:
        return power(x, y)
    except ZeroDivisionError:  # 0 ** negative
        return inf
    except OverflowError:
        return -inf if x < 0 and y % 2 == 1 else inf


def is_zero(x: float) -> bool:
    """x == 0, for rules: on a Value, `==` is identity, so rules ask this instead."""
    return x == 0


# The names a rule may use besides x, y and out, on floats.
FLOAT_FUNCTIONS: dict[str, object] = {
    "exp": math.exp,
    "log": math.log,
    "sqrt": math.sqrt,
    "tanh": math.tanh,
    "sin": math.sin,
    "cos": math.cos,
    "sigmoid": sigmoid,
    "softplus": softplus,
    "power": power,
    "ieee_power": ieee_power,
    "is_zero": is_zero,
    "inf": inf,
    "nan": nan,
}


def _on_values(name: str) -> Callable:
    """`name` for rules evaluated on Values: the Value method, or the float function on a number."""
    on_floats = FLOAT_FUNCTIONS[name]

    def function(x):
        return on_floats(x) if isinstance(x, (int, float)) else getattr(x, name)()

    return function


def _data(x) -> float:
    return x if isinstance(x, (int, float)) else x.data


def _ieee_power_on_values(x, y):
    """ieee_power for rules on Values: x ** y as a graph, or its IEEE limit where Python raises."""
    # NOTE: at 0 ** negative the limit (inf) is a constant, so derivatives of a still higher
    # order are 0 at that singular point, where PyTorch gives infinities.
    try:
        return x**y
    except ZeroDivisionError:
        return ieee_power(_data(x), _data(y))


# The same names for rules evaluated on Values (`create_graph=True`). Forwards only ever run on
# floats, so `power` is not here.
VALUE_FUNCTIONS: dict[str, object] = {
    **{
        name: _on_values(name)
        for name in ("exp", "log", "sqrt", "tanh", "sin", "cos", "sigmoid", "softplus")
    },
    "ieee_power": _ieee_power_on_values,
    "is_zero": lambda x: _data(x) == 0,
    "inf": inf,
    "nan": nan,
}


# --- the op record ---------------------------------------------------------------------------


class Op:
    """A primitive: its forward and the derivative of `out` w.r.t. each input, as expressions.

    `Value`'s operator methods run these texts inline on floats (see value.py); `forward` and
    `value_grads` are the same texts as functions: `forward(x, y)` on floats, and
    `value_grads[i](x, y, out)` on Values, which builds the derivative as a differentiable graph.
    """

    __slots__ = ("domain", "forward", "forward_source", "grad_sources", "name", "value_grads")

    def __init__(self, name: str, forward: str, grads: tuple[str, ...], domain: str = ""):
        self.name = name
        self.forward_source = forward
        self.grad_sources = grads  # d out / d x, and d out / d y for a binary op
        self.domain = domain  # what to tell a user whose input is outside it
        self.forward = _function("x, y", forward, FLOAT_FUNCTIONS)
        self.value_grads = tuple(_function("x, y, out", g, VALUE_FUNCTIONS) for g in grads)

    def __repr__(self) -> str:
        return f"Op({self.name!r}, {self.forward_source!r}, {self.grad_sources!r})"


def _function(arguments: str, source: str, functions: dict) -> Callable:
    # The sources are this module's constants, never user input.
    return eval(f"lambda {arguments}: {source}", dict(functions))  # noqa: S307


# --- the table -------------------------------------------------------------------------------
# Binary ops take two inputs; either may be a Value or a constant number (the 3 in x**3), and
# only Value inputs become parents. Unary ops ignore y, except where y is a constant argument
# (the slope of leaky_relu).

# d(x+y)/dx = 1, d(x+y)/dy = 1
ADD = Op("add", "x + y", ("1.0", "1.0"))
# d(x-y)/dx = 1, d(x-y)/dy = -1
SUB = Op("sub", "x - y", ("1.0", "-1.0"))
# d(xy)/dx = y, d(xy)/dy = x
MUL = Op("mul", "x * y", ("y", "x"))
# d(x/y)/dx = 1/y, d(x/y)/dy = -x/y**2 = -out/y
DIV = Op("div", "x / y", ("1.0 / y", "-out / y"), domain="the divisor must not be 0")
# d(x**y)/dx = y x**(y-1), d(x**y)/dy = x**y ln x. PyTorch's limits: d/dx is inf at x = 0 for
# 0 < y < 1 and 0 for x = y = 0; d/dy is 0 at x = 0, and nan for x < 0 (as `out * nan`, so that
# higher orders are nan too)
POW = Op(
    "pow",
    "power(x, y)",
    (
        "0.0 if is_zero(x) and is_zero(y) else y * ieee_power(x, y - 1)",
        "out * log(x) if x > 0 else 0.0 if x >= 0 else out * nan",
    ),
    domain="x ** y needs x != 0 when y < 0, an integer y when x < 0, and a result below 1.8e308",
)
# d(-x)/dx = -1
NEG = Op("neg", "-x", ("-1.0",))
# d|x|/dx = sign(x), 0 at 0 like PyTorch
ABS = Op("abs", "abs(x)", ("1.0 if x > 0 else -1.0 if x < 0 else 0.0",))
# d e**x/dx = e**x
EXP = Op(
    "exp",
    "exp(x)",
    ("out",),
    domain="exp(x) overflows a float for x > 709.78; scale the input down",
)
# d ln x/dx = 1/x
LOG = Op(
    "log",
    "log(x)",
    ("1.0 / x",),
    domain="log is defined for x > 0; clamp the input or add a small epsilon",
)
# d sqrt(x)/dx = 1 / (2 sqrt(x)), inf at 0 like PyTorch
SQRT = Op(
    "sqrt",
    "sqrt(x)",
    ("0.5 / out if out > 0 else inf if out >= 0 else nan",),
    domain="sqrt is defined for x >= 0; clamp the input or use abs()",
)
# d tanh(x)/dx = 1 - tanh(x)**2
TANH = Op("tanh", "tanh(x)", ("1.0 - out * out",))
# d sigmoid(x)/dx = sigmoid(x) (1 - sigmoid(x))
SIGMOID = Op("sigmoid", "sigmoid(x)", ("out * (1.0 - out)",))
# d relu(x)/dx = 1 if x > 0 else 0 (0 at 0 and nan passes through, like PyTorch)
RELU = Op("relu", "0.0 if x <= 0 else x", ("0.0 if x <= 0 else 1.0",))
# d leaky_relu(x)/dx = 1 if x > 0 else slope; y is the slope, a constant
LEAKY_RELU = Op("leaky_relu", "y * x if x <= 0 else x", ("y if x <= 0 else 1.0",))
# d softplus(x)/dx = sigmoid(x)
SOFTPLUS = Op("softplus", "softplus(x)", ("sigmoid(x)",))
# d sin(x)/dx = cos(x)
SIN = Op("sin", "sin(x)", ("cos(x)",), domain="sin is defined for finite x")
# d cos(x)/dx = -sin(x)
COS = Op("cos", "cos(x)", ("-sin(x)",), domain="cos is defined for finite x")

OPS: dict[str, Op] = {
    op.name: op
    for op in (ADD, SUB, MUL, DIV, POW, NEG, ABS, EXP, LOG, SQRT, TANH, SIGMOID, RELU, LEAKY_RELU,
               SOFTPLUS, SIN, COS)
}  # fmt: skip
