"""The graph node `Value`, and its operator methods, generated from the rule table in ops.py.

A node is one object with no reference cycles: its inputs and local derivatives live in slots,
not in per-node tuples or closures, so building a graph costs little memory and gives Python's
cyclic garbage collector little to do. Little, not nothing: a full collection still visits every
filled slot of every live node, so slots a node does not need are left empty (see `Value`).
"""

from __future__ import annotations

import numbers

from autograd import engine, mode
from autograd.mode import NO_TAG, Tag
from autograd.ops import (
    ABS,
    ADD,
    COS,
    DIV,
    EXP,
    FLOAT_FUNCTIONS,
    LEAKY_RELU,
    LOG,
    MUL,
    NEG,
    POW,
    RELU,
    SIGMOID,
    SIN,
    SOFTPLUS,
    SQRT,
    SUB,
    TANH,
    Op,
)


class Value:
    """A scalar in a computation graph: its data, its gradient and how it was computed.

    `Value(data, label="")`: `data` is a real number (not bool), stored as a float.
    `==` and hashing are by identity, so Values can be dict keys; `<`, `>` compare `data`.
    """

    # _op: the Op that made this node (None for a leaf). _x, _y: its inputs, each a Value or
    # a constant float (_y is None for a unary op). _dx, _dy: d self / d input for the inputs
    # that are Values, None for constants; so the parents are the inputs with a local grad.
    # NOTE: a leaf fills only data, grad and _op: its _x, _y, _dx, _dy (and _tag, outside any
    # scope until a label is set) stay empty, and nothing reads them unless _op is set. Python's
    # cyclic garbage collector skips empty slots, which makes its full collections a little
    # cheaper. _tag holds label and scope together (a mode.Tag, shared by every Value made in
    # one scope), so that scopes cost no memory per node.
    __slots__ = ("_dx", "_dy", "_op", "_tag", "_x", "_y", "data", "grad")

    def __init__(self, data: float, label: str = ""):
        self.data = as_float(data, "Value(data)")
        self.grad = 0.0
        self._op = None
        context = mode.current_context()
        if context is not None and context.tag is not NO_TAG:
            self._tag = context.tag
        if type(label) is not str or label:  # the setter checks the type
            self.label = label

    @property
    def label(self) -> str:
        """A name shown in pictures and reprs; "" unless set."""
        return getattr(self, "_tag", NO_TAG).label

    @label.setter
    def label(self, label: str) -> None:
        if not isinstance(label, str):
            raise TypeError(f"Value label must be a str, got {type(label).__name__}")
        self._tag = Tag(label, self.scope)

    @property
    def scope(self) -> str:
        """The scopes open when this Value was made, joined by "." ("" outside any)."""
        return getattr(self, "_tag", NO_TAG).scope

    # --- what the node records ---------------------------------------------------------------

    @property
    def op(self) -> str:
        """Name of the op that produced this Value, "" for a leaf."""
        return self._op.name if self._op is not None else ""

    @property
    def parents(self) -> tuple[Value, ...]:
        """The Values this one was computed from, in argument order (`a * a` lists `a` twice)."""
        if self._op is None:
            return ()
        return tuple(x for x, dx in ((self._x, self._dx), (self._y, self._dy)) if dx is not None)

    @property
    def local_grads(self) -> tuple[float, ...]:
        """d self / d parent for each parent, in the order of `parents`."""
        if self._op is None:
            return ()
        return tuple(dx for dx in (self._dx, self._dy) if dx is not None)

    def backward(self, gradient: float = 1.0) -> None:
        """Add d self / d leaf * gradient to every leaf's `.grad` (see `autograd.engine`)."""
        engine.backward(self, gradient)

    def detach(self) -> Value:
        """A new leaf with the same data, cut off from this graph."""
        return Value(self.data)

    def __repr__(self) -> str:
        text = f"Value(data={self.data!r}, grad={self.grad!r}"
        if self._op is not None:
            text += f", op={self._op.name!r}"
        if self.label:
            text += f", label={self.label!r}"
        return text + ")"

    # The arithmetic operators and the functions (exp, log, ...) are generated from the rule
    # table below the class; `method_source("__mul__")` shows what one looks like.

    def __pos__(self):
        """`+x` is `x` itself, as in PyTorch: no new node."""
        return self

    # --- comparisons look at data ------------------------------------------------------------

    def __lt__(self, other):
        return self.data < _data(other)

    def __le__(self, other):
        return self.data <= _data(other)

    def __gt__(self, other):
        return self.data > _data(other)

    def __ge__(self, other):
        return self.data >= _data(other)


def as_float(number, what: str) -> float:
    """`number` as a float; TypeError naming `what` and the type for anything but a real number.

    OverflowError for an int too large for a float.
    """
    if type(number) is float:
        return number
    if hasattr(number, "item") and getattr(number, "size", None) == 1:  # a 1-element numpy array
        number = number.item()
    if isinstance(number, bool) or not isinstance(number, numbers.Real):
        raise TypeError(
            f"{what} must be a real number (int or float), got {type(number).__name__}: "
            f"{number!r:.80}"
            + ("; use .data to read a Value's number" if isinstance(number, Value) else "")
        )
    try:
        return float(number)
    except OverflowError:  # an int beyond 1.8e308
        raise OverflowError(f"{what} is too large for a float: {number!r:.40}...") from None


def _data(other) -> float:
    return other.data if isinstance(other, Value) else as_float(other, "comparison operand")


def domain_error(op: Op, error: Exception, x: float, y: float | None) -> Exception:
    """The same kind of exception as `error`, naming the op, its inputs and its domain."""
    inputs = f"x={x!r}" if y is None else f"x={x!r}, y={y!r}"
    reason = error.args[-1] if error.args else type(error).__name__
    advice = f"; {op.domain}" if op.domain else ""
    return type(error)(f"{op.name}({inputs}) failed: {reason}{advice}")


# --- operator methods, generated from the rule table ---------------------------------------
# Each method runs its op's forward and derivative rules inline on floats, with no function
# call per rule: that is most of the speed of building a graph. Inputs that are numbers become
# constants of the op (stored in _x/_y with no local grad), never graph nodes.

_TEMPLATE = """\
def {method}({arguments}):
{inputs}
    try:
        out = {forward}
    except (ArithmeticError, ValueError) as error:
        raise domain_error(OP, error, x, y) from None
    node = new(Value)
    context = current_context()  # None: recording, outside any scope (the common case)
    if context is None or context.recording:
        node._op = OP
        node._x = {x_input}
        node._y = {y_input}
        node._dx = {dx}
        node._dy = {dy}
    else:
        node._op = None
    if context is not None and context.tag is not NO_TAG:
        node._tag = context.tag
    node.data = out
    node.grad = 0.0
    return node
"""

# A binary method's `self` is a Value: x for __mul__, y for __rmul__; the other input may be a
# Value or a number. For each role: how the method reads input v, what the node keeps as its
# input, and its local derivative rule.
_BINARY_SIDES = {
    "self": ("    {v} = {v}_in.data", "{v}_in", "({rule})"),
    "other": (
        "    {v}_is_value = isinstance({v}_in, Value)\n"
        "    {v} = {v}_in.data if {v}_is_value else {v}_in if type({v}_in) is float"
        " else as_float({v}_in, OPERAND)",
        "{v}_in if {v}_is_value else {v}",
        "({rule}) if {v}_is_value else None",
    ),
}

# A unary method's x is `self`; its y is None, or a constant argument such as the slope.
_UNARY_INPUTS = """\
    x = x_in.data
    y = {constant}"""

_METHOD_SOURCES: dict[str, str] = {}


def method_source(method: str) -> str:
    """The generated source of a Value method, e.g. `method_source("__mul__")`."""
    return _METHOD_SOURCES[method]


def _define(method: str, op: Op, source: str, docstring: str) -> None:
    namespace = dict(
        FLOAT_FUNCTIONS,
        Value=Value,
        as_float=as_float,
        new=object.__new__,
        current_context=mode.current_context,
        NO_TAG=NO_TAG,
        domain_error=domain_error,
        OP=op,
        OPERAND=f"{op.name} operand",
    )
    exec(source, namespace)  # noqa: S102 - the source is built from this package's rule table
    function = namespace[method]
    namespace.update(FLOAT_FUNCTIONS)  # `def exp` shadowed the float exp its rule calls
    function.__doc__ = docstring
    setattr(Value, method, function)
    _METHOD_SOURCES[method] = source


def _define_binary(op: Op, method: str, reflected: str, symbol: str) -> None:
    rules = dict(zip("xy", op.grad_sources, strict=True))
    for name, self_input in ((method, "x"), (reflected, "y")):
        read, keep, grad = {}, {}, {}
        for v in "xy":
            reading, kept, local_grad = _BINARY_SIDES["self" if v == self_input else "other"]
            read[v] = reading.format(v=v)
            keep[v] = kept.format(v=v)
            grad[v] = local_grad.format(v=v, rule=rules[v])
        source = _TEMPLATE.format(
            method=name,
            arguments="x_in, y_in" if self_input == "x" else "y_in, x_in",
            inputs=read["x"] + "\n" + read["y"],
            forward=op.forward_source,
            x_input=keep["x"],
            y_input=keep["y"],
            dx=grad["x"],
            dy=grad["y"],
        )
        _define(name, op, source, f"x {symbol} y, recorded as op {op.name!r}.")


def _define_unary(op: Op, method: str, docstring: str, constant: str = "") -> None:
    """`constant` is an argument like "slope=0.01", passed to the op as its y."""
    constant_name = constant.split("=")[0]
    source = _TEMPLATE.format(
        method=method,
        arguments=f"x_in, {constant}" if constant else "x_in",
        inputs=_UNARY_INPUTS.format(
            constant=f"as_float({constant_name}, OPERAND)" if constant else "None"
        ),
        forward=op.forward_source,
        x_input="x_in",
        y_input="y",
        dx=op.grad_sources[0],
        dy="None",
    )
    _define(method, op, source, docstring)


_define_binary(ADD, "__add__", "__radd__", "+")
_define_binary(SUB, "__sub__", "__rsub__", "-")
_define_binary(MUL, "__mul__", "__rmul__", "*")
_define_binary(DIV, "__truediv__", "__rtruediv__", "/")
_define_binary(POW, "__pow__", "__rpow__", "**")
_define_unary(NEG, "__neg__", "-x.")
_define_unary(ABS, "__abs__", "|x|; its derivative at 0 is 0, as in PyTorch.")
_define_unary(EXP, "exp", "e ** x; OverflowError for x > 709.78.")
_define_unary(LOG, "log", "Natural logarithm; ValueError for x <= 0.")
_define_unary(SQRT, "sqrt", "Square root; ValueError for x < 0.")
_define_unary(TANH, "tanh", "Hyperbolic tangent.")
_define_unary(SIGMOID, "sigmoid", "1 / (1 + e ** -x), finite for any input.")
_define_unary(RELU, "relu", "max(x, 0); its derivative at 0 is 0, as in PyTorch.")
_define_unary(
    LEAKY_RELU,
    "leaky_relu",
    "x if x > 0 else slope * x; `slope` is a constant, not a node.",
    constant="slope=0.01",
)
_define_unary(SOFTPLUS, "softplus", "log(1 + e ** x), finite for any input.")
_define_unary(SIN, "sin", "Sine.")
_define_unary(COS, "cos", "Cosine.")
