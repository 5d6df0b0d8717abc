"""save / load: exact JSON round trips, atomic writes under injected failures, bad files."""

from __future__ import annotations

import json
import math
import re
import struct
from pathlib import Path

import pytest

import nn.io
from nn import MLP, Layer, Module, Neuron, load, save

AWKWARD_FLOATS = [0.1 + 0.2, 1e-310, -0.0, 2.0**-1074, 1 / 3, -123456.789e100, math.pi]


def _bits(model):
    return [struct.pack("<d", p.data) for p in model.parameters()]


def _awkward_mlp():
    model = MLP(2, [3, 2], activation="tanh", seed=1)
    for p, number in zip(model.parameters(), AWKWARD_FLOATS * 3, strict=False):
        p.data = number
    return model


def test_save_load_round_trips_floats_bit_for_bit(tmp_path):
    model = _awkward_mlp()
    path = tmp_path / "model.json"
    save(model, path)
    loaded = load(path)
    assert isinstance(loaded, MLP)
    assert repr(loaded) == repr(model) == "MLP(2, [3, 2], activation='tanh')"
    assert _bits(loaded) == _bits(model)
    assert [o.data for o in loaded([0.5, -0.25])] == [o.data for o in model([0.5, -0.25])]


@pytest.mark.parametrize(
    "model", [Layer(3, 2, activation="sigmoid", seed=0), Neuron(4, activation="linear", seed=0)]
)
def test_save_load_round_trips_layers_and_neurons(tmp_path, model):
    save(model, tmp_path / "m.json")
    loaded = load(tmp_path / "m.json")
    assert type(loaded) is type(model) and repr(loaded) == repr(model)
    assert _bits(loaded) == _bits(model)


def test_save_writes_versioned_json_with_architecture_and_weights(tmp_path):
    model = MLP(2, [3, 1], seed=0)
    path = save(model, tmp_path / "model.json")
    document = json.loads(Path(path).read_text())
    assert document["format"] == "scalargrad-model" and document["version"] == 1
    assert document["architecture"] == {
        "type": "MLP",
        "nin": 2,
        "nouts": [3, 1],
        "activation": "relu",
    }
    assert document["state_dict"] == model.state_dict()


def test_save_unsupported_module_raises_type_error(tmp_path):
    with pytest.raises(TypeError, match="save supports"):
        save(Module(), tmp_path / "m.json")


def _failing_dump(document, file, **kwargs):
    file.write(json.dumps(document)[:20])  # half a file, then the crash
    raise OSError("disk full")


def _failing_replace(source, target):
    raise OSError("rename failed")


@pytest.mark.parametrize(
    "target, failure", [("json.dump", _failing_dump), ("os.replace", _failing_replace)]
)
def test_save_failure_midway_leaves_existing_file_intact(tmp_path, monkeypatch, target, failure):
    path = tmp_path / "model.json"
    save(MLP(2, [3, 1], seed=0), path)
    before = path.read_bytes()
    module_name, function = target.split(".")
    monkeypatch.setattr(getattr(nn.io, module_name), function, failure)
    with pytest.raises(OSError):
        save(MLP(2, [3, 1], seed=1), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json"]  # no temp file left


def test_save_failure_creates_no_file_where_none_was(tmp_path, monkeypatch):
    monkeypatch.setattr(nn.io.json, "dump", _failing_dump)
    with pytest.raises(OSError):
        save(MLP(2, [1], seed=0), tmp_path / "model.json")
    assert list(tmp_path.iterdir()) == []


def _write_variant(tmp_path, edit):
    path = tmp_path / "model.json"
    save(MLP(2, [3, 1], seed=0), path)
    document = json.loads(path.read_text())
    path.write_text(edit(document) if callable(edit) else edit)
    return path


def _set(document, key, value):
    document[key] = value
    return json.dumps(document)


def _drop_row(document):
    document["state_dict"]["0.weight"].pop()
    return json.dumps(document)


def _wrong_width(document):
    document["architecture"]["nouts"] = [4, 1]
    return json.dumps(document)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: json.dumps(d)[:-40], "not valid JSON"),
        ("this is not json", "not valid JSON"),
        ("[1, 2, 3]", "not a scalargrad model"),
        (lambda d: _set(d, "version", 2), "version 2; this scalargrad reads version 1"),
        (lambda d: _set(d, "architecture", {"type": "CNN"}), "unknown architecture"),
        (lambda d: _set(d, "architecture", {"type": "MLP", "nin": 2}), "missing"),
        (lambda d: _set(d, "state_dict", None), "no state_dict"),
        (_drop_row, r"'0.weight'.*shape \[2, 2\], expected \[3, 2\]"),
        (_wrong_width, "shape"),
    ],
)
def test_load_bad_file_raises_value_error_saying_what(tmp_path, edit, message):
    path = _write_variant(tmp_path, edit)
    with pytest.raises(ValueError, match=message):
        load(path)


def test_load_binary_garbage_raises_value_error(tmp_path):
    path = tmp_path / "model.json"
    path.write_bytes(b"\x80\xff\x00garbage")
    with pytest.raises(ValueError, match="not valid JSON"):
        load(path)


def test_nn_sources_never_import_pickle():
    unsafe = re.compile(r"^\s*(import|from)\s+(pickle|cPickle|shelve|marshal)\b", re.MULTILINE)
    sources = Path(nn.io.__file__).parent.glob("*.py")
    assert not [p.name for p in sources if unsafe.search(p.read_text())]


def test_load_of_absurdly_nested_json_is_a_value_error(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000)
    with pytest.raises(ValueError, match="not valid JSON"):
        load(path)
