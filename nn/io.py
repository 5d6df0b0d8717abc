"""`save` and `load`: a model as strict JSON (format version, architecture, weights); never pickle.

Floats are written with `repr`, so they read back bit for bit; the write is atomic
(`autograd.files.atomic_write`), so `path` is never half-written.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from autograd.files import atomic_write
from nn.layers import ACTIVATIONS, MLP, Layer, Neuron
from nn.module import Module, shape_of

FORMAT = "scalargrad-model"
VERSION = 1
# type name -> (class, the constructor arguments the architecture records)
ARCHITECTURES: dict[str, tuple[type[Module], tuple[str, ...]]] = {
    "MLP": (MLP, ("nin", "nouts", "activation")),
    "Layer": (Layer, ("nin", "nout", "activation")),
    "Neuron": (Neuron, ("nin", "activation")),
}
# Strict JSON has no NaN or infinity: a weight that is one is written as one of these strings.
NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def save(model: Module, path: str | os.PathLike) -> Path:
    """Write `model` (an MLP, Layer or Neuron) to `path` as strict JSON, atomically.

    A non-finite weight is written as the string "NaN", "Infinity" or "-Infinity" (strict JSON
    has no such numbers; `load` reads them back exactly). Returns the path.
    """
    name = type(model).__name__
    if name not in ARCHITECTURES or not isinstance(model, ARCHITECTURES[name][0]):
        raise TypeError(f"save supports {list(ARCHITECTURES)}, got {name}")
    architecture = {"type": name, **{key: getattr(model, key) for key in ARCHITECTURES[name][1]}}
    document = {
        "format": FORMAT,
        "version": VERSION,
        "architecture": architecture,
        "state_dict": _spell_non_finite(model.state_dict()),
    }
    return atomic_write(path, json.dumps(document, indent=1, allow_nan=False))


def load(path: str | os.PathLike) -> Module:
    """Read a model written by `save`; ValueError saying what is wrong with a bad file.

    The architecture is checked against the weights' shapes before any Value is built, so a
    small file cannot ask for a huge model. Weights "NaN", "Infinity", "-Infinity" (and the bare
    NaN/Infinity of older files) read as those floats.
    """
    raw = _read_model_bytes(path)
    try:
        document = json.loads(raw.decode("utf-8"))
    # ValueError: JSONDecodeError, UnicodeDecodeError, and an int past Python's digit limit
    except (ValueError, RecursionError) as error:
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
    cls, arguments, shapes = _architecture_of(document.get("architecture"), path)
    state = document.get("state_dict")
    if not isinstance(state, dict):
        raise ValueError(f"{path} has no state_dict object")
    try:
        _check_shapes(shapes, state)
        model = cls(**arguments, seed=0)
        model.load_state_dict(_read_non_finite(state))
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path} does not fit its architecture: {error}") from None
    return model


# A model file larger than this is refused unread (an MLP of ~40 million weights, as JSON).
MAX_FILE_BYTES = 1 << 30
_BOM = b"\xef\xbb\xbf"  # a UTF-8 byte order mark, as some editors write: skipped


def _read_model_bytes(path: str | os.PathLike) -> bytes:
    """The file's bytes (a UTF-8 BOM skipped), read only as far as needed to tell it is not a
    model file: one that cannot start JSON (/dev/zero, a picture) is refused at its first
    bytes, and one longer than MAX_FILE_BYTES by its size, or for a stream that never ends,
    once that much has been read."""
    with open(path, "rb") as file:
        if os.fstat(file.fileno()).st_size > MAX_FILE_BYTES:  # a regular file's size
            raise ValueError(_too_large(path))
        head = file.read(1 << 16).removeprefix(_BOM)
        first = head.lstrip(b" \t\r\n")[:1]
        if first and first not in b'{["-0123456789tfnNI':  # what a JSON value may start with
            raise ValueError(f"{path} is not valid JSON: a scalargrad model starts with '{{'")
        pieces, size = [head], len(head)
        while piece := file.read(1 << 20):  # pieces, so that nothing reserves MAX_FILE_BYTES
            pieces.append(piece)
            size += len(piece)
            if size > MAX_FILE_BYTES:
                raise ValueError(_too_large(path))
    return b"".join(pieces)


def _too_large(path: str | os.PathLike) -> str:
    return f"{path} is over {MAX_FILE_BYTES:,} bytes: too large for a scalargrad model file"


def _architecture_of(architecture: Any, path: str | os.PathLike) -> tuple[type[Module], dict, dict]:
    """The class, constructor arguments and tensor shapes a file's architecture names.

    ValueError saying what is wrong with an unknown or invalid architecture.
    """
    kind = architecture.get("type") if isinstance(architecture, dict) else None
    if not isinstance(kind, str) or kind not in ARCHITECTURES:
        raise ValueError(
            f"{path} has an unknown architecture {architecture!r:.80}; "
            f"expected a type in {list(ARCHITECTURES)}"
        )
    cls, keys = ARCHITECTURES[kind]
    missing = [key for key in keys if key not in architecture]
    if missing:
        raise ValueError(f"{path} architecture is missing {missing}")
    arguments = {key: architecture[key] for key in keys}
    sizes = {key: value for key, value in arguments.items() if key != "activation"}
    try:
        shapes = cls.shapes(**sizes)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path} has an invalid architecture: {error}") from None
    if not isinstance(arguments["activation"], str) or arguments["activation"] not in ACTIVATIONS:
        raise ValueError(
            f"{path} has an unknown activation {arguments['activation']!r:.40}; "
            f"expected one of {list(ACTIVATIONS)}"
        )
    return cls, arguments, shapes


def _check_shapes(shapes: dict[str, tuple[int, ...]], state: dict) -> None:
    """ValueError unless `state` holds exactly the tensors of these shapes."""
    missing = [key for key in shapes if key not in state]
    unexpected = [key for key in state if key not in shapes]
    if missing or unexpected:
        raise ValueError(f"state_dict keys: missing {missing}, unexpected {unexpected!r:.200}")
    for key, shape in shapes.items():
        given = shape_of(state[key], key)
        if given != shape:
            raise ValueError(f"state_dict[{key!r}] has shape {list(given)}, expected {list(shape)}")


def _spell_non_finite(tensor: Any) -> Any:
    """`tensor` (nested lists of floats) with each nan or infinity as its NON_FINITE string."""
    if isinstance(tensor, dict):
        return {key: _spell_non_finite(item) for key, item in tensor.items()}
    if isinstance(tensor, list):
        return [_spell_non_finite(item) for item in tensor]
    if math.isnan(tensor):
        return "NaN"
    if math.isinf(tensor):
        return "Infinity" if tensor > 0 else "-Infinity"
    return tensor


def _read_non_finite(tensor: Any) -> Any:
    """The inverse of `_spell_non_finite`: NON_FINITE strings back to floats, the rest as is."""
    if isinstance(tensor, dict):
        return {key: _read_non_finite(item) for key, item in tensor.items()}
    if isinstance(tensor, list):
        return [_read_non_finite(item) for item in tensor]
    if isinstance(tensor, str):
        return NON_FINITE.get(tensor, tensor)
    return tensor
