"""The wheel as pip builds it: its files, licence, type marker and the one version number."""

import re
import shutil
import subprocess
import sys
import zipfile

import pytest

import autograd
import nn
from tests.helpers import REPOSITORY

SOURCES = ["pyproject.toml", "README.md", "LICENSE", "autograd", "nn"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The names and METADATA of the wheel `pip wheel` builds from a copy of the sources."""
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        copy = shutil.copytree if (REPOSITORY / name).is_dir() else shutil.copy
        copy(REPOSITORY / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-w", str(out), "-q"],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (path,) = out.glob("scalargrad-*.whl")
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        (metadata,) = [name for name in names if name.endswith(".dist-info/METADATA")]
        return names, archive.read(metadata).decode()


def test_wheel_holds_both_packages_typed_and_nothing_else_at_the_top(wheel):
    names, _ = wheel
    assert {"autograd/py.typed", "nn/py.typed", "autograd/value.py", "nn/cli.py"} <= names
    tops = {name.split("/")[0] for name in names}
    assert {top for top in tops if not top.endswith(".dist-info")} == {"autograd", "nn"}


def test_wheel_carries_the_mit_licence_pyproject_declares(wheel):
    names, metadata = wheel
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
    assert "License-Expression: MIT" in metadata
    assert (REPOSITORY / "LICENSE").read_text().startswith("MIT License")


def test_version_is_one_number_everywhere(wheel):
    _, metadata = wheel
    assert re.search(r"^Version: (\S+)$", metadata, re.MULTILINE)[1] == autograd.__version__
    assert nn.__version__ == autograd.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", autograd.__version__)
