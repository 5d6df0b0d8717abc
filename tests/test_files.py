"""`atomic_write` and `positive_int`: what lands on disk, its permissions, and nothing left over."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from autograd import files
from autograd.files import atomic_write, positive_int

posix = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions and symlinks")


def test_atomic_write_writes_text_and_bytes(tmp_path):
    assert atomic_write(tmp_path / "a.txt", "héllo") == tmp_path / "a.txt"
    assert (tmp_path / "a.txt").read_bytes() == "héllo".encode()
    atomic_write(tmp_path / "a.txt", b"\x00\x01")
    assert (tmp_path / "a.txt").read_bytes() == b"\x00\x01"
    assert os.listdir(tmp_path) == ["a.txt"]


@posix
def test_atomic_write_keeps_a_symlink_and_writes_its_target(tmp_path):
    (tmp_path / "real.json").write_text("old")
    (tmp_path / "link.json").symlink_to("real.json")
    atomic_write(tmp_path / "link.json", "new")
    assert (tmp_path / "link.json").is_symlink()
    assert (tmp_path / "real.json").read_text() == "new"


@posix
def test_atomic_write_respects_umask_and_an_existing_files_mode(tmp_path):
    old = os.umask(0o077)
    try:
        atomic_write(tmp_path / "new.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o600
    (tmp_path / "kept.txt").write_text("x")
    os.chmod(tmp_path / "kept.txt", 0o640)
    atomic_write(tmp_path / "kept.txt", "y")
    assert stat.S_IMODE((tmp_path / "kept.txt").stat().st_mode) == 0o640


@pytest.mark.parametrize("error", [KeyboardInterrupt, OSError])
def test_atomic_write_interrupted_leaves_the_old_file_and_no_temporary(
    tmp_path, monkeypatch, error
):
    (tmp_path / "model.json").write_text("old")

    def interrupted(*_):
        raise error()

    monkeypatch.setattr(files.os, "replace", interrupted)
    with pytest.raises(error):
        atomic_write(tmp_path / "model.json", "new")
    assert os.listdir(tmp_path) == ["model.json"]
    assert (tmp_path / "model.json").read_text() == "old"


@posix
def test_atomic_write_to_a_pipe_or_device_writes_into_it_and_keeps_it(tmp_path):
    # It renamed a regular file over the target: `--save /dev/null` as root replaced /dev/null.
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    atomic_write(fifo, "through the pipe")
    reader.join(timeout=30)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert received == [b"through the pipe"]
    assert os.listdir(tmp_path) == ["pipe"]


def test_positive_int_accepts_ints_from_one_and_names_the_argument():
    assert positive_int(3, "epochs") == 3
    with pytest.raises(ValueError, match="epochs must be a positive int"):
        positive_int(0, "epochs")
    with pytest.raises(TypeError, match="epochs must be a positive int, got bool"):
        positive_int(True, "epochs")
    with pytest.raises(TypeError, match="got float"):
        positive_int(2.0, "epochs")
