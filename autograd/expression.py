"""Build a Value graph from an expression like "tanh(x*w + b)", for `scalargrad graph`.

The text is parsed into `ast` nodes by a small parser of our own (chains such as x + x + ... + x
in a loop, so length alone never nests), every node is checked against an allow-list, and the
tree is evaluated with an explicit stack; nothing is ever passed to `eval` or `exec`.
"""

from __future__ import annotations

import ast
import difflib
import functools
import io
import keyword
import math
import operator
import tokenize
import unicodedata
import warnings
from collections.abc import Iterable, Mapping
from typing import NoReturn

from autograd import ops
from autograd.mode import no_grad
from autograd.value import Value

MAX_LENGTH = 10_000
# Parentheses, calls, signs and powers inside one another; Python's own parser allows 200
# parentheses. Chains of + - * / do not nest, however long.
MAX_NESTING = 200
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
    ast.BitXor: "the ^ operator (a power is x**2)",
    ast.BitOr: "the | operator",
    ast.BitAnd: "the & operator",
    ast.LShift: "the << operator",
    ast.RShift: "the >> operator",
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
    text = _normalized(source)
    try:
        tree = _Parser(text).parse()
    except _Refused as refusal:
        _explain_refusal(text, refusal)
    except RecursionError:  # only if the caller is itself deep in recursion
        raise ValueError("expression is nested too deeply to parse here; simplify it") from None
    _check_nodes(tree, text)
    return tree


def build_graph(source: str, variables: Mapping[str, float]) -> Value:
    """Evaluate `source` into a graph whose leaves are `variables`, one labelled Value each.

    Every name in the expression must be given a value and every given value must be used.
    Intermediate Values are labelled with the (shortened) text of their subexpression.
    """
    tree = parse_expression(source)
    text = _normalized(source)
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


def _normalized(source: str) -> str:
    """`source` stripped, with its line breaks as "\\n" alone, as positions count them."""
    return source.strip().replace("\r\n", "\n").replace("\r", "\n")


class _Refused(Exception):
    """The text is outside the grammar; `final` if the message needs no help from Python's."""

    def __init__(self, message: str, *, final: bool = False) -> None:
        super().__init__(message)
        self.final = final


_SIGNS = {"-": ast.USub, "+": ast.UAdd}
_INFIX = {"+": (1, ast.Add), "-": (1, ast.Sub), "*": (2, ast.Mult), "/": (2, ast.Div)}
_CONSTANT_NAMES = {"True": True, "False": False, "None": None}
_OPERAND_STARTS = {tokenize.NAME, tokenize.NUMBER}


class _Parser:
    """Operator precedence over Python's tokens, building the very nodes `ast.parse` would.

    Binary operators are reduced with explicit stacks, so a flat chain of any length costs no
    recursion; only nesting (parentheses, calls, signs, the right side of **) recurses, at most
    MAX_NESTING deep, three frames a level.
    """

    def __init__(self, text: str) -> None:
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
        except (tokenize.TokenError, SyntaxError) as error:
            raise _Refused(str(error)) from None
        self.tokens = [
            token for token in tokens if token.type not in (tokenize.NL, tokenize.COMMENT)
        ]
        self.index = 0

    def parse(self) -> ast.Expression:
        """The whole text as one expression."""
        body, _, _ = self.expression(0)
        if self.peek().type == tokenize.NEWLINE:
            self.index += 1
        if self.peek().type != tokenize.ENDMARKER:
            self.unexpected()
        return ast.Expression(body=body)

    def expression(self, depth: int) -> tuple[ast.expr, tuple, tuple]:
        """Operands joined by + - * /, left to right; returns the node and its span."""
        operands = [self.operand(depth)]
        operators: list[tuple[int, type]] = []
        while self.peek().string in _INFIX and self.peek().type == tokenize.OP:
            precedence, kind = _INFIX[self.next().string]
            while operators and operators[-1][0] >= precedence:  # left-associative
                _reduce(operands, operators.pop()[1])
            operators.append((precedence, kind))
            operands.append(self.operand(depth))
        while operators:
            _reduce(operands, operators.pop()[1])
        return operands[0]

    def operand(self, depth: int) -> tuple[ast.expr, tuple, tuple]:
        """Signs, then a primary with its calls and attributes, then an optional ** power."""
        signs = []
        while self.peek().string in _SIGNS and self.peek().type == tokenize.OP:
            signs.append(self.next())
        depth += len(signs)
        if depth > MAX_NESTING:
            raise _Refused(
                f"expression is nested too deeply (over {MAX_NESTING} levels of parentheses, "
                "calls, signs or powers inside one another); simplify it",
                final=True,
            )
        node, start, end = self.primary(depth)
        if self.peek().string == "**":
            self.next()
            exponent, _, end = self.operand(depth + 1)
            node = _located(ast.BinOp(node, ast.Pow(), exponent), start, end)
        for sign in reversed(signs):
            start = _position(sign, sign.start)
            node = _located(ast.UnaryOp(_SIGNS[sign.string](), node), start, end)
        self.refuse_adjacent_operand(node)
        return node, start, end

    def primary(self, depth: int) -> tuple[ast.expr, tuple, tuple]:
        """A name, a number or a parenthesised expression, then any calls and .attributes."""
        token = self.next()
        start = _position(token, token.start)
        if token.type == tokenize.NUMBER:
            try:
                value = ast.literal_eval(token.string)
            except (ValueError, SyntaxError) as error:  # e.g. an int of over 4300 digits
                raise _Refused(str(error)) from None
            node = _located(ast.Constant(value), start, _position(token, token.end))
        elif token.type == tokenize.NAME and token.string in _CONSTANT_NAMES:
            node = _located(
                ast.Constant(_CONSTANT_NAMES[token.string]), start, _position(token, token.end)
            )
        elif (
            token.type == tokenize.NAME
            and token.string.isidentifier()
            and not keyword.iskeyword(token.string)
        ):
            name = unicodedata.normalize("NFKC", token.string)  # as Python's parser does
            node = _located(ast.Name(name, ast.Load()), start, _position(token, token.end))
        elif token.string == "(" and token.type == tokenize.OP:
            node, _, _ = self.expression(depth + 1)
            self.expect(")")
        else:
            self.index -= 1
            self.unexpected()
        end = _position(self.tokens[self.index - 1], self.tokens[self.index - 1].end)
        while self.peek().type == tokenize.OP and self.peek().string in ("(", "."):
            if self.next().string == ".":
                attribute = self.next()
                if attribute.type != tokenize.NAME or not attribute.string.isidentifier():
                    self.index -= 1
                    self.unexpected()
                end = _position(attribute, attribute.end)
                node = _located(ast.Attribute(node, attribute.string, ast.Load()), start, end)
            else:
                arguments = []
                while self.peek().string != ")":
                    argument, _, _ = self.expression(depth + 1)
                    arguments.append(argument)
                    if self.peek().string != ",":
                        break
                    self.next()
                closing = self.expect(")")
                end = _position(closing, closing.end)
                node = _located(ast.Call(node, arguments, []), start, end)
        return node, start, end

    def refuse_adjacent_operand(self, node: ast.expr) -> None:
        """`3x` or `x y`: two operands with no operator between them; suggest the product."""
        following = self.peek()
        if following.type in _OPERAND_STARTS and not keyword.iskeyword(following.string):
            before = self.tokens[self.index - 1]
            product = f"{before.string}*{following.string}"
            raise _Refused(
                f"missing operator between {before.string!r} and {following.string!r} at "
                f"column {following.start[1] + 1}; did you mean {product}?",
                final=True,
            )

    def peek(self) -> tokenize.TokenInfo:
        return self.tokens[self.index]

    def next(self) -> tokenize.TokenInfo:
        token = self.tokens[self.index]
        if token.type != tokenize.ENDMARKER:
            self.index += 1
        return token

    def expect(self, symbol: str) -> tokenize.TokenInfo:
        if self.peek().string != symbol or self.peek().type != tokenize.OP:
            self.unexpected()
        return self.next()

    def unexpected(self) -> NoReturn:
        token = self.peek()
        what = (
            "the end"
            if token.type in (tokenize.ENDMARKER, tokenize.NEWLINE)
            else repr(token.string)
        )
        raise _Refused(f"unexpected {what} at column {token.start[1] + 1}")


def _position(token: tokenize.TokenInfo, where: tuple[int, int]) -> tuple[int, int]:
    """(line, column) as `ast` counts them: the column in UTF-8 bytes."""
    line, column = where
    return line, len(token.line[:column].encode("utf-8"))


def _located(node: ast.expr, start: tuple[int, int], end: tuple[int, int]) -> ast.expr:
    node.lineno, node.col_offset = start
    node.end_lineno, node.end_col_offset = end
    return node


def _reduce(operands: list, kind: type) -> None:
    """Replace the last two operands (node, start, end) with their BinOp."""
    right, _, end = operands.pop()
    left, start, _ = operands.pop()
    operands.append((_located(ast.BinOp(left, kind(), right), start, end), start, end))


def _explain_refusal(text: str, refusal: _Refused) -> NoReturn:
    """Say why `text` is refused; for what our grammar lacks, Python's parser names it best."""
    if refusal.final:
        raise ValueError(str(refusal)) from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. SyntaxWarning: they would print to stderr
            tree = ast.parse(text, mode="eval")
    except (RecursionError, MemoryError):
        raise ValueError(f"invalid expression: {refusal}") from None
    except SyntaxError as error:
        raise ValueError(_syntax_message(error, text)) from None
    except ValueError as error:  # e.g. null bytes, on some Python versions
        raise ValueError(f"invalid expression: {error}") from None
    _check_nodes(tree, text)  # names the construct that is not allowed
    raise ValueError(f"invalid expression: {refusal}")


def _syntax_message(error: SyntaxError, text: str) -> str:
    where = f" at column {error.offset}" if error.offset else ""
    if "decimal literal" in (error.msg or "") and error.lineno and error.offset:
        line = text.splitlines()[error.lineno - 1]
        number, name = _number_and_name(line, error.offset - 1)
        if name:
            return f"invalid expression: {number + name!r}{where}; did you mean {number}*{name}?"
    return f"invalid expression: {error.msg}{where}"


def _number_and_name(line: str, index: int) -> tuple[str, str]:
    """Split the word around `index`, like `2.5e3x`, into a number and the name glued to it."""
    start = end = index
    while start > 0 and (line[start - 1].isalnum() or line[start - 1] in "._"):
        start -= 1
    while end < len(line) and (line[end].isalnum() or line[end] in "._"):
        end += 1
    word = line[start:end]
    for split in range(len(word) - 1, 0, -1):
        number, name = word[:split], word[split:]
        if name.isidentifier() and _is_number(number):
            return number, name
    return word, ""


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


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
            constant = getattr(math, node.attr, None) if isinstance(node.value, ast.Name) else None
            instead = f"write the number {constant!r}" if isinstance(constant, float) else ""
            raise ValueError(
                f"attribute access not allowed{_at(node, source)}; {instead or _ALLOWED_TEXT}"
            )
        elif isinstance(node, ast.Call):
            _check_call(node, source)
            if isinstance(node.func, ast.Attribute):
                methods.add(node.func)


def _check_call(call: ast.Call, source: str) -> None:
    func = call.func
    arguments = ", ".join(_snippet(argument, source) for argument in call.args)
    if isinstance(func, ast.Name):
        name, operands = func.id, len(call.args)
    elif isinstance(func, ast.Attribute):
        name, operands = func.attr, len(call.args) + 1  # the receiver is the first operand
    elif isinstance(func, ast.Constant):
        product = f"{_snippet(func, source)}*({arguments})"
        raise ValueError(f"a number cannot be called{_at(call, source)}; did you mean {product}?")
    else:
        raise ValueError(f"only named functions can be called{_at(call, source)}; {_ALLOWED_TEXT}")
    constant = ops.FUNCTIONS[name].constant.split("=")[0] if name in FUNCTIONS else ""
    allowed = (1, 2) if constant else (1,)  # leaky_relu's slope is its constant
    # math.exp(x) or np.tanh(x); a method call on a name has it in parentheses: (x).tanh()
    bare_name = isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
    if bare_name and _start(func.value) == _start(func) and call.args:
        if name not in FUNCTIONS or operands not in allowed:
            instead = f"write {name}({arguments})" if name in FUNCTIONS else _ALLOWED_TEXT
            raise ValueError(
                f"modules and attributes are not supported{_at(call, source)}; {instead}"
            )
    if name not in FUNCTIONS:
        close = difflib.get_close_matches(name, FUNCTIONS, n=1)
        hint = f"did you mean {close[0]}?" if close else _ALLOWED_TEXT
        raise ValueError(f"unknown function {name!r}{_at(call, source)}; {hint}")
    if call.keywords:
        raise ValueError(f"keyword arguments not allowed{_at(call, source)}; pass them by position")
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
    """The text of `node` in `source`, each run of whitespace made one space."""
    lines = _utf8_lines(source)[node.lineno - 1 : node.end_lineno]
    lines[-1] = lines[-1][: node.end_col_offset]  # the end first: the first line may be the last
    lines[0] = lines[0][node.col_offset :]
    return " ".join(b"\n".join(lines).decode("utf-8").split())


@functools.lru_cache(maxsize=1)
def _utf8_lines(source: str) -> list[bytes]:
    # Encoded once per expression, not once per node: `ast` positions count UTF-8 bytes.
    return [line.encode("utf-8") for line in source.split("\n")]


def _shorten(text: str) -> str:
    if len(text) <= LABEL_LENGTH:
        return text
    half = (LABEL_LENGTH - 1) // 2
    return text[:half] + "…" + text[-half:]


def _start(node: ast.AST) -> tuple[int, int]:
    return node.lineno, node.col_offset


def _at(node: ast.AST, source: str) -> str:
    return f" (in {_shorten(_snippet(node, source))!r})"
