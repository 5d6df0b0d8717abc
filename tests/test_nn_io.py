"""save / load: exact JSON round trips, atomic writes under injected failures, bad files."""

from __future__ import annotations

import json
import math
import os
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


def _fail(*arguments):
    raise OSError("disk full")


@pytest.mark.parametrize("step", ["fsync", "replace"])
def test_save_failure_midway_leaves_existing_file_intact(tmp_path, monkeypatch, step):
    path = tmp_path / "model.json"
    save(MLP(2, [3, 1], seed=0), path)
    before = path.read_bytes()
    monkeypatch.setattr(os, step, _fail)  # the temp file is written, then this step fails
    with pytest.raises(OSError):
        save(MLP(2, [3, 1], seed=1), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json"]  # no temp file left


def test_save_failure_creates_no_file_where_none_was(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "fsync", _fail)
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


def _reject_bare_constant(name):
    raise ValueError(f"bare {name} is not strict JSON")


def test_save_writes_strict_json_that_round_trips_nan_and_infinities(tmp_path):
    model = MLP(2, [2, 1], seed=0)
    special = [math.nan, math.inf, -math.inf, -0.0]
    for p, number in zip(model.parameters(), special, strict=False):
        p.data = number
    path = save(model, tmp_path / "m.json")
    text = Path(path).read_text()
    document = json.loads(text, parse_constant=_reject_bare_constant)  # strict JSON
    assert document["state_dict"]["0.weight"][0] == ["NaN", "Infinity"]
    assert _bits(load(path)) == _bits(model)


def test_load_reads_the_bare_nan_of_older_files(tmp_path):
    path = _write_variant(tmp_path, lambda d: json.dumps(d).replace("0.0", "NaN", 1))
    assert any(math.isnan(p.data) for p in load(path).parameters())


@pytest.mark.skipif(os.name != "posix", reason="symlinks and permission bits")
def test_save_through_a_symlink_keeps_the_link_and_writes_its_target(tmp_path):
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    save(MLP(2, [1], seed=0), link)
    assert link.is_symlink()
    assert load(target).nouts == [1]


@pytest.mark.skipif(os.name != "posix", reason="permission bits")
def test_save_respects_the_umask_and_an_existing_files_mode(tmp_path):
    old = os.umask(0o077)
    try:
        new = save(MLP(2, [1], seed=0), tmp_path / "new.json")
    finally:
        os.umask(old)
    assert os.stat(new).st_mode & 0o777 == 0o600
    existing = tmp_path / "existing.json"
    existing.write_text("{}")
    existing.chmod(0o640)
    save(MLP(2, [1], seed=0), existing)
    assert os.stat(existing).st_mode & 0o777 == 0o640


def test_load_of_a_tiny_file_naming_a_huge_model_fails_before_building_it(tmp_path, monkeypatch):
    import nn.layers

    def no_value_built(*arguments, **keywords):
        raise AssertionError("load built a Value before checking the weights")

    document = {
        "format": "scalargrad-model",
        "version": 1,
        "architecture": {"type": "MLP", "nin": 100000, "nouts": [100000, 1], "activation": "relu"},
        "state_dict": {},
    }
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(document))
    monkeypatch.setattr(nn.layers, "Value", no_value_built)
    with pytest.raises(ValueError, match=r"missing \['0.weight'"):
        load(path)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: _set(d, "architecture", {"type": ["MLP"]}), "unknown architecture"),
        (lambda d: _set(d, "architecture", {**d["architecture"], "nin": "2"}), "invalid.*nin"),
        (lambda d: _set(d, "architecture", {**d["architecture"], "activation": "gelu"}), "gelu"),
        (lambda d: _set(d, "architecture", {**d["architecture"], "activation": []}), "activation"),
        (lambda d: _set(d, "architecture", {**d["architecture"], "nouts": 3}), "nouts"),
        (lambda d: json.dumps(d).replace("0.0", "1" + "0" * 400, 1), "too large for a float"),
        (lambda d: json.dumps(d).replace("0.0", '"Nan"', 1), "real number"),
    ],
)
def test_load_bad_architecture_or_weight_is_a_value_error(tmp_path, edit, message):
    path = _write_variant(tmp_path, edit)
    with pytest.raises(ValueError, match=message):
        load(path)


def test_load_of_a_number_with_thousands_of_digits_names_the_file(tmp_path):
    # json.loads raises a plain ValueError (Python's int digit limit), not a JSONDecodeError.
    path = tmp_path / "long.json"
    save(MLP(2, [1], seed=0), path)
    document = path.read_text()
    path.write_text(re.sub(r"-?\d+\.\d+(e-?\d+)?", "1" * 5000, document, count=1))
    with pytest.raises(ValueError, match=f"{re.escape(str(path))} is not valid JSON"):
        load(path)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_load_of_an_endless_stream_stops_at_its_first_bytes():
    with pytest.raises(ValueError, match="/dev/zero is not valid JSON"):
        load("/dev/zero")


def test_load_refuses_a_file_over_the_size_limit_without_reading_the_rest(tmp_path, monkeypatch):
    path = tmp_path / "big.json"
    save(MLP(2, [3], seed=0), path)
    monkeypatch.setattr(nn.io, "MAX_FILE_BYTES", path.stat().st_size - 1)
    with pytest.raises(ValueError, match="is over .* bytes"):
        load(path)
    monkeypatch.setattr(nn.io, "MAX_FILE_BYTES", path.stat().st_size)
    assert load(path).nouts == [3]


def test_load_skips_a_utf8_byte_order_mark(tmp_path):
    path = tmp_path / "bom.json"
    save(MLP(2, [3], seed=0), path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load(path).nouts == [3]


def test_load_reserves_no_memory_beyond_the_file(tmp_path):
    import tracemalloc

    path = tmp_path / "small.json"
    save(MLP(2, [3], seed=0), path)
    tracemalloc.start()
    try:
        load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20  # not the 1 GiB that one read(MAX_FILE_BYTES) would reserve


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_load_stops_reading_an_endless_stream_at_the_size_limit(tmp_path, monkeypatch):
    import threading

    monkeypatch.setattr(nn.io, "MAX_FILE_BYTES", 1 << 20)
    fifo = tmp_path / "endless.json"
    os.mkfifo(fifo)

    def write_forever():
        try:
            with open(fifo, "wb") as stream:
                stream.write(b'{"state_dict": [')
                while True:
                    stream.write(b"1, " * 4096)
        except (BrokenPipeError, OSError):
            pass  # the reader stopped and closed its end: what the test expects

    writer = threading.Thread(target=write_forever, daemon=True)
    writer.start()
    with pytest.raises(ValueError, match="is over 1,048,576 bytes"):
        load(fifo)
    writer.join(timeout=10)
    assert not writer.is_alive()
