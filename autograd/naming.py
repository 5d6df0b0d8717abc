"""Short names for the Values of a picture: a label, else one derived from how it was made.

`w11*x1`, `h1 + b1`, `tanh(…)`: operands are named the same way, and a name longer than
NAME_LIMIT shows its computed operands as `…`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from autograd.value import Value

NAME_LIMIT = 24  # characters; longer derived names elide their computed operands

# Infix ops: symbol, spacing and precedence (higher binds tighter); the rest read as calls.
_INFIX = {
    "add": (" + ", 1),
    "sub": (" - ", 1),
    "mul": ("*", 2),
    "div": ("/", 2),
    "pow": ("**", 4),
}
_ATOM = 5  # a label, a number or a call: never needs parentheses
_NEGATION = 3
_LABEL_ATOM = re.compile(r"[\w.\[\]]+")  # labels like x1, h1, 0.weight[0][1] read as one name
ELLIPSIS = "…"


def derived_names(order: Iterable[Value]) -> dict[Value, str]:
    """A short name for each Value of `order` (parents before children): label or derived."""
    names: dict[Value, tuple[str, int, bool]] = {}  # name, precedence, derived
    for node in order:
        if node.label:
            precedence = _ATOM if _LABEL_ATOM.fullmatch(node.label) else 0
            names[node] = (node.label, precedence, False)
        elif node._op is None:
            names[node] = ("leaf", _ATOM, False)
        else:
            names[node] = _derive(node, names)
    return {node: name for node, (name, _, _) in names.items()}


def _derive(node: Value, names: dict) -> tuple[str, int, bool]:
    inputs = node.parents if node.op == "dot" else (node._x, node._y)
    operands = [_operand(x, names) for x in inputs if x is not None]
    name, precedence = _combine(node, operands, elide=False)
    if len(name) > NAME_LIMIT:
        name, precedence = _combine(node, operands, elide=True)
    return _shorten(name), precedence, True


def _operand(x, names: dict) -> tuple[str, int, bool]:
    if isinstance(x, Value):
        return names[x]
    text = format_constant(x)
    return text, _NEGATION if text.startswith("-") else _ATOM, False


def _combine(node: Value, operands: list, elide: bool) -> tuple[str, int]:
    """The name of `node` from its operands (name, precedence, derived); `elide`: derived -> …"""
    texts = [
        (ELLIPSIS, _ATOM) if elide and derived else (text, precedence)
        for text, precedence, derived in operands
    ]
    op = node._op.name
    if op == "dot":  # w1*x1 + w2*x2 + …: its first two products (the first one if elided)
        products = [
            "*".join(f"({t})" if p < _INFIX["mul"][1] else t for t, p in texts[k : k + 2])
            for k in range(0, len(texts), 2)
        ]
        shown = products[:1] if elide else products[:2]
        return " + ".join(shown) + (" + …" if len(products) > len(shown) else ""), _INFIX["add"][1]
    if op in _INFIX and len(texts) == 2:
        symbol, precedence = _INFIX[op]
        (left, left_precedence), (right, right_precedence) = texts
        # Left-associative except **: the right operand of - and / needs parentheses sooner.
        right_assoc = op == "pow"
        if left_precedence < precedence or (right_assoc and left_precedence == precedence):
            left = f"({left})"
        if right_precedence < precedence or (
            not right_assoc and op in ("sub", "div") and right_precedence == precedence
        ):
            right = f"({right})"
        return f"{left}{symbol}{right}", precedence
    if op == "neg":
        text, precedence = texts[0]
        return (f"-({text})" if precedence < _NEGATION else f"-{text}"), _NEGATION
    return f"{op}({', '.join(text for text, _ in texts)})", _ATOM


def _shorten(name: str) -> str:
    """`name` cut in the middle to NAME_LIMIT characters (long labels inside a derived name)."""
    if len(name) <= NAME_LIMIT:
        return name
    half = (NAME_LIMIT - 1) // 2
    return name[:half] + ELLIPSIS + name[-(NAME_LIMIT - 1 - half) :]


def format_number(x: float) -> str:
    """A Value's data or grad: 4 decimals, or 4 significant digits in e-notation if tiny/huge."""
    if x == 0 or 1e-4 <= abs(x) < 1e6 or x != x:
        return f"{x:.4f}"
    return f"{x:.4e}"


def format_constant(x: float) -> str:
    """A constant operand (the 3 in `x * 3`), as short as it reads."""
    return f"{x:.6g}"
