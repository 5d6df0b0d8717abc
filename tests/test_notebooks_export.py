"""The notebooks as a learner gets them: each runs top to bottom with no warning or error, and
its HTML export (nbconvert) shows every picture at a size that fits the page, with no widget.
"""

from __future__ import annotations

import base64
import json
import re
import struct
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.helpers import PNG_MAGIC, REPOSITORY, require

NOTEBOOKS = sorted((REPOSITORY / "notebooks").glob("*.ipynb"))
PAGE_WIDTH_PX = 900  # a notebook column in JupyterLab or an exported page
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
CSS_PX_PER_UNIT = {"px": 1.0, "pt": 4 / 3, "in": 96.0, "cm": 96 / 2.54, "mm": 96 / 25.4}


@pytest.fixture(scope="module", params=NOTEBOOKS, ids=lambda path: path.stem)
def executed(request) -> tuple[Path, dict, str]:
    """(path, the notebook executed afresh, its HTML export), once per notebook."""
    nbformat = require("nbformat")
    nbclient = require("nbclient")
    nbconvert = require("nbconvert")
    path = request.param
    notebook = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(
        notebook, timeout=600, resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    html, _ = nbconvert.HTMLExporter().from_notebook_node(notebook)
    return path, notebook, html


def outputs(notebook) -> list[tuple[int, dict]]:
    """(cell index, output) for every output of every code cell."""
    return [
        (index, output)
        for index, cell in enumerate(notebook["cells"])
        if cell["cell_type"] == "code"
        for output in cell.get("outputs", [])
    ]


def test_notebook_runs_without_warnings_or_errors(executed):
    _, notebook, _ = executed
    complaints = [
        (index, output.get("text") or output.get("ename"))
        for index, output in outputs(notebook)
        if output["output_type"] == "error" or output.get("name") == "stderr"
    ]
    assert complaints == []


class _Pictures(HTMLParser):
    """Collects the outermost <svg> elements' attributes and every <img>'s attributes."""

    def __init__(self):
        super().__init__()
        self.svgs: list[dict] = []
        self.images: list[dict] = []
        self._svg_depth = 0

    def handle_starttag(self, tag, attrs):
        if tag == "svg":
            if self._svg_depth == 0:
                self.svgs.append(dict(attrs))
            self._svg_depth += 1
        elif tag == "img":
            self.images.append(dict(attrs))

    def handle_endtag(self, tag):
        if tag == "svg":
            self._svg_depth -= 1


def css_px(length: str) -> float:
    """A CSS/SVG length such as "640pt" or "480" in CSS pixels."""
    number, unit = re.fullmatch(r"\s*([0-9.]+)\s*([a-z]*)\s*", length).groups()
    return float(number) * CSS_PX_PER_UNIT[unit or "px"]


def png_width(data: bytes) -> int:
    """The pixel width in a PNG's header (bytes 16-20 of the IHDR chunk)."""
    assert data.startswith(PNG_MAGIC)
    return struct.unpack(">I", data[16:20])[0]


def assert_svg_fits(attributes: dict) -> None:
    """An <svg> scales to its container (viewBox, width 100%) or is at most a page wide."""
    attributes = {key.lower(): value for key, value in attributes.items()}
    assert "viewbox" in attributes, attributes
    width = attributes.get("width", "100%")
    assert width == "100%" or css_px(width) <= PAGE_WIDTH_PX, attributes


def test_export_shows_pictures_that_fit_the_page(executed):
    _, _, html = executed
    pictures = _Pictures()
    pictures.feed(html)
    assert pictures.svgs or pictures.images, "the export has no picture"
    for svg in pictures.svgs:
        assert_svg_fits(svg)
    for image in pictures.images:
        kind, _, payload = image["src"].partition(";base64,")
        data = base64.b64decode(payload)
        if kind == "data:image/svg+xml":  # nbconvert embeds some SVG outputs as <img>
            assert_svg_fits(ET.fromstring(data).attrib)
        else:
            # nbconvert writes a retina PNG's CSS size as width=; a PNG without one shows 1:1
            width = float(image["width"]) if "width" in image else png_width(data)
            assert width <= PAGE_WIDTH_PX, {key: value[:80] for key, value in image.items()}


def test_export_has_a_player_wherever_a_notebook_steps_through(executed):
    _, notebook, html = executed
    steps_through = any("step_through(" in cell["source"] for cell in notebook["cells"])
    assert ('data-role="player"' in html) == steps_through


def test_export_has_no_progress_widget(executed):
    _, notebook, html = executed
    widgets = [index for index, out in outputs(notebook) if WIDGET_MIME in out.get("data", {})]
    assert widgets == []
    assert WIDGET_MIME not in html


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_saved_notebook_is_one_clean_run(path):
    """The outputs in the repository come from one top-to-bottom run, with no widget state."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    code_cells = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert [cell["execution_count"] for cell in code_cells] == list(range(1, len(code_cells) + 1))
    assert "widgets" not in notebook["metadata"]
    assert not [
        output
        for index, output in outputs(notebook)
        if output["output_type"] == "error"
        or output.get("name") == "stderr"
        or WIDGET_MIME in output.get("data", {})
    ]
