"""Write `Value`'s operator methods into autograd/value.py from the rule table in autograd/ops.py.

Run `python tools/generate_value.py` after changing the table; `--check` exits 1 if value.py is
stale (tests/test_generated.py runs it). Only the two marked regions of value.py are rewritten.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "autograd"
IMPORTS = (
    "# --- generated imports: tools/generate_value.py ---\n",
    "# --- end of generated imports ---\n",
)
METHODS = (
    "    # --- generated methods: tools/generate_value.py, from the rule table in ops.py ---\n",
    "    # --- end of generated methods ---\n",
)

# Where a method finds its inputs x and y: a Value method's x is `self` unless it is reflected
# (`__rmul__`: `2 * v` runs v.__rmul__(2), so x is the 2).
_READ_OTHER = """\
        {v}_is_value = isinstance(other, Value)
        if {v}_is_value:
            {v} = other.data
        elif type(other) is float:
            {v} = other
        else:
            {v} = as_float(other, "{name} operand")
"""

_BODY = """\
        try:
            out = {forward}
        except (ArithmeticError, ValueError) as error:
            raise domain_error({constant}, error, x, y) from None
        node = new(Value)
        node.data = out
        node.grad = 0.0
        context = current_context()
        if context is not None:  # this thread has opened a scope or a no_grad block
            node._tag = context.tag
            if not context.recording:
                node._op = None
                return node
        node._op = {constant}
{record}        return node
"""


def load_ops(package: Path):
    """The rule table module of `package` (its ops.py imports only the standard library)."""
    spec = importlib.util.spec_from_file_location("_rule_table", package / "ops.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def constant_name(op) -> str:
    """The name ops.py gives the op: MUL for "mul"."""
    return op.name.upper()


def binary_method(op, method: str, self_is: str) -> str:
    """A binary op's method; `self_is` is "x" (`__mul__`) or "y" (`__rmul__`)."""
    other_is = "y" if self_is == "x" else "x"
    grads = dict(zip("xy", op.grad_sources, strict=True))
    record = ""
    for v in "xy":
        if v == self_is:
            record += f"        node._{v} = self\n        node._d{v} = {grads[v]}\n"
    record += (
        f"        if {other_is}_is_value:\n"
        f"            node._{other_is} = other\n"
        f"            node._d{other_is} = {grads[other_is]}\n"
        f"        else:\n"
        f"            node._{other_is} = {other_is}\n"
        f"            node._d{other_is} = None\n"
    )
    return (
        f"    def {method}(self, other: Value | float) -> Value:\n"
        f'        """{op.doc}"""\n'
        f"        {self_is} = self.data\n"
        + _READ_OTHER.format(v=other_is, name=op.name)
        + _BODY.format(forward=op.forward_source, constant=constant_name(op), record=record)
    )


def unary_method(op) -> str:
    """A unary op's method; a constant argument (`slope=0.01`) is its y."""
    method = op.methods[0]
    if op.constant:
        argument, default = op.constant.split("=")
        signature = f"self, {argument}: float = {default}"
        read_y = (
            f"        y = {argument} if type({argument}) is float"
            f' else as_float({argument}, "{op.name} {argument}")\n'
        )
    else:
        signature, read_y = "self", "        y = None\n"
    record = (
        "        node._x = self\n"
        f"        node._dx = {op.grad_sources[0]}\n"
        "        node._y = y\n"
        "        node._dy = None\n"
    )
    return (
        f"    def {method}({signature}) -> Value:\n"
        f'        """{op.doc}"""\n'
        "        x = self.data\n"
        + read_y
        + _BODY.format(forward=op.forward_source, constant=constant_name(op), record=record)
    )


def methods_source(ops) -> str:
    """Every op's methods, in table order."""
    methods = []
    for op in ops.OPS.values():
        if op.binary:
            method, reflected = op.methods
            methods += [binary_method(op, method, "x"), binary_method(op, reflected, "y")]
        else:
            methods.append(unary_method(op))
    return "\n".join(methods) + "\n"


def imports_source(ops) -> str:
    """value.py's imports: each op's constant and the float functions its rules call, and the
    modules the hand-written part of value.py uses."""
    names = set()
    for op in ops.OPS.values():
        if getattr(ops, constant_name(op), None) is not op:
            raise ValueError(f"ops.py must name op {op.name!r} {constant_name(op)}")
        for source in (op.forward_source, *op.grad_sources):
            names |= ops.rule_names(source)
    constants = {constant_name(op) for op in ops.OPS.values()}
    hand_written = {"DOT", "Op"}  # what the hand-written part of value.py takes from ops.py
    from_ops = sorted(constants | (names & vars(ops).keys()) | hand_written, key=_isort_order)
    from_math = sorted(names - vars(ops).keys() - {"abs"})
    lines = ["import numbers\n"]
    lines.append("from collections.abc import Sequence\n")
    lines.append("from itertools import chain\n")
    if from_math:
        lines.append(f"from math import {', '.join(from_math)}\n")
    lines.append("\nfrom autograd import engine\n")
    lines.append("from autograd.mode import NO_TAG, Tag, current_context\n")
    lines.append("from autograd.ops import (\n")
    lines += [f"    {name},\n" for name in from_ops]
    lines.append(")\n\n")
    return "".join(lines)


def _isort_order(name: str) -> tuple[int, str]:
    """The order ruff's isort gives imported names: CONSTANTS, then Classes, then functions."""
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def replace_region(text: str, markers: tuple[str, str], body: str) -> str:
    start, end = markers
    if text.count(start) != 1 or text.count(end) != 1:
        raise ValueError(f"value.py must hold the markers {start.strip()!r} and {end.strip()!r}")
    head, rest = text.split(start)
    _, tail = rest.split(end)
    return head + start + body + end + tail


def render(package: Path) -> str:
    """value.py as the generator writes it from `package`'s ops.py."""
    ops = load_ops(package)
    text = (package / "value.py").read_text(encoding="utf-8")
    text = replace_region(text, IMPORTS, imports_source(ops))
    return replace_region(text, METHODS, methods_source(ops))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if value.py is stale")
    parser.add_argument("--package", type=Path, default=PACKAGE, help="the autograd directory")
    arguments = parser.parse_args(argv)
    path = arguments.package / "value.py"
    text = render(arguments.package)
    if path.read_text(encoding="utf-8") == text:
        return 0
    if arguments.check:
        print(f"{path} is stale: run python tools/generate_value.py", file=sys.stderr)
        return 1
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
