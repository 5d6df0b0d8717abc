"""Set up and run the project's jobs with nothing but Python: `python3 tasks.py demo|test|...`.

Each job makes (once) a virtual environment in `.venv`, installs the project into it with the
extras the job needs, and runs the job there. Works the same on Linux, macOS and Windows.
"""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.error
import urllib.request
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if sys.platform == "win32" else "bin")
PYTHON = BIN / ("python.exe" if sys.platform == "win32" else "python")
PYPROJECT = ROOT / "pyproject.toml"
# On Linux, PyPI's torch is the CUDA build (with its nvidia packages: .venv grows to ~5 GB);
# PyTorch's own index serves a CPU-only build (.venv ~1.3 GB), which is all the tests need.
# Other platforms' PyPI wheels are CPU builds already.
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def call(*command: str | Path) -> int:
    """Run a command from the repository root, showing it first; return its exit status."""
    print("+", " ".join(str(part) for part in command), flush=True)
    return subprocess.call([str(part) for part in command], cwd=ROOT)


def run(*command: str | Path) -> None:
    """Run a command from the repository root; stop with its exit status if it fails."""
    status = call(*command)
    if status:
        sys.exit(status)


def say(message: str) -> None:
    """Print one line of tasks.py's own progress, set apart from the tools' output."""
    print(f"tasks.py: {message}", flush=True)


def install(extra: str, *, with_torch: bool = False) -> None:
    """Create .venv if needed and install the project with `extra`, once per extra and change."""
    if not PYTHON.exists():
        say(f"creating the virtual environment {VENV}")
        venv.create(VENV, with_pip=True)
        run(PYTHON, "-m", "pip", "install", "--upgrade", "pip")
    stamp = VENV / f".installed-{extra or 'base'}"
    if stamp.exists() and stamp.stat().st_mtime >= PYPROJECT.stat().st_mtime:
        return
    if with_torch:
        install_torch()
    target = f".[{extra}]" if extra else "."
    say(f"installing scalargrad (editable) and its {extra or 'base'} dependencies")
    run(PYTHON, "-m", "pip", "install", "-e", target)
    stamp.touch()


def install_torch() -> None:
    """Install the pinned PyTorch, the CPU-only build where PyPI's would be the CUDA one."""
    requirement = re.search(r'"(torch\s*==[^"]+)"', PYPROJECT.read_text(encoding="utf-8"))[1]
    version = requirement.partition("==")[2].strip()
    query = "import importlib.metadata as m; print(m.version('torch'))"
    installed = subprocess.run([PYTHON, "-c", query], capture_output=True, text=True).stdout
    if installed.strip().partition("+")[0] == version:  # e.g. 2.13.0+cpu
        return
    pip = [PYTHON, "-m", "pip", "install", requirement]
    if sys.platform.startswith("linux"):
        if reachable(TORCH_CPU_INDEX):
            say(f"installing {requirement}, the CPU build from {TORCH_CPU_INDEX}")
            say("(~190 MB to download; .venv ends up ~1.3 GB): this takes a minute or two")
            if call(*pip, "--index-url", TORCH_CPU_INDEX):
                say("that failed; falling back to PyPI")
            else:
                return
        else:
            say(f"{TORCH_CPU_INDEX} is not reachable: installing {requirement} from PyPI")
        say("(on Linux usually the CUDA build: ~2.8 GB to download, .venv ~5 GB; a few minutes)")
    else:
        say(f"installing {requirement} (the largest download): this takes a minute or two")
    run(*pip)


def reachable(url: str) -> bool:
    """Whether `url` answers within a few seconds (proxies from the environment are honoured)."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=5):
            return True
    except urllib.error.HTTPError:  # it answered, if not to a HEAD request
        return True
    except (OSError, ValueError):  # no name resolution, no route, a timeout, a bad proxy
        return False


def demo(arguments: list[str]) -> None:
    """The whole story in under a minute: `scalargrad demo` (writes to ./out by default)."""
    install("")
    run(BIN / "scalargrad", "demo", *(arguments or ["--out", "out"]))


def test(arguments: list[str]) -> None:
    """The whole test suite, PyTorch oracle and notebooks (executed by nbmake) included."""
    install("dev", with_torch=True)
    run(PYTHON, "-m", "pytest", "--nbmake", *arguments)


def lint(arguments: list[str]) -> None:
    """ruff check and ruff format --check over the repository."""
    install("dev", with_torch=True)
    run(PYTHON, "-m", "ruff", "check", ".")
    run(PYTHON, "-m", "ruff", "format", "--check", ".")


def notebooks(arguments: list[str]) -> None:
    """JupyterLab on the walkthrough notebooks (installs it into .venv, ~220 MB, once)."""
    install("notebooks")
    run(BIN / "jupyter", "lab", "notebooks", *arguments)


def bench(arguments: list[str]) -> None:
    """The benchmark against micrograd, PyTorch and the pure-Python floor."""
    install("bench", with_torch=True)
    run(PYTHON, "benchmarks/bench.py", *arguments)


JOBS = {"demo": demo, "test": test, "lint": lint, "notebooks": notebooks, "bench": bench}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in JOBS:
        jobs = "\n".join(f"  {name:<9} {job.__doc__}" for name, job in JOBS.items())
        sys.exit(f"usage: python3 tasks.py JOB [ARGS...]\n{jobs}")
    JOBS[sys.argv[1]](sys.argv[2:])
