"""Run first when `nn` is imported: is the `autograd` Python finds scalargrad's own?

HIPS autograd (on PyPI) has the same import name. Found first, it would break every import from
`autograd` with a traceback from deep inside; this says in one line what happened and what to do.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

# scalargrad installs `autograd` and `nn` side by side, wherever that is.
HOME = Path(__file__).resolve().parent.parent
WHAT_TO_DO = (
    "use scalargrad in a virtual environment of its own, or `pip uninstall autograd` there "
    "and reinstall scalargrad"
)


def shadowing_problem() -> str | None:
    """What is wrong with the `autograd` that `import autograd` would find; None if it is ours."""
    spec = importlib.util.find_spec("autograd")
    if spec is None or spec.origin is None:  # no regular package; a namespace one loses to ours
        return f"scalargrad's package 'autograd' is missing from {HOME}; reinstall scalargrad"
    directory = Path(spec.origin).parent
    if directory.resolve().parent != HOME:
        return (
            f"another package named 'autograd' ({directory}), e.g. HIPS autograd, is found "
            f"before scalargrad's: {WHAT_TO_DO}"
        )
    # Both installed into one site-packages share the directory; whose __init__ is it?
    try:
        import autograd
    except ImportError:
        autograd = None
    if not hasattr(autograd, "Value"):
        return (
            f"{spec.origin} is not scalargrad's (another package named 'autograd', e.g. "
            f"HIPS autograd, was installed over it): {WHAT_TO_DO}"
        )
    return None


def _is_the_command() -> bool:
    """Whether this process is the `scalargrad` command, or `python -m nn.cli`."""
    argv = getattr(sys, "argv", None) or [""]
    if Path(argv[0]).stem.removesuffix("-script") == "scalargrad":
        return True
    return argv[0] == "-m" and "nn.cli" in getattr(sys, "orig_argv", ())


_problem = shadowing_problem()
if _problem and _is_the_command():
    print(f"scalargrad: error: {_problem}", file=sys.stderr)
    raise SystemExit(2)
if _problem:
    raise ImportError(_problem)
