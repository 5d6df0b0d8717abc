"""Writing files so that a crash, Ctrl-C or SIGTERM never leaves a half-written one behind.

Shared by `nn.save`, the pictures and the player: one way to write a file, used everywhere.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


def atomic_write(path: str | os.PathLike, data: bytes | str) -> Path:
    """Write `data` (str as UTF-8) to `path` all at once, and return the path.

    The data goes to a temporary file beside the target, is flushed to disk (fsync) and renamed
    over the target, so readers see the old file or the new one, never a part. Whatever stops
    the write (an error, KeyboardInterrupt) removes the temporary file. A symlink at `path` is
    kept and its target written; an existing file keeps its permission bits, a new one gets
    the usual 0o666 less the process umask. A pipe or device (/dev/null, /dev/stdout) cannot be
    replaced, only written into: that is what happens to one.
    """
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        existing = path.stat()  # through any symlinks, to what they name
    except FileNotFoundError:
        existing = None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        with open(path, "wb") as file:  # a directory raises IsADirectoryError here
            file.write(data)
        return path
    target = Path(os.path.realpath(path))  # write through a symlink, keep the link
    mode = stat.S_IMODE(existing.st_mode) if existing else 0o666 & ~_umask()
    descriptor, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _sync_directory(target.parent)
    return path


def _umask() -> int:
    """The process umask (reading it means setting it; set it straight back)."""
    # NOTE: for that instant another thread creating a file would get umask 022; Linux tells the
    # umask without setting it, so ask it first.
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _sync_directory(directory: Path) -> None:
    """fsync a directory so that a rename in it survives a power cut (POSIX only)."""
    if os.name != "posix":
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def positive_int(value, name: str) -> int:
    """`value` if it is an int >= 1 (not a bool); else ValueError/TypeError naming `name`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a positive int, got {type(value).__name__}: {value!r:.40}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int (>= 1), got {value}")
    return value
