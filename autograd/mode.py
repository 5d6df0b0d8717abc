"""What new Values record, per thread: grad mode (`no_grad`) and the open `scope`.

Both live in one Context per thread, as grad mode does in PyTorch: one thread's `no_grad()`
never changes what another records.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ContextDecorator
from contextvars import ContextVar
from threading import get_ident


class Tag:
    """A Value's name and scope, kept in one slot: the Values made in one scope share its Tag."""

    __slots__ = ("_inner", "label", "scope")

    def __init__(self, label: str, scope: str):
        self.label = label
        self.scope = scope
        # scope names -> the Tags one scope deeper (a name opened in two calls gets one Tag)
        self._inner: dict[tuple[str, ...], list[Tag]] | None = None

    def inner(self, name: str) -> Tag:
        """The Tag of scope `name` opened inside this one (cached: nn opens the same ones)."""
        return self.inners((name,))[0]

    def inners(self, names: tuple[str, ...]) -> list[Tag]:
        """The Tag of each scope in `names` opened inside this one, cached per `names`."""
        if self._inner is None:
            self._inner = {}
        inner = self._inner.get(names)
        if inner is None:
            inner = [Tag("", f"{self.scope}.{name}" if self.scope else name) for name in names]
            if len(self._inner) < 1000:  # a bound, for code that names scopes after data
                self._inner[names] = inner
        return inner

    def __repr__(self) -> str:
        return f"Tag(label={self.label!r}, scope={self.scope!r})"


NO_TAG = Tag("", "")


class Context:
    """One thread's mode: whether ops record their parents, and the Tag of the open scope.

    Changed in place by `no_grad`, `scope` and `enter_scope`, each restoring what it found.
    """

    __slots__ = ("recording", "tag", "thread")

    def __init__(self, recording: bool, tag: Tag):
        self.recording = recording
        self.tag = tag
        self.thread = get_ident()


# NOTE: an op reads this once per node, so its common case must be cheap: None stands for a
# thread that never changed its mode (recording, outside any scope). Reading a ContextVar costs
# an op about 8 ns, where a threading.local attribute would cost about 30 ns (CPython 3.11); a
# new thread starts with its own, empty, set of context variables. Scopes change the Context in
# place rather than setting the variable: ContextVar.set costs about 1 us, and nn opens a scope
# per neuron. So grad mode and scope are per thread (as PyTorch's grad mode is), not per asyncio
# task; code that runs in a copy of another thread's context variables (asyncio.to_thread) reads
# that thread's mode until it changes its own.
_context: ContextVar[Context | None] = ContextVar("scalargrad_context", default=None)
current_context = _context.get


def this_thread() -> Context:
    """This thread's Context, made on its first change."""
    context = current_context()
    if context is None or context.thread != get_ident():
        context = Context(True, NO_TAG)
        _context.set(context)
    return context


def is_grad_enabled() -> bool:
    """True when new ops in this thread record their parents (the default)."""
    context = current_context()
    return context is None or context.recording


def current_scope() -> str:
    """The names of the scopes open in this thread, joined by "."; "" outside any."""
    context = current_context()
    return "" if context is None else context.tag.scope


class _SetContext(ContextDecorator):
    """Context manager and decorator that changes this thread's mode, and restores it."""

    def __init__(self):
        self.saved = []  # a stack, so that one instance may be re-entered in one thread

    def change(self, context: Context) -> object:
        """Change `context` for the block; return what `restore` needs to undo it."""
        raise NotImplementedError

    def restore(self, context: Context, saved: object) -> None:
        raise NotImplementedError

    def __enter__(self):
        context = this_thread()
        self.saved.append((context, self.change(context)))
        return self

    def __exit__(self, *exc_info):
        context, saved = self.saved.pop()
        self.restore(context, saved)
        return False

    def _recreate_cm(self):
        # A decorated function may run in several threads at once: each call gets its own copy
        # (and stack) of this context manager.
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__, saved=[])
        return copy


class set_grad_enabled(_SetContext):
    """Switch recording on or off in this thread, inside the `with` block or decorated function."""

    def __init__(self, mode: bool):
        super().__init__()
        self.mode = bool(mode)

    def change(self, context: Context) -> bool:
        recording, context.recording = context.recording, self.mode
        return recording

    def restore(self, context: Context, saved: bool) -> None:
        context.recording = saved


class no_grad(set_grad_enabled):
    """Inside it (or a function it decorates) ops compute data but record no parents.

    Use it as `with no_grad():`, `@no_grad()` or, as in PyTorch, bare `@no_grad`.
    """

    def __new__(cls, function=None):
        instance = super().__new__(cls)
        if function is None:
            return instance
        instance.__init__()
        return instance(function)  # bare @no_grad: decorate the function right away

    def __init__(self, function=None):
        super().__init__(False)


class scope(_SetContext):
    """`with scope("layer1"):` Values made inside belong to it: `v.scope == "layer1"`.

    Scopes nest (`"layer1.neuron3"`) and, like grad mode, are per thread. Pictures group and
    collapse Values by scope. A name is a non-empty str without ".".
    """

    def __init__(self, name: str):
        super().__init__()
        if not isinstance(name, str):
            raise TypeError(f"scope name must be a str, got {type(name).__name__}")
        if not name or "." in name:
            raise ValueError(f"scope name must be non-empty and contain no '.', got {name!r}")
        self.name = name

    def change(self, context: Context) -> Tag:
        tag, context.tag = context.tag, context.tag.inner(self.name)
        return tag

    def restore(self, context: Context, saved: Tag) -> None:
        context.tag = saved


def enter_scope(name: str) -> Tag:
    """Open scope `name` (checked by the caller) in this thread; returns the token to close it.

    For nn's forward passes, which open a scope per neuron and cannot afford a context manager
    object each time; `exit_scope(token)` in a `finally` closes it.
    """
    context = current_context()
    if context is None or context.thread != get_ident():
        context = this_thread()
    tag = context.tag
    context.tag = tag.inner(name)
    return tag


def exit_scope(token: Tag) -> None:
    """Close the scope `enter_scope` opened, given the token it returned."""
    current_context().tag = token


def call_in_scopes(names: tuple[str, ...], functions: Sequence[Callable], argument) -> list:
    """[function(argument) for each function], the j-th run inside scope names[j] in this thread.

    What nn's layers do per neuron, at the cost of an attribute store per scope: `scope` and
    `enter_scope` cost each neuron more than building one of its nodes.
    """
    context = this_thread()
    outer = context.tag
    results = []
    try:
        for tag, function in zip(outer.inners(names), functions, strict=True):
            context.tag = tag
            results.append(function(argument))
    finally:
        context.tag = outer
    return results
