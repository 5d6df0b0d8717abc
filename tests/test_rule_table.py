"""The rule table is the one source of truth: value.py is generated from it and fresh, a new op
needs no other edit, a rule without a Value version fails at import, and nothing lags behind."""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

from autograd import ops
from tests.helpers import REPOSITORY, require

GENERATOR = REPOSITORY / "tools" / "generate_value.py"


def run_python(*arguments, cwd, pythonpath) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(map(str, pythonpath)))
    return subprocess.run(
        [sys.executable, *map(str, arguments)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_checked_in_value_py_is_what_the_generator_writes(tmp_path):
    finished = run_python(GENERATOR, "--check", cwd=tmp_path, pythonpath=[])
    assert finished.returncode == 0, finished.stderr


def test_value_methods_are_real_source_with_the_ops_docstrings():
    """Every method of the table is defined in value.py itself (tracebacks point there)."""
    from autograd.value import Value

    for op in ops.OPS.values():
        for method in op.methods:
            function = getattr(Value, method)
            assert function.__code__.co_filename.endswith(os.path.join("autograd", "value.py"))
            assert function.__doc__ == op.doc
    with pytest.raises(ValueError) as caught:
        Value(-1.0).sqrt()
    assert caught.traceback[-1].frame.code.name == "sqrt"


# The new op, as a contributor would add it: one entry in ops.py, nothing else.
ATAN = """
# d atan(x)/dx = 1 / (1 + x**2)
ATAN = Op("atan", "atan(x)", ("1.0 / (1.0 + x * x)",), methods=("atan",), doc="Arctangent.")
"""

# What the new op must do with no other edit: run in a fresh process on the edited package.
ATAN_CHECKS = """
import math, subprocess, sys
import torch
from autograd import Value, compile, grad, to_dot
from tests.torch_oracle import close, ours_derivatives, torch_derivatives

x = Value(0.7)
y = x.atan()
assert (y.op, y.data) == ("atan", math.atan(0.7)) and y.atan.__doc__ == "Arctangent."
y.backward()
assert x.grad == 1.0 / (1.0 + 0.7 * 0.7)
for point in ([0.7], [-2.5]):
    fn = lambda v: (v * v).atan() * v
    theirs = torch_derivatives(lambda t: torch.atan(t * t) * t, point, order=3)
    ours = ours_derivatives(fn, point, order=3)
    assert all(close(ours[k], theirs[k], rel=1e-12) for k in theirs), (ours, theirs)
leaf = Value(0.3)
graph = compile((leaf * leaf).atan() + leaf)
leaf.data = 0.9
assert graph() == math.atan(0.81) + 0.9 and leaf.grad == 2 * 0.9 / (1 + 0.81**2) + 1
assert "atan" in to_dot(Value(0.5).atan())
finished = subprocess.run(
    [sys.executable, "-m", "nn.cli", "graph", "atan(x) + (x).atan()", "--set", "x=0.5"],
    capture_output=True, text=True,
)
assert finished.returncode == 0, finished.stderr
assert "atan" in open("graph.svg", encoding="utf-8").read()
print("atan works")
"""


def test_an_op_added_to_the_table_works_everywhere_with_no_other_edit(tmp_path):
    """atan: eager, create_graph to third order against PyTorch, compiled, picture, CLI."""
    require("torch")
    package = tmp_path / "package"
    for directory in ("autograd", "nn", "tools"):
        shutil.copytree(REPOSITORY / directory, package / directory)
    table = package / "autograd" / "ops.py"
    source = table.read_text(encoding="utf-8")
    anchor = "\nOPS: dict[str, Op] = {"
    assert source.count(anchor) == 1 and source.count("SOFTPLUS, SIN, COS)") == 1
    source = source.replace(anchor, ATAN + anchor).replace("SIN, COS)", "SIN, COS, ATAN)")
    table.write_text(source, encoding="utf-8")

    generated = run_python(
        package / "tools" / "generate_value.py", cwd=tmp_path, pythonpath=[package]
    )
    assert generated.returncode == 0, generated.stderr
    (tmp_path / "checks.py").write_text(ATAN_CHECKS, encoding="utf-8")
    finished = run_python("checks.py", cwd=tmp_path, pythonpath=[package, REPOSITORY])
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout == "atan works\n"


def load_table(source: str, tmp_path):
    path = tmp_path / "ops.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("edited_rule_table", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_rule_calling_a_function_values_lack_fails_at_import(tmp_path):
    """cosh exists on floats (math) but no op provides it on Values: refused at import."""
    source = (REPOSITORY / "autograd" / "ops.py").read_text(encoding="utf-8")
    edited = source.replace('("1.0 - out * out",)', '("1.0 / cosh(x) ** 2",)')
    assert edited != source
    with pytest.raises(NameError, match=r"'tanh'.*'cosh'.*on Values"):
        load_table(edited, tmp_path)


def test_the_unedited_table_loads_the_same_way(tmp_path):
    """The check above fails for the edit, not for loading ops.py from a file."""
    source = (REPOSITORY / "autograd" / "ops.py").read_text(encoding="utf-8")
    assert set(load_table(source, tmp_path).OPS) == set(ops.OPS)


def test_readme_lists_the_tables_methods():
    readme = (REPOSITORY / "README.md").read_text(encoding="utf-8")
    listed = re.search(r"methods are `([^`]*)`", readme).group(1).split()
    assert listed == [name for name in ops.FUNCTIONS if name != "abs"]


def test_the_parser_and_the_pictures_take_the_tables_names():
    from autograd import dot, expression

    assert set(expression.FUNCTIONS) == set(ops.FUNCTIONS)
    table = {name: op.symbol or name for name, op in ops.OPS.items()}
    assert dot._SYMBOLS == {**table, "dot": ops.DOT.symbol}  # dot_product is the one n-ary op


def test_no_import_cycle_between_autograd_modules():
    """Counting imports inside functions too: no module needs one that needs it back."""
    package = REPOSITORY / "autograd"
    imports = {}
    for path in package.glob("*.py"):
        if path.name == "__init__.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = set()
        for node in ast.walk(tree):
            module = node.module if isinstance(node, ast.ImportFrom) else None
            if module and module.startswith("autograd"):
                names.add(module.removeprefix("autograd").lstrip(".") or None)
                if module == "autograd":
                    names |= {alias.name for alias in node.names}
        imports[path.stem] = {name for name in names if name and (package / f"{name}.py").exists()}

    def reaches(start: str, goal: str) -> bool:
        stack, seen = [start], set()
        while stack:
            for name in imports[stack.pop()]:
                if name == goal:
                    return True
                if name not in seen:
                    seen.add(name)
                    stack.append(name)
        return False

    cycles = [module for module in imports if reaches(module, module)]
    assert cycles == [], textwrap.shorten(str(imports), 400)
