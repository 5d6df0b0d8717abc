"""The player in a real browser (headless Chromium): buttons, slider and arrow keys step through
the frames; captions and the last frame's grads match the player and backward()."""

from __future__ import annotations

import math

import pytest

from autograd import Value, step_through, topological_order
from nn.seed_example import build_seed_network
from tests.helpers import browser, require

PLAYER = '[data-role="player"]'


@pytest.fixture(scope="module")
def chromium():
    with browser() as launched:
        yield launched


def open_page(chromium, path, **context):
    page = chromium.new_context(viewport={"width": 900, "height": 700}, **context).new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    page.goto(path.as_uri())
    return page, errors


def frame_of(page, player=PLAYER) -> int:
    return int(page.get_attribute(player, "data-frame"))


def caption_of(page, player=PLAYER) -> str:
    return page.inner_text(f'{player} [data-role="caption"]')


def shown_grads(page) -> dict[int, str]:
    texts = page.eval_on_selector_all(
        "text[data-grad]", "ts => ts.map(t => [t.getAttribute('data-grad'), t.textContent])"
    )
    return {int(index): text.removeprefix("grad ") for index, text in texts}


def test_browser_buttons_slider_and_keys_step_through_the_seed_network(chromium, tmp_path):
    _, loss = build_seed_network()
    player = step_through(loss)
    page, errors = open_page(chromium, player.save(tmp_path / "steps.html"))
    last = len(player) - 1

    assert frame_of(page) == 0 and caption_of(page) == player.frames[0].caption
    assert set(shown_grads(page).values()) == {"—"}  # no gradients before backward
    for expected in range(1, 5):
        page.click('button[data-step="next"]')
        assert frame_of(page) == expected
        assert caption_of(page) == player.frames[expected].caption
    page.click('button[data-step="prev"]')
    assert frame_of(page) == 3

    page.focus(PLAYER)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert frame_of(page) == 5
    page.keyboard.press("ArrowLeft")
    assert frame_of(page) == 4

    slider = f'{PLAYER} input[type="range"]'
    page.focus(slider)
    page.keyboard.press("End")  # the slider's own keys move it; the player follows
    assert frame_of(page) == last
    page.keyboard.press("ArrowLeft")  # one step, not two (the player leaves the slider's keys)
    assert frame_of(page) == last - 1
    page.keyboard.press("Home")
    assert frame_of(page) == 0

    page.click('button[data-step="last"]')
    assert frame_of(page) == last and caption_of(page) == player.frames[-1].caption
    grads = shown_grads(page)
    loss.backward()
    order = topological_order(loss)
    assert set(grads) == set(range(len(order)))
    for index, text in grads.items():
        assert math.isclose(float(text), order[index].grad, rel_tol=1e-3, abs_tol=1e-12), index
    page.click('button[data-step="first"]')
    assert frame_of(page) == 0
    assert errors == []


def test_browser_reused_value_accumulates_and_current_node_is_marked(chromium, tmp_path):
    a = Value(2.0, label="a")
    b = a + a
    b.label = "b"
    c = b * 3
    c.label = "c"
    order = topological_order(c)
    page, _ = open_page(chromium, step_through(c).save(tmp_path / "a.html"))
    page.click('button[data-step="next"]')
    assert shown_grads(page)[order.index(a)] == "—"
    assert (
        page.get_attribute(f'g[data-v="{order.index(c)}"]', "class") == "node sg-known sg-current"
    )
    page.click('button[data-step="next"]')
    assert shown_grads(page)[order.index(a)] == "6"
    assert "a.grad = 3 + 3 = 6" in caption_of(page)
    receiving = page.get_attribute(f'g[data-v="{order.index(a)}"]', "class")
    assert "sg-receiving" in receiving.split()


def test_browser_two_players_on_one_page_do_not_interfere(chromium, tmp_path):
    x = Value(1.5, label="x")
    first, second = step_through((x * x).tanh()), step_through(x * 2 + x)
    path = tmp_path / "two.html"
    path.write_text(
        f"<!DOCTYPE html><meta charset='utf-8'><body>{first._repr_html_()}"
        f"{second._repr_html_()}</body>",
        encoding="utf-8",
    )
    page, errors = open_page(chromium, path)
    one, two = (f"{PLAYER} >> nth={n}" for n in (0, 1))
    page.locator(one).locator('button[data-step="last"]').click()
    assert page.locator(one).get_attribute("data-frame") == str(len(first) - 1)
    assert page.locator(two).get_attribute("data-frame") == "0"
    page.locator(two).focus()
    page.keyboard.press("ArrowRight")
    assert page.locator(two).get_attribute("data-frame") == "1"
    assert page.locator(one).get_attribute("data-frame") == str(len(first) - 1)
    assert errors == []


def test_browser_without_scripts_shows_the_last_frame(chromium, tmp_path):
    _, loss = build_seed_network()
    player = step_through(loss)
    page, _ = open_page(chromium, player.save(tmp_path / "s.html"), java_script_enabled=False)
    assert caption_of(page) == player.frames[-1].caption
    assert "—" not in shown_grads(page).values()
    width = page.eval_on_selector(f"{PLAYER} svg", "s => s.getBoundingClientRect().width")
    assert width <= 900  # fits the column


def test_browser_player_plays_in_a_notebook_exported_to_html(chromium, tmp_path):
    nbconvert, nbformat = require("nbconvert"), require("nbformat")
    x = Value(0.5, label="x")
    player = step_through((x * x + x).tanh())
    cell = nbformat.v4.new_code_cell("step_through(y)")
    cell.outputs = [
        nbformat.v4.new_output(
            "execute_result", {"text/html": player._repr_html_(), "text/plain": repr(player)}
        )
    ]
    notebook = nbformat.v4.new_notebook(cells=[cell])
    exported, _ = nbconvert.HTMLExporter().from_notebook_node(notebook)
    path = tmp_path / "notebook.html"
    path.write_text(exported, encoding="utf-8")
    page = chromium.new_context(viewport={"width": 900, "height": 700}).new_page()
    page.goto(path.as_uri(), wait_until="domcontentloaded")  # the template's CDN links may hang
    page.wait_for_function("document.querySelector('[data-role=player]').dataset.frame === '0'")
    page.click('button[data-step="last"]')
    assert frame_of(page) == len(player) - 1
    assert caption_of(page) == player.frames[-1].caption


def test_browser_player_plays_whatever_markup_its_labels_hold(chromium, tmp_path):
    # "<!--<script>" in the frames' JSON made the HTML parser swallow the player's own script,
    # "</script>" would end the JSON early: the labels must reach the page as plain text.
    a = Value(2.0, label="<!--<script>")
    b = Value(3.0, label="</script><script>document.title='injected'</script>")
    c = a * b
    c.label = "&amp; <b>"
    player = step_through(c)
    page, errors = open_page(chromium, player.save(tmp_path / "markup.html"))
    assert frame_of(page) == 0
    page.click('button[data-step="last"]')
    assert frame_of(page) == len(player) - 1
    assert caption_of(page) == player.frames[-1].caption
    assert "&amp; <b>" in caption_of(page)
    assert page.title() != "injected" and errors == []
