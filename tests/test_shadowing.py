"""Another `autograd` (HIPS autograd) found before ours: one clear line, no traceback."""

import os
import shutil
import subprocess
import sys

import pytest

from tests.helpers import REPOSITORY, assert_one_error_line

HIPS_INIT = '"""A stand-in for HIPS autograd."""\n\n\ndef grad(f):\n    return f\n'
# What pip writes for the `scalargrad` console script.
CONSOLE_SCRIPT = (
    "import re\nimport sys\nfrom nn.cli import main\nif __name__ == '__main__':\n"
    "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
    "    sys.exit(main())\n"
)


def run(arguments, *path, cwd):
    """Run Python with exactly `path` as PYTHONPATH, from `cwd` (not the repository)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(str(entry) for entry in path))
    return subprocess.run(
        [sys.executable, *arguments], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def other_autograd(tmp_path):
    """A directory holding another `autograd`, to put before ours on the path."""
    package = tmp_path / "other" / "autograd"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(HIPS_INIT)
    return package.parent


@pytest.mark.parametrize("command", [["-m", "nn.cli", "--help"], ["SCRIPT", "--help"]])
def test_command_says_in_one_line_that_another_autograd_shadows_ours(
    command, other_autograd, tmp_path
):
    script = tmp_path / "bin" / "scalargrad"
    script.parent.mkdir()
    script.write_text(CONSOLE_SCRIPT)
    arguments = [str(script) if part == "SCRIPT" else part for part in command]
    result = run(arguments, other_autograd, REPOSITORY, cwd=tmp_path)
    assert result.returncode == 2
    assert_one_error_line(result.stderr)
    assert f"another package named 'autograd' ({other_autograd / 'autograd'})" in result.stderr
    assert "virtual environment of its own, or `pip uninstall autograd`" in result.stderr


def test_import_nn_raises_import_error_naming_the_other_autograd(other_autograd, tmp_path):
    result = run(["-c", "import nn"], other_autograd, REPOSITORY, cwd=tmp_path)
    assert result.returncode == 1
    last = result.stderr.splitlines()[-1]
    assert last.startswith("ImportError: another package named 'autograd'"), result.stderr


def test_command_says_so_when_another_autograd_was_installed_over_ours(tmp_path):
    # One site-packages: both packages' files in one `autograd` directory, the other's __init__.
    site = tmp_path / "site-packages"
    for package in ("autograd", "nn"):
        shutil.copytree(REPOSITORY / package, site / package)
    (site / "autograd" / "__init__.py").write_text(HIPS_INIT)
    result = run(["-m", "nn.cli", "--help"], site, cwd=tmp_path)
    assert result.returncode == 2
    assert_one_error_line(result.stderr)
    assert f"{site / 'autograd' / '__init__.py'} is not scalargrad's" in result.stderr


def test_command_works_when_ours_comes_first(other_autograd, tmp_path):
    result = run(["-m", "nn.cli", "--help"], REPOSITORY, other_autograd, cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert "usage: scalargrad" in result.stdout
