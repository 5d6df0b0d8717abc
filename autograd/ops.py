"""The rule table: every primitive op, declared once, with its forward and local derivatives.

Everything else is derived from this table: `Value`'s methods (written into value.py by
tools/generate_value.py), the create_graph path, compiled code, the functions and picture symbols
of `scalargrad graph`. Adding an op means adding one `Op(...)` here and regenerating value.py.
"""

from __future__ import annotations

import io
import keyword
import math
import tokenize
from collections.abc import Callable

inf = math.inf
nan = math.nan


# --- float functions the rules may call ------------------------------------------------------
# Besides these, a rule may call any function of the `math` module (e.g. atan). Each raises the
# built-in exception a Python user expects; the methods then add the op's name and inputs.


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
    **{name: f for name, f in vars(math).items() if not name.startswith("_")},
    "abs": abs,
    "sigmoid": sigmoid,
    "softplus": softplus,
    "power": power,
    "ieee_power": ieee_power,
    "is_zero": is_zero,
}


# --- the op record ---------------------------------------------------------------------------


class Op:
    """A primitive op: its forward and the derivative of `out` w.r.t. each input, as expressions.

    A binary op (two derivative rules) takes inputs x and y, either of which may be a Value or a
    constant number; a unary op takes x, and y is None or a constant argument (the slope of
    leaky_relu, declared as `constant="slope=0.01"`). `methods` are the Value methods that run it:
    a binary op's method and its reflected twin (`__mul__`, `__rmul__`), or one unary method.
    `forward(x, y)` and `value_grads[i](x, y, out)` are the same texts as functions, on floats and
    on Values; `float_grads[i]` on floats.
    """

    __slots__ = (
        "constant",
        "doc",
        "domain",
        "float_grads",
        "forward",
        "forward_source",
        "grad_sources",
        "methods",
        "name",
        "selects",
        "symbol",
        "value_grads",
    )

    def __init__(
        self,
        name: str,
        forward: str,
        grads: tuple[str, ...],
        *,
        methods: tuple[str, ...],
        doc: str,
        symbol: str = "",
        domain: str = "",
        constant: str = "",
        selects: bool = False,
    ):
        self.name = name
        self.forward_source = forward
        self.grad_sources = grads  # d out / d x, and d out / d y for a binary op
        self.methods = methods
        self.doc = doc
        self.symbol = symbol or name  # how pictures show it: "*" for mul, "tanh" for tanh
        self.domain = domain  # what to tell a user whose input is outside it
        self.constant = constant
        # True for an op whose derivative selects (relu): where it is 0, the engine passes no
        # gradient at all, as PyTorch's does, rather than 0 * an infinite gradient = nan.
        self.selects = selects
        self.forward = _function(name, "x, y", forward, FLOAT_FUNCTIONS)
        self.float_grads = tuple(_function(name, "x, y, out", g, FLOAT_FUNCTIONS) for g in grads)
        self.value_grads = ()  # filled below the table, once the Value functions exist

    @property
    def binary(self) -> bool:
        """True for an op of two inputs (add, pow, ...); unary ops have one derivative rule."""
        return len(self.grad_sources) == 2

    def __repr__(self) -> str:
        return f"Op({self.name!r}, {self.forward_source!r}, {self.grad_sources!r})"


def _function(name: str, arguments: str, source: str, functions: dict) -> Callable:
    # The sources are this module's constants, never user input.
    code = compile(f"lambda {arguments}: {source}", f"<rule of {name}: {source}>", "eval")
    return eval(code, dict(functions))  # noqa: S307


def rule_names(source: str) -> set[str]:
    """The names a rule's source calls or reads besides x, y and out."""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return {
        token.string
        for token in tokens
        if token.type == tokenize.NAME
        and not keyword.iskeyword(token.string)
        and token.string not in ("x", "y", "out")
    }


# --- the table -------------------------------------------------------------------------------
# Each op's math is the comment above it. Constants (the 3 in x**3) are arguments of the op,
# never graph nodes.

# d(x+y)/dx = 1, d(x+y)/dy = 1
ADD = Op("add", "x + y", ("1.0", "1.0"), methods=("__add__", "__radd__"), symbol="+", doc="x + y.")
# d(x-y)/dx = 1, d(x-y)/dy = -1
SUB = Op("sub", "x - y", ("1.0", "-1.0"), methods=("__sub__", "__rsub__"), symbol="-", doc="x - y.")
# d(xy)/dx = y, d(xy)/dy = x
MUL = Op("mul", "x * y", ("y", "x"), methods=("__mul__", "__rmul__"), symbol="*", doc="x * y.")
# d(x/y)/dx = 1/y, d(x/y)/dy = -x/y**2 = -out/y
DIV = Op(
    "div",
    "x / y",
    ("1.0 / y", "-out / y"),
    methods=("__truediv__", "__rtruediv__"),
    symbol="/",
    doc="x / y; ZeroDivisionError for y = 0.",
    domain="the divisor must not be 0",
)
# d(x**y)/dx = y x**(y-1), d(x**y)/dy = x**y ln x. PyTorch's limits: d/dx is 0 for y = 0 (even
# at x = 0 or nan) and inf at x = 0 for 0 < y < 1; d/dy is 0 at x = 0, and nan for x < 0 (as
# `out * nan`, so that higher orders are nan too)
POW = Op(
    "pow",
    "power(x, y)",
    (
        "0.0 if is_zero(y) else y * ieee_power(x, y - 1)",
        "out * log(x) if x > 0 else 0.0 if x >= 0 else out * nan",
    ),
    methods=("__pow__", "__rpow__"),
    symbol="**",
    doc="x ** y; differentiable in y too (d/dy = x ** y ln x, for x > 0).",
    domain="x ** y needs x != 0 when y < 0, an integer y when x < 0, and a result below 1.8e308",
)
# d(-x)/dx = -1
NEG = Op("neg", "-x", ("-1.0",), methods=("__neg__",), doc="-x.")
# d|x|/dx = sign(x), 0 at 0 like PyTorch
ABS = Op(
    "abs",
    "abs(x)",
    ("1.0 if x > 0 else -1.0 if x < 0 else 0.0",),
    methods=("__abs__",),
    doc="|x|; its derivative at 0 is 0, as in PyTorch.",
)
# d e**x/dx = e**x
EXP = Op(
    "exp",
    "exp(x)",
    ("out",),
    methods=("exp",),
    doc="e ** x; OverflowError for x > 709.78.",
    domain="exp(x) overflows a float for x > 709.78; scale the input down",
)
# d ln x/dx = 1/x
LOG = Op(
    "log",
    "log(x)",
    ("1.0 / x",),
    methods=("log",),
    doc="Natural logarithm; ValueError for x <= 0.",
    domain="log is defined for x > 0; clamp the input or add a small epsilon",
)
# d sqrt(x)/dx = 1 / (2 sqrt(x)): inf at 0, and its own derivative -inf there, like PyTorch
SQRT = Op(
    "sqrt",
    "sqrt(x)",
    ("0.5 * ieee_power(out, -1.0)",),
    methods=("sqrt",),
    doc="Square root; ValueError for x < 0.",
    domain="sqrt is defined for x >= 0; clamp the input or use abs()",
)
# d tanh(x)/dx = 1 - tanh(x)**2
TANH = Op("tanh", "tanh(x)", ("1.0 - out * out",), methods=("tanh",), doc="Hyperbolic tangent.")
# d sigmoid(x)/dx = sigmoid(x) (1 - sigmoid(x))
SIGMOID = Op(
    "sigmoid",
    "sigmoid(x)",
    ("out * (1.0 - out)",),
    methods=("sigmoid",),
    doc="1 / (1 + e ** -x), finite for any input.",
)
# d relu(x)/dx = 1 if x > 0 else 0 (0 at 0, and nan passes through, like PyTorch); it selects:
# where it is 0, no gradient passes, even an infinite one
RELU = Op(
    "relu",
    "0.0 if x <= 0 else x",
    ("0.0 if x <= 0 else 1.0",),
    methods=("relu",),
    selects=True,
    doc="max(x, 0); its derivative at 0 is 0, as in PyTorch.",
)
# d leaky_relu(x)/dx = 1 if x > 0 else slope (slope at 0 and at nan, like PyTorch); y is the
# slope, a constant
LEAKY_RELU = Op(
    "leaky_relu",
    "x if x > 0 else y * x",
    ("1.0 if x > 0 else y",),
    methods=("leaky_relu",),
    constant="slope=0.01",
    doc="x if x > 0 else slope * x; `slope` is a constant, not a node.",
)
# d softplus(x)/dx = sigmoid(x)
SOFTPLUS = Op(
    "softplus",
    "softplus(x)",
    ("sigmoid(x)",),
    methods=("softplus",),
    doc="log(1 + e ** x), finite for any input.",
)
# d sin(x)/dx = cos(x)
SIN = Op(
    "sin",
    "sin(x)",
    ("cos(x)",),
    methods=("sin",),
    doc="Sine.",
    domain="sin is defined for finite x",
)
# d cos(x)/dx = -sin(x)
COS = Op(
    "cos",
    "cos(x)",
    ("-sin(x)",),
    methods=("cos",),
    doc="Cosine.",
    domain="cos is defined for finite x",
)

OPS: dict[str, Op] = {
    op.name: op
    for op in (ADD, SUB, MUL, DIV, POW, NEG, ABS, EXP, LOG, SQRT, TANH, SIGMOID, RELU, LEAKY_RELU,
               SOFTPLUS, SIN, COS)
}  # fmt: skip


# --- derived from the table ------------------------------------------------------------------

# The functions an expression may call (`scalargrad graph "tanh(x)"`), name -> op: each unary op
# with a named method, and abs, which Python's abs() runs through __abs__.
FUNCTIONS: dict[str, Op] = {
    ("abs" if op.methods[0] == "__abs__" else op.methods[0]): op
    for op in OPS.values()
    if not op.binary and (op.methods[0] == "__abs__" or not op.methods[0].startswith("__"))
}


class _Dot:
    """The op of `dot_product`: w0*x0 + w1*x1 + ... The one op with more than two inputs, so
    outside the rule table, whose rules are written for x and y: its node keeps its parents
    (w0, x0, w1, x1, ...) and their local grads as tuples (see engine.Node)."""

    __slots__ = ()
    name = symbol = "dot"
    doc = "dot_product(ws, xs): w0*x0 + w1*x1 + ... as one node"
    selects = False

    @staticmethod
    def value_local_grads(node) -> list:
        """d node / d parent for each parent, as Values (create_graph): the other factor."""
        parents = node._x
        return [parents[k ^ 1] for k in range(len(parents))]  # 0 <-> 1, 2 <-> 3, ...

    def __repr__(self) -> str:
        return "DOT"


DOT = _Dot()


def _data(x) -> float:
    return x if isinstance(x, (int, float)) else x.data


def _on_values(op: Op) -> Callable:
    """`op` as a function for rules on Values: its method on a Value, its forward on a number."""
    method = op.methods[0]

    def function(x, *constant):
        if isinstance(x, (int, float)):
            return op.forward(x, *constant or (None,))
        return getattr(x, method)(*constant)

    return function


def _ieee_power_on_values(x, y):
    """ieee_power for rules on Values: x ** y as a node, at its IEEE limit where Python raises."""
    if isinstance(x, (int, float)) and isinstance(y, (int, float)):
        return ieee_power(x, y)
    try:
        return x**y
    except (ZeroDivisionError, OverflowError):
        node_type = type(y if isinstance(x, (int, float)) else x)
        return node_type.saturated(POW, x, y, ieee_power(_data(x), _data(y)))


# The same names for rules on Values (`create_graph=True`): each function of FUNCTIONS through
# its method, and the helpers. Forwards only ever run on floats, so `power` is not here.
VALUE_FUNCTIONS: dict[str, object] = {
    **{name: _on_values(op) for name, op in FUNCTIONS.items()},
    "ieee_power": _ieee_power_on_values,
    "is_zero": lambda x: _data(x) == 0,
    "inf": inf,
    "nan": nan,
}


def _check_rules() -> None:
    """Every name a rule uses must exist on floats and on Values: fail at import, not later."""
    on_floats, on_values = ("floats", FLOAT_FUNCTIONS), ("Values", VALUE_FUNCTIONS)
    for op in OPS.values():
        # A forward runs on floats only; a derivative rule on both.
        sources = [(op.forward_source, [on_floats])]
        sources += [(source, [on_floats, on_values]) for source in op.grad_sources]
        for source, namespaces in sources:
            for name in sorted(rule_names(source)):
                missing = [where for where, namespace in namespaces if name not in namespace]
                if missing:
                    raise NameError(
                        f"op {op.name!r}: rule {source!r} uses {name!r}, which has no version "
                        f"on {' or '.join(missing)}; add an op for it (or a helper to "
                        "FLOAT_FUNCTIONS and VALUE_FUNCTIONS)"
                    )
        op.value_grads = tuple(
            _function(op.name, "x, y, out", g, VALUE_FUNCTIONS) for g in op.grad_sources
        )


_check_rules()
