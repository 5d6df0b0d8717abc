"""The graph node `Value` and its operator methods, which run the rule table's ops inline.

The methods between the "generated" markers are written by tools/generate_value.py from
autograd/ops.py: edit the table, then rerun the script (a test fails while this file is stale).
"""

from __future__ import annotations

# --- generated imports: tools/generate_value.py ---
import numbers
from collections.abc import Sequence
from itertools import chain
from math import cos, exp, log, sin, sqrt, tanh

from autograd import engine
from autograd.mode import NO_TAG, Tag, current_context
from autograd.ops import (
    ABS,
    ADD,
    COS,
    DIV,
    DOT,
    EXP,
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
    ieee_power,
    is_zero,
    nan,
    power,
    sigmoid,
    softplus,
)

# --- end of generated imports ---

new = object.__new__


class Value(engine.Node):
    """A scalar in a computation graph: its data, its gradient and how it was computed.

    `Value(data, label="")`: `data` is a real number (not bool), stored as a float.
    `==` and hashing are by identity, so Values can be dict keys; `<`, `>` compare `data`.
    """

    # The slots, and which of them a node fills, are described in engine.Node.
    __slots__ = ()

    def __init__(self, data: float, label: str = ""):
        self.data = as_float(data, "Value(data)")
        self.grad = 0.0
        self._op = None
        context = current_context()
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
        """The Values this one was computed from, in argument order (`a * a` lists `a` twice;
        `dot_product(ws, xs)` lists w0, x0, w1, x1, ...)."""
        return tuple(parent for parent, _ in engine.parents_and_locals(self))

    @property
    def local_grads(self) -> tuple[float, ...]:
        """d self / d parent for each parent, in the order of `parents`."""
        return tuple(local for _, local in engine.parents_and_locals(self))

    def backward(self, gradient: float = 1.0) -> None:
        """Add d self / d leaf * gradient to every leaf's `.grad` (see `autograd.engine`)."""
        engine.backward(self, as_float(gradient, "backward gradient"))

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

    @classmethod
    def saturated(cls, op: Op, x: Value | float, y: Value | float | None, out: float) -> Value:
        """A node of `op` whose result is `out`, the IEEE limit where its forward raised.

        For derivatives built with create_graph=True, which saturate (1e-300 ** -1.1 is inf)
        where a forward raises; its local derivatives come from the same rules, on floats.
        """
        node = new(cls)
        node.data = out
        node.grad = 0.0
        context = current_context()
        if context is not None:
            node._tag = context.tag
            if not context.recording:
                node._op = None
                return node
        xd = x.data if isinstance(x, Value) else x
        yd = y.data if isinstance(y, Value) else y
        node._op = op
        node._x, node._y = x, y
        node._dx = op.float_grads[0](xd, yd, out) if isinstance(x, Value) else None
        node._dy = op.float_grads[1](xd, yd, out) if isinstance(y, Value) else None
        return node

    # --- generated methods: tools/generate_value.py, from the rule table in ops.py ---
    def __add__(self, other: Value | float) -> Value:
        """x + y."""
        x = self.data
        y_is_value = isinstance(other, Value)
        if y_is_value:
            y = other.data
        elif type(other) is float:
            y = other
        else:
            y = as_float(other, "add operand")
        try:
            out = x + y
        except (ArithmeticError, ValueError) as error:
            raise domain_error(ADD, error, x, y) from None
        node = new(Value)
        node.data = out
        node.grad = 0.0
        context = current_context()
        if context is not None:  # this thread has opened a scope or a no_grad block
            node._tag = context.tag
            if not context.recording:
                node._op = None
                return node
        node._op = ADD
        node._x = self
        node._dx = 1.0
        if y_is_value:
            node._y = other
            node._dy = 1.0
        else:
            node._y = y
            node._dy = None
        return node

    def __radd__(self, other: Value | float) -> Value:
        """x + y."""
        y = self.data
        x_is_value = isinstance(other, Value)
        if x_is_value:
            x = other.data
        elif type(other) is float:
            x = other
        else:
            x = as_float(other, "add operand")
        try:
            out = x + y
        except (ArithmeticError, ValueError) as error:
            raise domain_error(ADD, error, x, y) from None
        node = new(Value)
        node.data = out
        node.grad = 0.0
        context = current_context()
        if context is not None:  # this thread has opened a scope or a no_grad block
            node._tag = context.tag
            if not context.recording:
                node._op = None
                return node
        node._op = ADD
        node._y = self
        node._dy = 1.0
        if x_is_value:
            node._x = other
            node._dx = 1.0
        else:
            node._x = x
            node._dx = None
        return node

    def __sub__(self, other: Value | float) -> Value:
        """x - y."""
        x = self.data
        y_is_value = isinstance(other, Value)
        if y_is_value:
            y = other.data
        elif type(other) is float:
            y = other
        else:
            y = as_float(other, "sub operand")
        try:
            out = x - y
        except (ArithmeticError, ValueError) as error:
            raise domain_error(SUB, error, x, y) from None
        node = new(Value)
        node.data = out
        node.grad = 0.0
        context = current_context()
        if context is not None:  # this thread has opened a scope or a no_grad block
            node._tag = context.tag
            if not context.recording:
                node._op = None
                return node
        node._op = SUB
        node._x = self
        node._dx = 1.0
        if y_is_value:
            node._y = other
            node._dy = -1.0
        else:
            node._y = y
            node._dy = None
        return node

    def __rsub__(self, other: Value | float) -> Value:
        """x - y."""
        y = self.data
        x_is_value = isinstance(other, Value)
        if x_is_value:
            x = other.data
        elif type(other) is float:
            x = other
        else:
            x = as_float(other, "sub operand")
        try:
            out = x - y
        except (ArithmeticError, ValueError) as error:
            raise domain_error(SUB, error, x, y) from None
        node = new(Value)
        node.data = out
        node.grad = 0.0
        context = current_context()
        if context is not None:  # this thread has opened a scope or a no_grad block
            node._tag = context.tag
            if not context.recording:
                node._op = None
                return node
        node._op = SUB
        node._y = self
        node._dy = -1.0
        if x_is_value:
            node._x = other
            node._dx = 1.0
        else:
            node._x = x
            node._dx = None
        return node

    def __mul__(self, other: Value | float) -> Value:
        """x * y."""
        x = self.data
        y_is_value = isinstance(other, Value)
        if y_is_value:
            y = other.data
        elif type(other) is float:
            y = other
        else:
            y = as_float(other, "mul operand")
        try:
            out = x * y
        except (ArithmeticError, ValueError) as error:
            raise domain_error(MUL, error, x, y) from None
        node = new(Value)
        node.data = out
        node.grad = 0.0
        context = current_context()
        if context is not None:  # this thread has opened a scope or a no_grad block
            node._tag = context.tag
            if not context.recording:
                node._op = None
                return node
        node._op = MUL
        node._x = self
        node._dx = y
        if y_is_value:
            node._y = other
            node._dy = x
        else:
            node._y = y
            node._dy = None
        return node

    def __rmul__(self, other: Value | float) -> Value:
        """x * y."""
        y = self.data
        x_is_value = isinstance(other, Value)
        if x_is_value:
            x = other.data
        elif type(other) is float:
            x = other
        else:
            x = as_float(other, "mul operand")
        try:
            out = x * y
        except (ArithmeticError, ValueError) as error:
            raise domain_error(MUL, error, x, y) from None
        node = new(Value)
        node.data = out
        node.grad = 0.0
        context = current_context()
        if context is not None:  # this thread has opened a scope or a no_grad block
            node._tag = context.tag
            if not context.recording:
                node._op = None
                return node
        node._op = MUL
        node._y = self
        node._dy = x
        if x_is_value:
            node._x = other
            node._dx = y
        else:
            node._x = x
            node._dx = None
        return node

    def __truediv__(self, other: Value | float) -> Value:
        """x / y; ZeroDivisionError for y = 0."""
        x = self.data
        y_is_value = isinstance(other, Value)
        if y_is_value:
            y = other.data
        elif type(other) is float:
            y = other
        else:
            y = as_float(other, "div operand")
        try:
            out = x / y
        except (ArithmeticError, ValueError) as error:
            raise domain_error(DIV, error, x, y) from None
        node = new(Value)
        node.data = out
        node.grad = 0.0
        context = current_context()
        if context is not None:  # this thread has opened a scope or a no_grad block
            node._tag = context.tag
            if not context.recording:
                node._op = None
                return node
        node._op = DIV
        node._x = self
        node._dx = 1.0 / y
        if y_is_value:
            node._y = other
            node._dy = -out / y
        else:
            node._y = y
            node._dy = None
        return node

    def __rtruediv__(self, other: Value | float) -> Value:
        """x / y; ZeroDivisionError for y = 0."""
        y = self.data
        x_is_value = isinstance(other, Value)
        if x_is_value:
            x = other.data
        elif type(other) is float:
            x = other
        else:
            x = as_float(other, "div operand")
        try:
            out = x / y
        except (ArithmeticError, ValueError) as error:
            raise domain_error(DIV, error, x, y) from None
        node = new(Value)
        node.data = out
        node.grad = 0.0
        context = current_context()
        if context is not None:  # this thread has opened a scope or a no_grad block
            node._tag = context.tag
            if not context.recording:
                node._op = None
                return node
        node._op = DIV
        node._y = self
        node._dy = -out / y
        if x_is_value:
            node._x = other
            node._dx = 1.0 / y
        else:
            node._x = x
            node._dx = None
        return node

    def __pow__(self, other: Value | float) -> Value:
        """x ** y; differentiable in y too (d/dy = x ** y ln x, for x > 0)."""
        x = self.data
        y_is_value = isinstance(other, Value)
        if y_is_value:
            y = other.data
        elif type(other) is float:
            y = other
        else:
            y = as_float(other, "pow operand")
        try:
            out = power(x, y)
        except (ArithmeticError, ValueError) as error:
            raise domain_error(POW, error, x, y) from None
        node = new(Value)
        node.data = out
        node.grad = 0.0
        context = current_context()
        if context is not None:  # this thread has opened a scope or a no_grad block
            node._tag = context.tag
            if not context.recording:
                node._op = None
                return node
        node._op = POW
        node._x = self
        node._dx = 0.0 if is_zero(y) else y * ieee_power(x, y - 1)
        if y_is_value:
            node._y = other
            node._dy = out * log(x) if x > 0 else 0.0 if x >= 0 else out * nan
        else:
            node._y = y
            node._dy = None
        return node

    def __rpow__(self, other: Value | float) -> Value:
        """x ** y; differentiable in y too (d/dy = x ** y ln x, for x > 0)."""
        y = self.data
        x_is_value = isinstance(other, Value)
        if x_is_value:
            x = other.data
        elif type(other) is float:
            x = other
        else:
            x = as_float(other, "pow operand")
        try:
            out = power(x, y)
        except (ArithmeticError, ValueError) as error:
            raise domain_error(POW, error, x, y) from None
        node = new(Value)
        node.data = out
        node.grad = 0.0
        context = current_context()
        if context is not None:  # this thread has opened a scope or a no_grad block
            node._tag = context.tag
            if not context.recording:
                node._op = None
                return node
        node._op = POW
        node._y = self
        node._dy = out * log(x) if x > 0 else 0.0 if x >= 0 else out * nan
        if x_is_value:
            node._x = other
            node._dx = 0.0 if is_zero(y) else y * ieee_power(x, y - 1)
        else:
            node._x = x
            node._dx = None
        return node

    def __neg__(self) -> Value:
        """-x."""
        x = self.data
        y = None
        try:
            out = -x
        except (ArithmeticError, ValueError) as error:
            raise domain_error(NEG, error, x, y) from None
        node = new(Value)
        node.data = out
        node.grad = 0.0
        context = current_context()
        if context is not None:  # this thread has opened a scope or a no_grad block
            node._tag = context.tag
            if not context.recording:
                node._op = None
                return node
        node._op = NEG
        node._x = self
        node._dx = -1.0
        node._y = y
        node._dy = None
        return node

    def __abs__(self) -> Value:
        """|x|; its derivative at 0 is 0, as in PyTorch."""
        x = self.data
        y = None
        try:
            out = abs(x)
        except (ArithmeticError, ValueError) as error:
            raise domain_error(ABS, error, x, y) from None
        node = new(Value)
        node.data = out
        node.grad = 0.0
        context = current_context()
        if context is not None:  # this thread has opened a scope or a no_grad block
            node._tag = context.tag
            if not context.recording:
                node._op = None
                return node
        node._op = ABS
        node._x = self
        node._dx = 1.0 if x > 0 else -1.0 if x < 0 else 0.0
        node._y = y
        node._dy = None
        return node

    def exp(self) -> Value:
        """e ** x; OverflowError for x > 709.78."""
        x = self.data
        y = None
        try:
            out = exp(x)
        except (ArithmeticError, ValueError) as error:
            raise domain_error(EXP, error, x, y) from None
        node = new(Value)
        node.data = out
        node.grad = 0.0
        context = current_context()
        if context is not None:  # this thread has opened a scope or a no_grad block
            node._tag = context.tag
            if not context.recording:
                node._op = None
                return node
        node._op = EXP
        node._x = self
        node._dx = out
        node._y = y
        node._dy = None
        return node

    def log(self) -> Value:
        """Natural logarithm; ValueError for x <= 0."""
        x = self.data
        y = None
        try:
            out = log(x)
        except (ArithmeticError, ValueError) as error:
            raise domain_error(LOG, error, x, y) from None
        node = new(Value)
        node.data = out
        node.grad = 0.0
        context = current_context()
        if context is not None:  # this thread has opened a scope or a no_grad block
            node._tag = context.tag
            if not context.recording:
                node._op = None
                return node
        node._op = LOG
        node._x = self
        node._dx = 1.0 / x
        node._y = y
        node._dy = None
        return node

    def sqrt(self) -> Value:
        """Square root; ValueError for x < 0."""
        x = self.data
        y = None
        try:
            out = sqrt(x)
        except (ArithmeticError, ValueError) as error:
            raise domain_error(SQRT, error, x, y) from None
        node = new(Value)
        node.data = out
        node.grad = 0.0
        context = current_context()
        if context is not None:  # this thread has opened a scope or a no_grad block
            node._tag = context.tag
            if not context.recording:
                node._op = None
                return node
        node._op = SQRT
        node._x = self
        node._dx = 0.5 * ieee_power(out, -1.0)
        node._y = y
        node._dy = None
        return node

    def tanh(self) -> Value:
        """Hyperbolic tangent."""
        x = self.data
        y = None
        try:
            out = tanh(x)
        except (ArithmeticError, ValueError) as error:
            raise domain_error(TANH, error, x, y) from None
        node = new(Value)
        node.data = out
        node.grad = 0.0
        context = current_context()
        if context is not None:  # this thread has opened a scope or a no_grad block
            node._tag = context.tag
            if not context.recording:
                node._op = None
                return node
        node._op = TANH
        node._x = self
        node._dx = 1.0 - out * out
        node._y = y
        node._dy = None
        return node

    def sigmoid(self) -> Value:
        """1 / (1 + e ** -x), finite for any input."""
        x = self.data
        y = None
        try:
            out = sigmoid(x)
        except (ArithmeticError, ValueError) as error:
            raise domain_error(SIGMOID, error, x, y) from None
        node = new(Value)
        node.data = out
        node.grad = 0.0
        context = current_context()
        if context is not None:  # this thread has opened a scope or a no_grad block
            node._tag = context.tag
            if not context.recording:
                node._op = None
                return node
        node._op = SIGMOID
        node._x = self
        node._dx = out * (1.0 - out)
        node._y = y
        node._dy = None
        return node

    def relu(self) -> Value:
        """max(x, 0); its derivative at 0 is 0, as in PyTorch."""
        x = self.data
        y = None
        try:
            out = 0.0 if x <= 0 else x
        except (ArithmeticError, ValueError) as error:
            raise domain_error(RELU, error, x, y) from None
        node = new(Value)
        node.data = out
        node.grad = 0.0
        context = current_context()
        if context is not None:  # this thread has opened a scope or a no_grad block
            node._tag = context.tag
            if not context.recording:
                node._op = None
                return node
        node._op = RELU
        node._x = self
        node._dx = 0.0 if x <= 0 else 1.0
        node._y = y
        node._dy = None
        return node

    def leaky_relu(self, slope: float = 0.01) -> Value:
        """x if x > 0 else slope * x; `slope` is a constant, not a node."""
        x = self.data
        y = slope if type(slope) is float else as_float(slope, "leaky_relu slope")
        try:
            out = x if x > 0 else y * x
        except (ArithmeticError, ValueError) as error:
            raise domain_error(LEAKY_RELU, error, x, y) from None
        node = new(Value)
        node.data = out
        node.grad = 0.0
        context = current_context()
        if context is not None:  # this thread has opened a scope or a no_grad block
            node._tag = context.tag
            if not context.recording:
                node._op = None
                return node
        node._op = LEAKY_RELU
        node._x = self
        node._dx = 1.0 if x > 0 else y
        node._y = y
        node._dy = None
        return node

    def softplus(self) -> Value:
        """log(1 + e ** x), finite for any input."""
        x = self.data
        y = None
        try:
            out = softplus(x)
        except (ArithmeticError, ValueError) as error:
            raise domain_error(SOFTPLUS, error, x, y) from None
        node = new(Value)
        node.data = out
        node.grad = 0.0
        context = current_context()
        if context is not None:  # this thread has opened a scope or a no_grad block
            node._tag = context.tag
            if not context.recording:
                node._op = None
                return node
        node._op = SOFTPLUS
        node._x = self
        node._dx = sigmoid(x)
        node._y = y
        node._dy = None
        return node

    def sin(self) -> Value:
        """Sine."""
        x = self.data
        y = None
        try:
            out = sin(x)
        except (ArithmeticError, ValueError) as error:
            raise domain_error(SIN, error, x, y) from None
        node = new(Value)
        node.data = out
        node.grad = 0.0
        context = current_context()
        if context is not None:  # this thread has opened a scope or a no_grad block
            node._tag = context.tag
            if not context.recording:
                node._op = None
                return node
        node._op = SIN
        node._x = self
        node._dx = cos(x)
        node._y = y
        node._dy = None
        return node

    def cos(self) -> Value:
        """Cosine."""
        x = self.data
        y = None
        try:
            out = cos(x)
        except (ArithmeticError, ValueError) as error:
            raise domain_error(COS, error, x, y) from None
        node = new(Value)
        node.data = out
        node.grad = 0.0
        context = current_context()
        if context is not None:  # this thread has opened a scope or a no_grad block
            node._tag = context.tag
            if not context.recording:
                node._op = None
                return node
        node._op = COS
        node._x = self
        node._dx = -sin(x)
        node._y = y
        node._dy = None
        return node

    # --- end of generated methods ---


def dot_product(ws: Sequence[Value], xs: Sequence[Value]) -> Value:
    """w0*x0 + w1*x1 + ... (beyond SPEC): the same number as `sum(w * x for ...)`, as one node.

    A neuron's weighted sum as one node with parents (w0, x0, w1, x1, ...) instead of 2n-1
    nodes: several times faster to build and backpropagate (the benchmark's W7), and what
    pictures, the player and `explain` show as one step, `dot`. d/dw_i is x_i, d/dx_i is w_i.
    The terms add up left to right, as a sum of Values does. ws and xs are sequences of Values
    of the same length, at least 1 (a number is no Value: wrap it as Value(x)).
    """
    for name, items in (("ws", ws), ("xs", xs)):
        if isinstance(items, (Value, set, frozenset, dict)) or not hasattr(items, "__iter__"):
            raise TypeError(
                f"dot_product takes two sequences of Values, in order; {name} is a "
                f"{type(items).__name__}"
            )
    ws, xs = list(ws), list(xs)
    if len(ws) != len(xs) or not ws:
        raise ValueError(
            f"dot_product needs two sequences of the same length, at least 1: got {len(ws)} "
            f"and {len(xs)}"
        )
    for name, items in (("ws", ws), ("xs", xs)):
        for index, item in enumerate(items):
            if not isinstance(item, Value):
                raise TypeError(
                    f"dot_product {name}[{index}] must be a Value, got {type(item).__name__}; "
                    "wrap a number as Value(x)"
                )
    w_data = [w.data for w in ws]
    x_data = [x.data for x in xs]
    total = w_data[0] * x_data[0]
    for w, x in zip(w_data[1:], x_data[1:], strict=True):  # a loop: sum() rounds differently
        total += w * x  # from Python 3.12 on
    node = new(Value)
    node.data = total
    node.grad = 0.0
    context = current_context()
    if context is not None:  # this thread has opened a scope or a no_grad block
        node._tag = context.tag
        if not context.recording:
            node._op = None
            return node
    node._op = DOT
    node._x = tuple(chain.from_iterable(zip(ws, xs, strict=True)))
    node._y = tuple(chain.from_iterable(zip(x_data, w_data, strict=True)))
    node._dx = node._dy = None  # the mark of an n-ary node (see engine.Node)
    return node


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
