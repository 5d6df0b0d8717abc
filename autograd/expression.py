"""Build a Value graph from an expression like "tanh(x*w + b)", for `scalargrad graph`.

The text is parsed with `ast` and every node is checked against an allow-list, then evaluated
by walking the tree with an explicit stack; nothing is ever passed to `eval` or `exec`.
"""

from __future__ import annotations

import ast
import keyword
import operator
import warnings
from collections.abc import Iterable, Mapping

from autograd import ops
from autograd.mode import no_grad
from autograd.value import Value

MAX_LENGTH = 10_000
FUNCTIONS = tuple(ops.FUNCTIONS)  # from the rule table: each op callable as name(x)
LABEL_LENGTH = 32  # longer subexpressions are shortened in the middle for their node's label

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}
_ALLOWED = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Constant,
    ast.Name,
    ast.Call,
    ast.Attribute,  # only as the method of a call, checked below
    ast.Load,
    *_BINARY,
    *_UNARY,
)
_WHAT = {
    ast.Subscript: "subscripts",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.Compare: "comparisons",
    ast.BoolOp: "and/or",
    ast.IfExp: "conditional expressions",
    ast.NamedExpr: "assignments",
    ast.Starred: "* unpacking",
    ast.JoinedStr: "f-strings",
    ast.List: "lists",
    ast.Tuple: "tuples",
    ast.Set: "sets",
    ast.Dict: "dicts",
    ast.FloorDiv: "the // operator",
    ast.Mod: "the % operator",
    ast.MatMult: "the @ operator",
    ast.Not: "the not operator",
    ast.Invert: "the ~ operator",
}
_ALLOWED_TEXT = (
    "allowed: numbers, names, + - * / **, unary -, parentheses, and "
    + " ".join(FUNCTIONS)
    + " called as tanh(x) or (x).tanh()"
)


def parse_expression(source: str) -> ast.Expression:
    """Parse `source` and check every node against the allow-list; ValueError if refused."""
    if not isinstance(source, str):
        raise TypeError(f"expression must be a str, got {type(source).__name__}")
    if len(source) > MAX_LENGTH:
        raise ValueError(
            f"expression is {len(source):,} characters long; the limit is {MAX_LENGTH:,}"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. SyntaxWarning: they would print to stderr
            tree = ast.parse(source.strip(), mode="eval")
    except (RecursionError, MemoryError):
        raise ValueError("expression is nested too deeply to parse; simplify it") from None
    except SyntaxError as error:
        where = f" at column {error.offset}" if error.offset else ""
        raise ValueError(f"invalid expression: {error.msg}{where}") from None
    except ValueError as error:  # e.g. null bytes, on some Python versions
        raise ValueError(f"invalid expression: {error}") from None
    _check_nodes(tree, source.strip())
    return tree


def build_graph(source: str, variables: Mapping[str, float]) -> Value:
    """Evaluate `source` into a graph whose leaves are `variables`, one labelled Value each.

    Every name in the expression must be given a value and every given value must be used.
    Intermediate Values are labelled with the (shortened) text of their subexpression.
    """
    tree = parse_expression(source)
    text = source.strip()
    functions = {node.func for node in ast.walk(tree) if isinstance(node, ast.Call)}
    names = {
        node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and node not in functions
    }
    missing = sorted(names - set(variables))
    if missing:
        settings = " ".join(f"{name}=..." for name in missing)
        noun = "name" if len(missing) == 1 else "names"
        raise ValueError(f"{noun} {', '.join(missing)} not set; give values with --set {settings}")
    unused = sorted(set(variables) - names)
    if unused:
        raise ValueError(f"--set {', '.join(unused)}: not used in the expression {text!r:.80}")
    leaves = {name: Value(variables[name], label=name) for name in sorted(names)}
    result = _evaluate(tree, text, leaves)
    if isinstance(result, Value):
        return result
    return Value(result, label=_shorten(text))  # a constant expression: a graph of one leaf


def parse_assignments(items: Iterable[str]) -> dict[str, float]:
    """`["x=2", "w=-3"]` -> `{"x": 2.0, "w": -3.0}`; ValueError naming a malformed item."""
    variables: dict[str, float] = {}
    for item in items:
        name, equals, number = item.partition("=")
        name = name.strip()
        if not equals or not name.isidentifier() or keyword.iskeyword(name):
            raise ValueError(f"--set expects NAME=NUMBER, e.g. x=2, got {item!r}")
        try:
            value = float(number)
        except ValueError:
            raise ValueError(f"--set {name}: {number!r} is not a number") from None
        if name in variables:
            raise ValueError(f"--set {name} is given twice")
        variables[name] = value
    return variables


def _check_nodes(tree: ast.Expression, source: str) -> None:
    methods = set()  # Attribute nodes that are the method of a call
    for node in ast.walk(tree):  # breadth-first with a queue: no recursion
        # An operator is judged at its BinOp/UnaryOp, which has a position to point at.
        operator_node = getattr(node, "op", None)
        if isinstance(node, ast.BinOp | ast.UnaryOp) and type(operator_node) not in _ALLOWED:
            what = _WHAT.get(type(operator_node), f"operator {type(operator_node).__name__}")
            raise ValueError(f"{what} not allowed{_at(node, source)}; {_ALLOWED_TEXT}")
        if not isinstance(node, _ALLOWED):
            what = _WHAT.get(type(node), type(node).__name__)
            raise ValueError(f"{what} not allowed{_at(node, source)}; {_ALLOWED_TEXT}")
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                raise ValueError(
                    f"constant {node.value!r:.40} not allowed; only int and float numbers"
                )
        elif isinstance(node, ast.Attribute) and node not in methods:
            raise ValueError(f"attribute access not allowed{_at(node, source)}; {_ALLOWED_TEXT}")
        elif isinstance(node, ast.Call):
            _check_call(node, source)
            if isinstance(node.func, ast.Attribute):
                methods.add(node.func)


def _check_call(call: ast.Call, source: str) -> None:
    func = call.func
    if isinstance(func, ast.Name):
        name, operands = func.id, len(call.args)
    elif isinstance(func, ast.Attribute):
        name, operands = func.attr, len(call.args) + 1  # the receiver is the first operand
    else:
        raise ValueError(f"only named functions can be called{_at(call, source)}; {_ALLOWED_TEXT}")
    if name not in FUNCTIONS:
        raise ValueError(f"unknown function {name!r}{_at(call, source)}; {_ALLOWED_TEXT}")
    if call.keywords:
        raise ValueError(f"keyword arguments not allowed{_at(call, source)}; pass them by position")
    constant = ops.FUNCTIONS[name].constant.split("=")[0]  # the slope of leaky_relu, or ""
    allowed = (1, 2) if constant else (1,)
    if operands not in allowed:
        usage = f"{name}(x) or {name}(x, {constant})" if constant else f"{name}(x)"
        raise ValueError(f"wrong number of arguments{_at(call, source)}; use {usage}")


def _operands(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        receiver = [node.func.value] if isinstance(node.func, ast.Attribute) else []
        return receiver + list(node.args)
    return []


def _evaluate(tree: ast.Expression, source: str, leaves: dict[str, Value]) -> Value | float:
    # Post-order with an explicit stack: a node is computed after its operands, and deeply
    # nested input cannot exhaust Python's recursion limit.
    results: dict[ast.AST, Value | float] = {}
    stack = [(tree.body, False)]
    while stack:
        node, operands_ready = stack.pop()
        operands = _operands(node)
        if operands and not operands_ready:
            stack.append((node, True))
            stack.extend((operand, False) for operand in reversed(operands))
            continue
        arguments = [results.pop(operand) for operand in operands]
        try:
            result = _apply(node, arguments, leaves)
        except (ArithmeticError, ValueError) as error:
            raise ValueError(f"cannot evaluate {_snippet(node, source)!r}: {error}") from None
        # Label each new node; a name is already its leaf, and +x is x itself.
        is_new = not isinstance(node, ast.Name) and all(result is not x for x in arguments)
        if isinstance(result, Value) and is_new:
            result.label = _shorten(_snippet(node, source))
        results[node] = result
    return results[tree.body]


def _apply(node: ast.AST, arguments: list, leaves: dict[str, Value]) -> Value | float:
    if isinstance(node, ast.Constant):
        return float(node.value)  # ints become floats first, so ** of constants cannot hang
    if isinstance(node, ast.Name):
        return leaves[node.id]
    if isinstance(node, ast.UnaryOp):
        return _on_values(_UNARY[type(node.op)], arguments)
    if isinstance(node, ast.BinOp):
        return _on_values(_BINARY[type(node.op)], arguments)
    name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
    x, *slope = arguments
    if slope and isinstance(slope[0], Value):
        raise ValueError("the slope of leaky_relu must be a number, not depend on a variable")
    if name == "abs":
        return _on_values(abs, [x])
    return _on_values(lambda value: getattr(value, name)(*slope), [x])


def _on_values(function, arguments: list) -> Value | float:
    """`function(*arguments)`; numbers alone go through a throwaway Value for the engine's rules."""
    if any(isinstance(argument, Value) for argument in arguments):
        return function(*arguments)
    with no_grad():
        return function(Value(arguments[0]), *arguments[1:]).data


def _snippet(node: ast.AST, source: str) -> str:
    segment = ast.get_source_segment(source, node) or ""
    return " ".join(segment.split())


def _shorten(text: str) -> str:
    if len(text) <= LABEL_LENGTH:
        return text
    half = (LABEL_LENGTH - 1) // 2
    return text[:half] + "…" + text[-half:]


def _at(node: ast.AST, source: str) -> str:
    return f" (in {_shorten(_snippet(node, source))!r})"
