"""The DOT source of a graph picture: one node per Value, one per op, clusters per scope.

Node ids are stable: the i-th Value of `drawing_order(root)` is `v{i}`, the op that made it
`v{i}_op`, a collapsed scope `s{j}` (in order of first appearance); the edge from a Value's
k-th parent to its op is `v{i}_in{k}` and from its op to it `v{i}_out`. Graphviz copies these
ids, and `class="highlight"`, into the SVG.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from autograd.files import positive_int
from autograd.naming import derived_names, format_constant, format_number
from autograd.ops import DOT, OPS
from autograd.value import Value

RANKDIRS = ("LR", "RL", "TB", "BT")
# Layout time grows with the Values drawn and, much faster, with long edges: dot turns an edge
# across k ranks into a chain of k virtual nodes. `x+x+...+x` has 100 Values, but its one leaf
# feeds ops on ranks 2..200, about 10**4 virtual nodes: 100 s of layout with dot's defaults.
# Measured worst case (that fan-out): 300 Values lay out in ~4 s with BOUNDED_EFFORT.
DEFAULT_MAX_NODES = 250
# Above this many virtual nodes (estimated), dot is told to stop refining: a few network simplex
# passes for positions and straight edges (spline routing around 10**4 virtual nodes costs more
# than the rest of the layout); 30-100x faster on such graphs, the same picture on small ones.
BOUNDED_EFFORT_ABOVE = 3000
BOUNDED_EFFORT = " nslimit=1 nslimit1=1 splines=line"
ZERO_GRADS_CAPTION = "grads are 0: call backward() first"

# How an op node reads: its symbol from the rule table (`+`), else its name (`tanh`).
_SYMBOLS = {op.name: op.symbol or op.name for op in (*OPS.values(), DOT)}
# The diverging scale: white at grad 0, these at the largest |grad| in the picture.
_NEGATIVE, _POSITIVE, _WHITE = (67, 147, 195), (214, 96, 77), (255, 255, 255)
_NAN_FILL = "#dddddd"
_FAINT = "#c8c8c8"  # lines and text off a highlighted path
_FONT = "Helvetica,Arial,sans-serif"
# Characters XML 1.0 (and so SVG) allows; anything else is drawn as its escape code.
_XML_CHAR_RANGES = ((0x20, 0xD7FF), (0xE000, 0xFFFD), (0x10000, 0x10FFFF))


class GraphTooLarge(ValueError):
    """A picture would draw more Values than `max_nodes` allows (raised before any layout)."""

    def __init__(self, limit: int, scoped: bool):
        self.limit = limit
        self.scoped = scoped
        super().__init__(self.advice("max_nodes", "collapse=K"))

    def advice(self, limit_option: str, collapse_option: str) -> str:
        """The message, naming the options as the caller spells them (Python or CLI)."""
        fold = (
            f"{collapse_option} to draw each scope K levels deep as one node"
            if self.scoped
            else f"{collapse_option} (for graphs built in scopes)"
        )
        on_command_line = limit_option.startswith("-")
        setting = (
            f"{limit_option} {self.limit}" if on_command_line else f"{limit_option}={self.limit}"
        )
        return (
            f"the graph has more Values to draw than {setting}: pass a larger {limit_option} "
            f"(layout takes longer; Ctrl-C stops it) or {fold}"
        )


def drawing_order(root: Value) -> list[Value]:
    """Every Value below `root` once, parents before children, each leaf just before first use.

    Depth first from `root`, parents in argument order: the order `to_dot` numbers nodes in
    (`v0`, `v1`, ...) and writes them, which keeps inputs next to the ops they meet.
    """
    if not isinstance(root, Value):
        raise TypeError(f"root must be a Value, got {type(root).__name__}")
    order: list[Value] = []
    placed: set[Value] = set()
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if node in placed:
            continue
        if expanded:
            placed.add(node)
            order.append(node)
            continue
        stack.append((node, True))
        stack.extend((parent, False) for parent in reversed(node.parents) if parent not in placed)
    return order


def to_dot(
    root: Value,
    rankdir: str = "LR",
    show_grad: bool = True,
    max_nodes: int = DEFAULT_MAX_NODES,
    *,
    group: bool = True,
    collapse: int | None = None,
    highlight: Value | Iterable[Value] | None = None,
    edge_labels: bool = False,
    color: bool = True,
) -> str:
    """DOT source for the graph below `root`: a box per Value (name, data, grad), a node per op.

    `group` draws scopes as nested clusters, `collapse=k` each scope k levels deep as one node,
    `highlight` marks the paths from the given Values to `root`, `edge_labels` writes each
    local derivative on its edge, `color` fills Values by grad. Raises GraphTooLarge (a
    ValueError) before any work if more than `max_nodes` Values would be drawn.
    """
    if not isinstance(root, Value):
        raise TypeError(f"root must be a Value, got {type(root).__name__}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    positive_int(max_nodes, "max_nodes")
    if collapse is not None:
        positive_int(collapse, "collapse")
    else:
        _check_size(root, max_nodes)  # before the full walk, so a huge graph is refused at once
    picture = _Picture(root, show_grad, collapse, edge_labels, color)
    if picture.drawn_values > max_nodes:
        raise GraphTooLarge(max_nodes, picture.scoped)
    if highlight is not None:
        picture.highlight(highlight)
    return "".join(picture.lines(rankdir, group))


def _check_size(root: Value, max_nodes: int) -> None:
    # Counting stops at max_nodes + 1, so a graph of 10**6 nodes is refused at once.
    seen = {root}
    stack = [root]
    while stack:
        for parent in stack.pop().parents:
            if parent not in seen:
                seen.add(parent)
                if len(seen) > max_nodes:
                    raise GraphTooLarge(max_nodes, scoped=bool(root.scope or parent.scope))
                stack.append(parent)


@dataclass
class _Group:
    """A scope drawn as one node (collapse): its id, path and the Values folded into it."""

    id: str
    path: tuple[str, ...]
    members: list[Value] = field(default_factory=list)
    outputs: list[Value] = field(default_factory=list)
    leaves: int = 0


class _Picture:
    """What to draw: node ids, names, homes (scope paths), groups, edges and highlights."""

    def __init__(self, root, show_grad, collapse, edge_labels, color):
        self.root = root
        self.show_grad = show_grad
        self.edge_labels = edge_labels
        self.color = color and show_grad
        self.order = drawing_order(root)
        self.ids = {node: f"v{index}" for index, node in enumerate(self.order)}
        self.names = derived_names(self.order)
        self.homes = self._homes()
        self.scoped = any(self.homes.values())
        self.groups: dict[tuple[str, ...], _Group] = {}
        self.group_of: dict[Value, _Group] = {}
        if collapse is not None:
            self._collapse(collapse)
        self.drawn_values = len(self.order) - len(self.group_of) + len(self.groups)
        self.ranksep = 0.22 if collapse is None else 1.2  # room for the many edges between scopes
        self.marked: set[Value] | None = None  # on a highlighted path
        finite = [abs(node.grad) for node in self.order if math.isfinite(node.grad)]
        self.largest_grad = max(finite, default=0.0)

    # --- structure --------------------------------------------------------------------------

    def _homes(self) -> dict[Value, tuple[str, ...]]:
        """The scope path each Value is drawn in; a leaf goes deepest that all its users share."""
        homes = {node: tuple(node.scope.split(".")) if node.scope else () for node in self.order}
        users: dict[Value, list[tuple[str, ...]]] = {}
        for node in self.order:
            for parent in node.parents:
                if parent._op is None and not parent.scope:
                    users.setdefault(parent, []).append(homes[node])
        for leaf, paths in users.items():
            homes[leaf] = _common_prefix(paths)
        return homes

    def _collapse(self, depth: int) -> None:
        for node in self.order:
            path = self.homes[node]
            if len(path) >= depth:
                path = path[:depth]
                group = self.groups.get(path)
                if group is None:
                    group = self.groups[path] = _Group(f"s{len(self.groups)}", path)
                group.members.append(node)
                group.leaves += node._op is None
                self.group_of[node] = group
        for node in self.order:
            for parent in node.parents:
                group = self.group_of.get(parent)
                if group is not None and self.group_of.get(node) is not group:
                    if parent not in group.outputs:
                        group.outputs.append(parent)
        root_group = self.group_of.get(self.root)
        if root_group is not None and self.root not in root_group.outputs:
            root_group.outputs.append(self.root)

    def highlight(self, values) -> None:
        """Mark every Value on a path from one of `values` to the root."""
        values = [values] if isinstance(values, Value) else list(values)
        for value in values:
            if not isinstance(value, Value):
                raise TypeError(f"highlight takes Values, got {type(value).__name__}")
            if value not in self.ids:
                raise ValueError(
                    f"highlight: {value!r} is not in the graph below root; pass a Value root uses"
                )
        marked = set(values)
        for node in self.order:
            if node not in marked and any(parent in marked for parent in node.parents):
                marked.add(node)
        self.marked = marked

    def _node_of(self, node: Value) -> str:
        group = self.group_of.get(node)
        return group.id if group is not None else self.ids[node]

    # --- DOT text -----------------------------------------------------------------------------

    def lines(self, rankdir: str, group: bool) -> Iterator[str]:
        """The DOT source, line by line."""
        yield "digraph {\n"
        yield (
            f'\tgraph [rankdir={rankdir} nodesep=0.18 ranksep={self.ranksep} fontname="{_FONT}" '
            f"fontsize=10 bgcolor=white{self._caption()}{self._effort()}]\n"
        )
        yield f'\tnode [shape=plain fontname="{_FONT}" fontsize=11]\n'
        yield f'\tedge [arrowsize=0.5 color="#555555" fontname="{_FONT}" fontsize=9]\n'
        placements: dict[tuple[str, ...], list[str]] = {}
        groups_done = set()
        for node in self.order:
            collapsed = self.group_of.get(node)
            if collapsed is None:
                placements.setdefault(self.homes[node], []).extend(self._value_lines(node))
            elif collapsed.id not in groups_done:
                groups_done.add(collapsed.id)
                home = collapsed.path[:-1]
                line = self._group_line(collapsed, in_cluster=group and bool(home))
                placements.setdefault(home, []).append(line)
        if group:
            yield from _clusters(placements)
        else:
            for node_lines in placements.values():
                yield from node_lines
        yield from self._edges()
        yield "}\n"

    def _effort(self) -> str:
        """Layout settings that keep dot to seconds on graphs with many long edges."""
        return BOUNDED_EFFORT if self.virtual_nodes() > BOUNDED_EFFORT_ABOVE else ""

    def virtual_nodes(self) -> int:
        """An estimate of dot's virtual nodes: the ranks each edge crosses, summed."""
        # A Value is two ranks below its deepest parent (its op sits between); a leaf sits just
        # above its first user, as dot's ranking puts it.
        rank: dict[Value, int] = {}
        first_use: dict[Value, int] = {}
        crossed = 0
        for node in self.order:
            parents = node.parents
            rank[node] = 2 + max((rank.get(p, 0) for p in parents), default=-2)
            for parent in parents:
                if parent._op is None:
                    first_use[parent] = min(first_use.get(parent, rank[node]), rank[node])
        for node in self.order:
            if node in self.group_of:
                continue  # a collapsed scope is one node: its insides are not laid out
            for parent in node.parents:
                if parent in self.group_of:
                    continue
                start = rank[parent] if parent._op is not None else first_use[parent] - 2
                crossed += max(0, rank[node] - 2 - start)
        return crossed

    def _caption(self) -> str:
        if not self.color:
            return ""
        if all(node.grad == 0 for node in self.order):
            text = ZERO_GRADS_CAPTION
        else:
            strongest = format_constant(self.largest_grad)
            text = f"fill: grad, blue < 0 < red, strongest at |grad| = {strongest}"
        return f" labelloc=b label=<{escape_html(text)}>"

    def _fill(self, grad: float) -> str:
        if not self.color:
            return "white"
        if math.isnan(grad):
            return _NAN_FILL
        share = 1.0 if math.isinf(grad) else abs(grad) / self.largest_grad if grad else 0.0
        end = _POSITIVE if grad > 0 else _NEGATIVE
        channels = (round(w + (e - w) * share) for w, e in zip(_WHITE, end, strict=True))
        return "#" + "".join(f"{channel:02x}" for channel in channels)

    def _value_lines(self, node: Value) -> list[str]:
        node_id = self.ids[node]
        marked = self._is_marked(node)
        label = _box(
            escape_html(self.names[node]), self._numbers(node), self._fill(node.grad), marked
        )
        lines = [f"\t{node_id} [id={node_id} label=<{label}>{_mark(marked)}]\n"]
        if node._op is not None:
            op_marked = self._op_marked(node)
            style = "" if op_marked is None else f' color="{_ink(op_marked)}"'
            lines.append(
                f"\t{node_id}_op [id={node_id}_op label=<{escape_html(_op_text(node))}> "
                f'shape=ellipse style=filled fillcolor="#eeeeee" fontsize=10 height=0.25 '
                f'width=0.3 margin="0.04,0.01" fontcolor="{_ink(op_marked)}"{style}'
                f"{_mark(op_marked)}]\n"
            )
        return lines

    def _group_line(self, group: _Group, in_cluster: bool) -> str:
        """A collapsed scope: its name (relative to its cluster), its outputs, its leaf count."""
        marked = None if self.marked is None else any(m in self.marked for m in group.members)
        name = group.path[-1] if in_cluster else ".".join(group.path)
        numbers = []
        if len(group.outputs) == 1:
            numbers = self._numbers(group.outputs[0])
        else:
            shown = group.outputs[:3]
            for output in shown:
                numbers.append(f"{self.names[output]}: {'  '.join(self._numbers(output))}")
            if len(group.outputs) > len(shown):
                numbers.append(f"… {len(group.outputs) - len(shown)} more outputs")
        if group.leaves:
            numbers.append(f"{group.leaves} lea{'ves' if group.leaves != 1 else 'f'} inside")
        grads = [output.grad for output in group.outputs] or [0.0]
        fill = self._fill(max(grads, key=lambda grad: -1.0 if math.isnan(grad) else abs(grad)))
        label = _box(escape_html(name), [escape_html(text) for text in numbers], fill, marked)
        return f"\t{group.id} [id={group.id} label=<{label}>{_mark(marked)}]\n"

    def _numbers(self, node: Value) -> list[str]:
        """ "data ..." and, with show_grad, "grad ..." of `node`."""
        numbers = [f"data {format_number(node.data)}"]
        if self.show_grad:
            numbers.append(f"grad {format_number(node.grad)}")
        return numbers

    def _edges(self) -> Iterator[str]:
        seen_group_edges = set()
        for node in self.order:
            head_group = self.group_of.get(node)
            if head_group is None and node._op is not None:
                node_id = self.ids[node]
                op_marked = self._op_marked(node)
                yield _edge(f"{node_id}_op", node_id, f"{node_id}_out", op_marked, "")
                locals_ = node.local_grads
                for index, parent in enumerate(node.parents):
                    label = ""
                    if self.edge_labels:
                        label = f" label=<{escape_html(format_constant(locals_[index]))}>"
                    if self._enters_another_scope(parent, node):
                        label += " minlen=2"
                    yield _edge(
                        self._node_of(parent),
                        f"{node_id}_op",
                        f"{node_id}_in{index}",
                        self._is_marked(parent),
                        label,
                    )
            elif head_group is not None:
                for parent in node.parents:
                    tail = self._node_of(parent)
                    if tail == head_group.id:
                        continue
                    key = (tail, head_group.id)
                    marked = self._is_marked(parent)
                    if key in seen_group_edges and not marked:
                        continue
                    seen_group_edges.add(key)
                    yield _edge(tail, head_group.id, f"{tail}-{head_group.id}", marked, "")

    def _enters_another_scope(self, parent: Value, node: Value) -> bool:
        """An edge from a computed Value into another top-level scope (layer0 -> layer1)."""
        # NOTE: one rank more on such edges puts the next scope's leaves (its weights, ranked just
        # before their ops) after the last rank of the scope feeding it; without it the two
        # clusters share a rank, cannot overlap, and dot stacks the layers diagonally.
        tail, head = self.homes[parent][:1], self.homes[node][:1]
        return parent._op is not None and tail != head and bool(head)

    def _is_marked(self, node: Value) -> bool | None:
        """None without highlight; else whether `node` is on a highlighted path."""
        return None if self.marked is None else node in self.marked

    def _op_marked(self, node: Value) -> bool | None:
        if self.marked is None:
            return None
        return any(parent in self.marked for parent in node.parents)


def _common_prefix(paths: list[tuple[str, ...]]) -> tuple[str, ...]:
    first = paths[0]
    length = len(first)
    for path in paths[1:]:
        length = min(length, len(path))
        for index in range(length):
            if path[index] != first[index]:
                length = index
                break
    return first[:length]


def _clusters(placements: dict[tuple[str, ...], list[str]]) -> Iterator[str]:
    """Node lines nested in one cluster per scope path (inner scopes inside outer ones)."""
    children: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for path in sorted(placements):
        for depth in range(1, len(path) + 1):
            inner, outer = path[:depth], path[: depth - 1]
            if inner not in children.setdefault(outer, []):
                children[outer].append(inner)
    counter = iter(range(len(children) + sum(map(len, children.values())) + 1))
    stack: list[tuple[tuple[str, ...], bool]] = [((), False)]
    while stack:
        path, closing = stack.pop()
        if closing:
            yield "\t}\n"
            continue
        if path:
            yield (
                f"\tsubgraph cluster_{next(counter)} {{\n"
                f'\t\tlabel=<{escape_html(path[-1])}> style="rounded,dashed" color="#999999" '
                f"labeljust=l fontsize=10 margin=6\n"
            )
            stack.append((path, True))
        yield from placements.get(path, [])
        stack.extend((child, False) for child in reversed(children.get(path, [])))


def _box(name: str, numbers: list[str], fill: str, marked: bool | None) -> str:
    """An HTML-like label: the name in bold, then each line of numbers, on a filled box."""
    ink = _ink(marked)
    border = "2" if marked else "1"
    rows = [f'<tr><td><font color="{ink}"><b>{name}</b></font></td></tr>']
    rows += [
        f'<tr><td><font color="{ink}" point-size="9">{text}</font></td></tr>' for text in numbers
    ]
    return (
        f'<table border="{border}" cellborder="0" cellspacing="0" cellpadding="2" '
        f'style="rounded" bgcolor="{fill if marked is not False else "white"}" '
        f'color="{ink}">{"".join(rows)}</table>'
    )


def _edge(tail: str, head: str, edge_id: str, marked: bool | None, label: str) -> str:
    style = ""
    if marked is not None:
        style = f' color="{_ink(marked)}"' + (" penwidth=2" if marked else "")
    return f"\t{tail} -> {head} [id={_quote(edge_id)}{label}{style}{_mark(marked)}]\n"


def _ink(marked: bool | None) -> str:
    return _FAINT if marked is False else "#222222"


def _mark(marked: bool | None) -> str:
    return ' class="highlight"' if marked else ""


def _quote(text: str) -> str:
    return '"' + text + '"'


def _op_text(node: Value) -> str:
    """How an op node reads; a binary op with a constant input shows it in place, e.g. `* 3`."""
    symbol = _SYMBOLS[node.op]
    if node.op == "dot":  # n-ary: its inputs are all Values
        return symbol
    # The engine keeps an op's inputs in _x/_y: a Value, a constant float, or None (no input).
    left, right = (None if isinstance(x, Value) else x for x in (node._x, node._y))
    if left is not None:
        return f"{format_constant(left)} {symbol}"
    if right is not None:
        return f"{symbol} {format_constant(right)}"
    return symbol


def escape_html(text: str) -> str:
    """`text` for a Graphviz HTML-like label, drawn literally: `&amp; <b>` shows as typed.

    Newlines break the line; characters SVG cannot hold (control characters, lone surrogates)
    are drawn as their escape codes, e.g. `\\x07`, `\\udc80`.
    """
    out = []
    for char in text.replace("\r\n", "\n").replace("\r", "\n"):
        code = ord(char)
        if char == "&":
            out.append("&amp;")
        elif char == "<":
            out.append("&lt;")
        elif char == ">":
            out.append("&gt;")
        elif char == '"':
            out.append("&quot;")
        elif char == "\\":
            out.append("\\\\")  # Graphviz reads \N, \G, ... as escapes even here
        elif char == "\n":
            out.append('<br align="center"/>')
        elif char == "\t":
            out.append(" ")
        elif 0x7F <= code <= 0x9F or not any(low <= code <= high for low, high in _XML_CHAR_RANGES):
            out.append(escape_html(repr(char)[1:-1]))
        else:
            out.append(char)
    return "".join(out)
