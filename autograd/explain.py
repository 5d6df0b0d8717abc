"""One gradient explained: d output / d wrt as the sum, over every path, of the local derivatives'
product along it, printed as the chain rule a learner writes by hand.
"""

from __future__ import annotations

import math

from autograd.engine import topological_order
from autograd.files import positive_int
from autograd.steps import contribution
from autograd.value import Value

# How a binary op reads between its operands in a derived name; others read as `op(x)`.
_INFIX = {"add": " + ", "sub": " - ", "mul": "*", "div": "/", "pow": "**"}
_LONGEST_OPERAND = 12  # a longer operand name is shown as "…" inside a derived name


def names_for(nodes) -> dict[Value, str]:
    """A short name for each Value in `nodes` (parents before children): its label, else derived.

    An unlabelled leaf is named by its data (`2.5`), an unlabelled result by how it was made
    (`w11*x1`, `tanh(…)`).
    """
    # NOTE: the pictures will derive names too; this is the one place to switch to theirs.
    names: dict[Value, str] = {}
    for node in nodes:
        if node.label:
            names[node] = printable(node.label)
        elif not node.parents:
            names[node] = format(node.data, ".4g")
        else:
            names[node] = _derived_name(node, [names.get(p) or "…" for p in node.parents])
    return names


def printable(label: str) -> str:
    """`label` with each character no page or terminal can show (a lone surrogate, a control
    character) written as its escape code, e.g. `\\udc80`, as the pictures draw it."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in label)


def _derived_name(node: Value, operands: list[str]) -> str:
    operands = ["…" if len(name) > _LONGEST_OPERAND else name for name in operands]
    if node.op == "dot":  # w1*x1 + w2*x2 + …
        pairs = zip(operands[0::2], operands[1::2], strict=True)
        products = [f"{_operand(a, '*')}*{_operand(b, '*')}" for a, b in pairs]
        return " + ".join(products[:2]) + (" + …" if len(products) > 2 else "")
    infix = _INFIX.get(node.op)
    if infix is not None and len(operands) == 2:
        return _operand(operands[0], infix) + infix + _operand(operands[1], infix)
    if infix is not None:
        return _with_constant(node, _operand(operands[0], infix))
    if node.op == "neg":
        return f"-{_operand(operands[0], '*')}"
    return f"{node.op}({', '.join(operands)})"


def _operand(name: str, infix: str) -> str:
    """`name` as an operand of `infix`, in parentheses where it would read wrongly without."""
    binds_loosely = (" ",) if infix.startswith(" ") else (" ", "*", "/", "-")
    return f"({name})" if any(char in name for char in binds_loosely) else name


def _with_constant(node: Value, operand: str) -> str:
    """`x + 1`, `3*x`, `x**2`: a binary op with one constant, read back from its local derivative.

    The constant is not a public attribute, so it is recovered from data and local derivative and
    shown only when the op recomputes the result from it; otherwise `pow(x)`.
    """
    (parent,), (local,) = node.parents, node.local_grads
    x, out = parent.data, node.data
    candidates = {  # (text, the result it implies)
        "add": [(f"{operand} + {{}}", out - x, lambda k: x + k)],
        "sub": [(f"{operand} - {{}}", x - out, lambda k: x - k)]
        if local > 0
        else [("{} - " + operand, out + x, lambda k: k - x)],
        "mul": [("{}*" + operand, local, lambda k: k * x)],
        "div": [(f"{operand}/{{}}", 1 / local, lambda k: x / k)] if local else [],
        "pow": [(f"{operand}**{{}}", local * x / out, lambda k: x**k)] if out and x else [],
    }[node.op]
    if node.op == "div" and x:
        candidates.append(("{}/" + operand, out * x, lambda k: k / x))
    for text, constant, result in candidates:
        try:
            if math.isclose(result(constant), out, rel_tol=1e-9, abs_tol=1e-12):
                return text.format(short_number(constant))
        except (ArithmeticError, ValueError, TypeError):
            continue
    return f"{node.op}({operand})"


def reference(name: str) -> str:
    """`name` ready to be followed by `.grad` or put after `d`: in parentheses unless a name."""
    return name if name.isidentifier() else f"({name})"


def short_number(x: float) -> str:
    """`x` in 4 significant digits, as derivations and the player show numbers."""
    return format(x, ".4g")


def _sum(terms: list[float]) -> float:
    """The sum of `terms`, rounded once (fsum); inf + -inf is nan and past 1e308 inf, as grad()."""
    try:
        return math.fsum(terms)
    except (OverflowError, ValueError):  # fsum raises where IEEE 754 gives inf or nan
        return sum(terms)


def count_paths(output: Value, wrt: Value) -> int:
    """How many paths lead from `wrt` up to `output` (a parent listed twice counts twice)."""
    counts = {wrt: 1}
    for node in topological_order(output):
        if node is not wrt and node.parents:
            counts[node] = sum(counts.get(parent, 0) for parent in node.parents)
    return counts.get(output, 0)


class Explanation:
    """d output / d wrt as a sum over paths; `str()` is the derivation, Jupyter shows it as math."""

    def __init__(self, output: Value, wrt: Value, max_paths: int = 100):
        for name, item in (("output", output), ("wrt", wrt)):
            if not isinstance(item, Value):
                raise TypeError(f"explain {name} must be a Value, got {type(item).__name__}")
        positive_int(max_paths, "max_paths")
        count = count_paths(output, wrt)
        if count > max_paths:
            raise ValueError(
                f"{count} paths lead from wrt to output, more than max_paths={max_paths}: pass a "
                "larger max_paths, or follow the pass edge by edge with backward_steps(output)"
            )
        self.output = output
        self.wrt = wrt
        self.paths: list[tuple[Value, ...]] = []
        self.terms: list[float] = []
        self._factors: list[list[tuple[Value, Value, float]]] = []  # (upper, lower, factor)
        if count:
            self._collect_paths()
        self.total: float = _sum(self.terms)
        self._names = names_for(topological_order(output))
        self._names.setdefault(wrt, names_for([wrt])[wrt])

    def _collect_paths(self) -> None:
        """Every path from `output` down to `wrt`, without recursion; only nodes on some path."""
        reaches = {self.wrt}  # the nodes that `wrt` leads to
        for node in topological_order(self.output):
            if any(parent in reaches for parent in node.parents):
                reaches.add(node)
        # Each entry: a node and the way down to it from `output`, as a linked list of edges
        # ((child, node, local), rest): shared tails keep a long chain linear, not quadratic.
        stack: list[tuple[Value, tuple | None]] = [(self.output, None)]
        while stack:
            node, way = stack.pop()
            if node is self.wrt:
                edges = []
                while way is not None:
                    edge, way = way
                    edges.append(edge)
                self._add_path(edges[::-1])
                continue
            below = list(zip(node.parents, node.local_grads, strict=True))
            for parent, local in reversed(below):  # popped in argument order
                if parent in reaches:
                    stack.append((parent, ((node, parent, local), way)))

    def _add_path(self, edges: list) -> None:
        self.paths.append((self.wrt, *reversed([child for child, _, _ in edges])))
        term = 1.0
        for child, _, local in edges:
            term = contribution(child, term, local)
        self.terms.append(term)
        self._factors.append(_chain_factors(edges))

    # --- text ----------------------------------------------------------------------------------

    def _d(self, upper: Value, lower: Value) -> str:
        return f"d{reference(self._names[upper])}/d{reference(self._names[lower])}"

    def _chain(self, factors, term: float, d, times: str) -> str:
        """'dL/dy * dy/dh1 = 0.7509 * 0.4 = 0.3004' for one path, `d` writing each derivative."""
        symbols = times.join(d(upper, lower) for upper, lower, _ in factors)
        numbers = times.join(short_number(value) for _, _, value in factors)
        # A one-factor chain would repeat itself ("dL/dx = 3 = 3"): say each thing once.
        return " = ".join(
            dict.fromkeys(part for part in (symbols, numbers, short_number(term)) if part)
        )

    def __str__(self) -> str:
        whole = self._d(self.output, self.wrt)
        out, wrt = self._names[self.output], self._names[self.wrt]
        if not self.paths:
            return f"{whole} = 0: {out} does not depend on {wrt} (no path from {wrt} to {out})"
        chains = [
            self._chain(factors, term, self._d, " * ")
            for factors, term in zip(self._factors, self.terms, strict=True)
        ]
        if len(chains) == 1:
            return " = ".join(dict.fromkeys([whole, *chains[0].split(" = ")]))
        lines = [f"{whole} = the sum over {len(chains)} paths from {wrt} to {out}:"]
        lines += [f"  {'+' if index else ' '} {chain}" for index, chain in enumerate(chains)]
        lines.append(f"  = {short_number(self.total)}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        count = len(self.paths)
        return (
            f"<Explanation {self._d(self.output, self.wrt)} = {short_number(self.total)}, "
            f"{count} path{'' if count == 1 else 's'}>"
        )

    def _latex_d(self, upper: Value, lower: Value) -> str:
        return (
            rf"\frac{{\partial {_latex_name(self._names[upper])}}}"
            rf"{{\partial {_latex_name(self._names[lower])}}}"
        )

    def _repr_latex_(self) -> str:
        """The derivation as display math, for Jupyter."""
        whole = self._latex_d(self.output, self.wrt)
        if not self.paths:
            out, wrt = (_latex_name(self._names[v]) for v in (self.output, self.wrt))
            return rf"$${whole} = 0 \quad \text{{(no path from }} {wrt} \text{{ to }} {out})$$"
        rows = [
            ("&\\quad + " if index else f"{whole} &= ")
            + self._chain(factors, term, self._latex_d, r" \cdot ")
            for index, (factors, term) in enumerate(zip(self._factors, self.terms, strict=True))
        ]
        if len(rows) > 1:
            rows.append(f"&= {short_number(self.total)}")
        return "$$\\begin{aligned}" + " \\\\ ".join(rows) + "\\end{aligned}$$"

    def _repr_markdown_(self) -> str:
        """The same math for front ends that render Markdown (JupyterLab, VS Code)."""
        return self._repr_latex_()


def _chain_factors(edges: list) -> list[tuple[Value, Value, float]]:
    """One path's chain-rule factors (upper, lower, value), top down, for the text.

    The path is cut at its labelled nodes (as a learner names h1 and y); a path without any is
    cut at every node where the factor so far is not 1, so the 1s from sums merge into the next.
    """
    if not edges:
        return []
    inner = [parent for _, parent, _ in edges[:-1]]
    labelled = any(node.label for node in inner)
    factors = []
    upper, value = edges[0][0], 1.0
    for index, (child, parent, local) in enumerate(edges):
        value = contribution(child, value, local)
        last = index == len(edges) - 1
        if last or (parent.label if labelled else value != 1.0):
            factors.append((upper, parent, value))
            upper, value = parent, 1.0
    return factors


def _latex_name(name: str) -> str:
    escaped = "".join(_LATEX_ESCAPES.get(char, char) for char in name)
    return rf"\mathrm{{{escaped}}}"


_LATEX_ESCAPES = {
    "\\": r"\backslash ",
    "{": r"\{",
    "}": r"\}",
    "_": r"\_",
    "^": r"\hat{}",
    "#": r"\#",
    "$": r"\$",
    "%": r"\%",
    "&": r"\&",
    "~": r"\sim ",
    " ": r"\ ",
    "…": r"\ldots ",
}


def explain(output: Value, wrt: Value, max_paths: int = 100) -> Explanation:
    """d output / d wrt as the sum over paths of the local derivatives' products, and its text."""
    return Explanation(output, wrt, max_paths)
