"""`save` and `load`: a model as JSON (format version, architecture, weights); never pickle.

Floats are written with `repr`, so they read back bit for bit. The write goes to a temporary
file in the same directory and is renamed over the target, so `path` is never half-written.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from nn.layers import MLP, Layer, Neuron
from nn.module import Module

FORMAT = "scalargrad-model"
VERSION = 1
# type name -> (class, the constructor arguments the architecture records)
ARCHITECTURES: dict[str, tuple[type[Module], tuple[str, ...]]] = {
    "MLP": (MLP, ("nin", "nouts", "activation")),
    "Layer": (Layer, ("nin", "nout", "activation")),
    "Neuron": (Neuron, ("nin", "activation")),
}


def save(model: Module, path: str | os.PathLike) -> Path:
    """Write `model` (an MLP, Layer or Neuron) to `path` as JSON, atomically; returns the path."""
    name = type(model).__name__
    if name not in ARCHITECTURES or not isinstance(model, ARCHITECTURES[name][0]):
        raise TypeError(f"save supports {list(ARCHITECTURES)}, got {name}")
    architecture = {"type": name, **{key: getattr(model, key) for key in ARCHITECTURES[name][1]}}
    document = {
        "format": FORMAT,
        "version": VERSION,
        "architecture": architecture,
        "state_dict": model.state_dict(),
    }
    path = Path(path)
    directory = path.parent
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(document, file, indent=1)
            file.flush()
            os.fsync(file.fileno())  # the data is on disk before the rename makes it visible
        # mkstemp makes the file private (0600); give it the usual permissions instead.
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    return path


def load(path: str | os.PathLike) -> Module:
    """Read a model written by `save`; ValueError saying what is wrong with a bad file."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
        raise ValueError(
            f"{path} is not valid JSON (truncated or not a scalargrad model?): {error}"
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"{path} is not a scalargrad model file (no format {FORMAT!r})")
    if document.get("version") != VERSION:
        raise ValueError(
            f"{path} has format version {document.get('version')!r}; "
            f"this scalargrad reads version {VERSION}"
        )
    model = _build(document.get("architecture"), path)
    state = document.get("state_dict")
    if not isinstance(state, dict):
        raise ValueError(f"{path} has no state_dict object")
    try:
        model.load_state_dict(state)
    except ValueError as error:
        raise ValueError(f"{path} does not fit its architecture: {error}") from None
    return model


def _build(architecture: Any, path: str | os.PathLike) -> Module:
    if not isinstance(architecture, dict) or architecture.get("type") not in ARCHITECTURES:
        raise ValueError(
            f"{path} has an unknown architecture {architecture!r:.80}; "
            f"expected a type in {list(ARCHITECTURES)}"
        )
    cls, keys = ARCHITECTURES[architecture["type"]]
    missing = [key for key in keys if key not in architecture]
    if missing:
        raise ValueError(f"{path} architecture is missing {missing}")
    try:
        return cls(**{key: architecture[key] for key in keys}, seed=0)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path} has an invalid architecture: {error}") from None
