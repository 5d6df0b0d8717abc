"""Set up and run the project's jobs with nothing but Python: `python3 tasks.py demo|test|...`.

Each job makes (once) a virtual environment in `.venv`, installs the project into it with the
extras the job needs, and runs the job there. Works the same on Linux, macOS and Windows.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if sys.platform == "win32" else "bin")
PYTHON = BIN / ("python.exe" if sys.platform == "win32" else "python")


def run(*command: str | Path) -> None:
    """Run a command from the repository root; stop with its exit status if it fails."""
    print("+", " ".join(str(part) for part in command), flush=True)
    status = subprocess.call([str(part) for part in command], cwd=ROOT)
    if status:
        sys.exit(status)


def install(extra: str) -> None:
    """Create .venv if needed and install the project with `extra`, once per extra and change."""
    if not PYTHON.exists():
        venv.create(VENV, with_pip=True)
        run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    stamp = VENV / f".installed-{extra or 'base'}"
    pyproject = ROOT / "pyproject.toml"
    if stamp.exists() and stamp.stat().st_mtime >= pyproject.stat().st_mtime:
        return
    target = f".[{extra}]" if extra else "."
    run(PYTHON, "-m", "pip", "install", "--quiet", "-e", target)
    stamp.touch()


def demo(arguments: list[str]) -> None:
    """The whole story in under a minute: `scalargrad demo` (writes to ./out by default)."""
    install("")
    run(BIN / "scalargrad", "demo", *(arguments or ["--out", "out"]))


def test(arguments: list[str]) -> None:
    """The whole test suite, PyTorch oracle and notebooks (executed by nbmake) included."""
    install("dev")
    run(PYTHON, "-m", "pytest", "--nbmake", *arguments)


def lint(arguments: list[str]) -> None:
    """ruff check and ruff format --check over the repository."""
    install("dev")
    run(PYTHON, "-m", "ruff", "check", ".")
    run(PYTHON, "-m", "ruff", "format", "--check", ".")


def bench(arguments: list[str]) -> None:
    """The benchmark against micrograd, PyTorch and the pure-Python floor."""
    install("bench")
    run(PYTHON, "benchmarks/bench.py", *arguments)


JOBS = {"demo": demo, "test": test, "lint": lint, "bench": bench}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in JOBS:
        jobs = "\n".join(f"  {name:<6} {job.__doc__}" for name, job in JOBS.items())
        sys.exit(f"usage: python3 tasks.py JOB [ARGS...]\n{jobs}")
    JOBS[sys.argv[1]](sys.argv[2:])
