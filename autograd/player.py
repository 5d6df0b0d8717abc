"""`step_through`: a player of the backward pass, one frame per node passing its gradient on.

The page is self-contained (inline SVG laid out once, CSS, a short script and the per-frame
changes as JSON), so it plays offline in Jupyter, VS Code and exported HTML alike.
"""

from __future__ import annotations

import html
import json
import os
import re
import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from autograd.engine import topological_order
from autograd.explain import names_for, reference, short_number
from autograd.files import atomic_write, positive_int
from autograd.steps import Step, backward_steps
from autograd.value import Value

SVG = "http://www.w3.org/2000/svg"
NO_GRAD = "—"  # what a node's grad shows before backward reaches it


@dataclass(frozen=True)
class Frame:
    """One frame: `node` passes its gradient to its parents (`steps`); frame 0 has no node."""

    node: Value | None
    steps: tuple[Step, ...]
    caption: str


class Player:
    """The backward pass of `output`, frame by frame; shows itself in Jupyter as an HTML player."""

    def __init__(self, output: Value, max_nodes: int = 2000):
        if not isinstance(output, Value):
            raise TypeError(f"step_through output must be a Value, got {type(output).__name__}")
        self.output = output
        self.max_nodes = positive_int(max_nodes, "max_nodes")
        self._names = names_for(topological_order(output))
        steps = backward_steps(output)
        groups: list[list[Step]] = []
        for step in steps:
            if not groups or groups[-1][0].node is not step.node:
                groups.append([])
            groups[-1].append(step)
        start = f"backward starts at {reference(self._names[output])}"
        self.frames = [
            Frame(
                None, (), f"After the forward pass every node has its data, no grad yet; {start}."
            )
        ]
        received: dict[Value, float] = {}  # each grad set so far, to show a reused value add up
        for number, group in enumerate(groups, start=1):
            caption = self._caption(number, len(groups), group, received)
            self.frames.append(Frame(group[0].node, tuple(group), caption))

    def __len__(self) -> int:
        return len(self.frames)

    def __repr__(self) -> str:
        return f"<Player of the backward pass of {self._names[self.output]}: {len(self)} frames>"

    def grads(self, frame: int) -> dict[Value, float]:
        """The gradients known after `frame` (frame 0: none; the last: those of backward())."""
        known = {}
        for number in range(1, frame + 1):
            known.update(self._new_grads(number))
        return known

    def _new_grads(self, number: int) -> list[tuple[Value, float]]:
        """The grads frame `number` sets, in order: the output's own 1 first, at frame 1."""
        seed = [(self.output, 1.0)] if number == 1 else []
        return seed + [(step.parent, step.accumulated) for step in self.frames[number].steps]

    # --- captions ------------------------------------------------------------------------------

    def _caption(
        self, number: int, count: int, steps: list[Step], received: dict[Value, float]
    ) -> str:
        """Frame `number`'s text; `received` (each parent's grad so far) is brought up to date."""
        node = steps[0].node
        name = reference(self._names[node])
        lines = [f"Step {number} of {count}: {self._names[node]} passes its grad to its parents"]
        if node is self.output:
            lines[0] += f" (backward starts with {name}.grad = 1)"
        for position, step in enumerate(steps):  # a node's steps come in `parents` order
            parent = reference(self._names[step.parent])
            upstream, local = short_number(step.upstream), short_number(step.local)
            line = (
                f"{parent}.grad += {name}.grad × {self._local_symbol(step, position)} = "
                f"{upstream} × {local} = {short_number(step.contribution)}"
            )
            before = received.get(step.parent)
            if before is not None:  # a reused value adds up
                added = short_number(step.contribution)
                added = f"({added})" if step.contribution < 0 else added
                line += f", so {parent}.grad = {short_number(before)} + {added}"
                line += f" = {short_number(step.accumulated)}"
            received[step.parent] = step.accumulated
            lines.append(line)
        if number == count:
            lines.append("Done: these are the grads backward() gives.")
        return "\n".join(lines)

    def _local_symbol(self, step: Step, position: int) -> str:
        """d node / d parent as a learner writes it: the other factor of a product, 1 for a sum.

        `position`: which of the node's parents the step is for (a parent may appear twice)."""
        node = step.node
        if node.op == "mul" and len(node.parents) == 2:
            first, second = node.parents
            other = second if step.parent is first else first
            return reference(self._names[other])
        if node.op == "dot":  # parents (w0, x0, w1, x1, ...): the other factor of its product
            return reference(self._names[node.parents[position ^ 1]])
        if node.op in ("add", "sub", "neg", "mul"):
            return short_number(step.local)
        return f"d{reference(self._names[node])}/d{reference(self._names[step.parent])}"

    # --- HTML ----------------------------------------------------------------------------------

    @cached_property
    def _picture(self) -> str:
        """The graph's SVG, laid out once, showing the last frame's grads (for pages without JS)."""
        svg = _tagged_picture(self.output, self._names, self.max_nodes)
        final = self.grads(len(self) - 1)
        nodes = list(self._names)
        for text in svg.iter(f"{{{SVG}}}text"):
            index = text.get("data-grad")
            if index is not None:
                grad = final.get(nodes[int(index)])
                text.text = f"grad {NO_GRAD if grad is None else short_number(grad)}"
        return ET.tostring(svg, encoding="unicode")

    def _repr_html_(self) -> str:
        """A self-contained HTML fragment: picture, controls, captions; no network, no kernel."""
        uid = f"sg-player-{secrets.token_hex(6)}"  # the script finds its own player by this id
        index = {node: number for number, node in enumerate(self._names)}
        frames = [
            {
                "node": None if frame.node is None else index[frame.node],
                "parents": sorted({index[step.parent] for step in frame.steps}),
                "grads": [
                    [index[node], short_number(grad)] for node, grad in self._new_grads(number)
                ]
                if number
                else [],
                "caption": frame.caption,
            }
            for number, frame in enumerate(self.frames)
        ]
        data = json.dumps({"frames": frames, "empty": NO_GRAD}, separators=(",", ":"))
        return _TEMPLATE.format(
            uid=uid,
            last=len(self) - 1,
            caption=html.escape(self.frames[-1].caption),
            picture=self._picture,
            data=_script_safe(data),
            style=_STYLE,
            script=_SCRIPT.replace("UID", uid),
        )

    def save(self, path: str | os.PathLike) -> Path:
        """Write the player as a standalone HTML page (atomically); return its path."""
        title = html.escape(f"Backward pass of {self._names[self.output]}")
        page = (
            f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{title}</title></head>\n<body>\n{self._repr_html_()}\n</body></html>\n"
        )
        return atomic_write(path, page)


def step_through(output: Value, max_nodes: int = 2000) -> Player:
    """A player of `output`'s backward pass: frame 0 after the forward pass, then one per node.

    Its picture, drawn when first shown or saved, refuses graphs of more than `max_nodes`
    Values (as `to_dot` does: their layout is slow).
    """
    return Player(output, max_nodes)


def _script_safe(json_text: str) -> str:
    """JSON to put inside a <script> element: no "<", ">" or "&" that HTML could read as markup.

    A label holding "</script>" would end the element, and one holding "<!--<script>" would make
    the parser swallow the player's own script; JSON's \\u escapes mean the same string.
    """
    return json_text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _tagged_picture(output: Value, names: dict[Value, str], max_nodes: int) -> ET.Element:
    """The picture of the graph as an SVG element whose parts carry `data-*` numbers.

    Value i of `names` (in its order) gets `data-v="i"`, its op node `data-op="i"`, an edge
    into either `data-to="i"`, and its grad text `data-grad="i"`.
    """
    # The one place that knows how autograd.draw names things: the i-th Value of its order is
    # DOT node `v{i}`, the op that made it `v{i}_op`; Graphviz puts each DOT name in its SVG
    # group's <title>, an edge's as "tail->head". Its order is `drawing_order` where draw has
    # one (the pictures rewrite), else the topological order.
    from autograd import draw

    drawn = getattr(draw, "drawing_order", topological_order)(output)
    index = {node: number for number, node in enumerate(names)}
    titles = list(names.values())
    svg = ET.fromstring(draw.svg_from_dot(draw.to_dot(output, max_nodes=max_nodes)))
    for group in svg.iter(f"{{{SVG}}}g"):
        group.attrib.pop("id", None)  # several players on one page must not share ids
        if group.get("class") == "graph":  # its caption speaks of .grad, not of the player's
            for caption in group.findall(f"{{{SVG}}}text"):
                group.remove(caption)
        title = group.find(f"{{{SVG}}}title")
        if title is None or group.get("class") not in ("node", "edge"):
            continue
        ends = [re.fullmatch(r"v(\d+)(_op)?", name) for name in title.text.split("->")]
        numbers = [index[drawn[int(end.group(1))]] for end in ends]
        # A tooltip: the Value's name, an edge's "tail → head" (an op's edge to its result: one)
        title.text = " → ".join(titles[number] for number in dict.fromkeys(numbers))
        if group.get("class") == "edge":
            group.set("data-to", str(numbers[-1]))
        elif ends[0].group(2):
            group.set("data-op", str(numbers[0]))
        else:
            group.set("data-v", str(numbers[0]))
            for text in group.iter(f"{{{SVG}}}text"):
                if (text.text or "").startswith("grad "):
                    text.set("data-grad", str(numbers[0]))
    natural_width = svg.get("width", "")
    for attribute in ("width", "height"):
        svg.attrib.pop(attribute, None)
    svg.set("width", "100%")
    svg.set("style", f"max-width: {natural_width}; height: auto")
    return svg


ET.register_namespace("", SVG)
ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")

_TEMPLATE = """<div id="{uid}" class="sg-player" data-role="player" tabindex="0"
 data-frame="{last}">
<style>{style}</style>
<div class="sg-controls">
<button type="button" data-step="first" title="first frame">|◀</button>
<button type="button" data-step="prev" title="previous frame (←)">◀</button>
<button type="button" data-step="next" title="next frame (→)">▶</button>
<button type="button" data-step="last" title="last frame">▶|</button>
<input type="range" min="0" max="{last}" value="{last}" step="1" aria-label="frame">
<span data-role="counter">frame {last} / {last}</span>
<button type="button" data-role="zoom" title="fit the picture to the width, or show it 1:1">
1:1</button>
</div>
<div class="sg-caption" data-role="caption">{caption}</div>
<div class="sg-picture">{picture}</div>
<script type="application/json" data-role="frames">{data}</script>
<script>{script}</script>
</div>"""

_STYLE = """
.sg-player{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,sans-serif;max-width:100%;
 border:1px solid #d0d7de;border-radius:6px;padding:8px;box-sizing:border-box;outline:none}
.sg-player:focus-visible,.sg-player:focus-within{border-color:#1f6feb}
.sg-player .sg-controls{display:flex;flex-wrap:wrap;align-items:center;gap:6px}
.sg-player button{font-size:14px;min-width:2.2em;padding:2px 6px;cursor:pointer}
.sg-player input[type=range]{flex:1 1 160px;min-width:100px}
.sg-player [data-role=counter]{font-variant-numeric:tabular-nums;white-space:nowrap}
.sg-player .sg-caption{white-space:pre-wrap;font-family:ui-monospace,Menlo,Consolas,monospace;
 font-size:14px;line-height:1.45;margin:8px 0;padding:6px 8px;background:#f6f8fa;
 border-left:4px solid #e8590c;min-height:4.4em}
.sg-player .sg-caption::first-line{font-weight:bold}
.sg-player .sg-picture{overflow-x:auto}
.sg-player g.node[data-v] :is(polygon,path):first-of-type{fill:#fff}
.sg-player g.node.sg-known :is(polygon,path):first-of-type{fill:#ebfbee}
.sg-player g.node.sg-receiving :is(polygon,path):first-of-type{fill:#d0ebff}
.sg-player g.node.sg-receiving :is(polygon,path,ellipse){stroke:#1971c2;stroke-width:2.5px}
.sg-player g.node.sg-receiving text[data-grad]{font-weight:bold;fill:#1864ab}
.sg-player g.node.sg-current :is(polygon,path,ellipse):first-of-type{fill:#ffe8cc}
.sg-player g.node.sg-current :is(polygon,path,ellipse){stroke:#e8590c;stroke-width:3.5px}
.sg-player g.edge.sg-current path{stroke:#e8590c;stroke-width:3.5px}
.sg-player g.edge.sg-current polygon{stroke:#e8590c;fill:#e8590c}
"""

# The script finds its own player by id, so several players on one page never interfere.
_SCRIPT = """(function(){
var root=document.getElementById("UID");if(!root)return;
var data=JSON.parse(root.querySelector('script[data-role="frames"]').textContent);
var frames=data.frames,last=frames.length-1,current=0;
var slider=root.querySelector('input[type="range"]');
var caption=root.querySelector('[data-role="caption"]');
var counter=root.querySelector('[data-role="counter"]');
var picture=root.querySelector(".sg-picture");
// Each Value's parts by index, looked up once: its box, grad text, op node and edges into both.
var parts={};
function partsOf(i){return parts[i]||(parts[i]={box:null,grad:null,drawn:[]});}
root.querySelectorAll("g[data-v],g[data-op],g.edge[data-to]").forEach(function(g){
 var v=g.getAttribute("data-v"),p=partsOf(v!==null?v:g.getAttribute("data-op")||
  g.getAttribute("data-to"));
 if(v!==null){p.box=g;p.grad=g.querySelector("text[data-grad]");}
 p.drawn.push(g);});
var marked=[];
function mark(elements,name){elements.forEach(function(e){e.classList.add(name);
 marked.push(e);});}
// Scroll the 1:1 picture so that the frame's nodes (the step's node and its parents) are in view.
function centre(elements){
 var left=Infinity,right=-Infinity,view=picture.getBoundingClientRect();
 elements.forEach(function(e){var box=e.getBoundingClientRect();
  left=Math.min(left,box.left);right=Math.max(right,box.right);});
 if(left<right)picture.scrollLeft+=(left+right)/2-(view.left+view.right)/2;}
function show(k){
 k=Math.max(0,Math.min(last,k));current=k;
 var grads={};
 for(var i=1;i<=k;i++){frames[i].grads.forEach(function(g){grads[g[0]]=g[1];});}
 marked.forEach(function(e){e.classList.remove("sg-known","sg-current","sg-receiving");});
 marked=[];
 Object.keys(parts).forEach(function(i){var p=parts[i],g=grads[i];
  if(p.grad)p.grad.textContent="grad "+(g===undefined?data.empty:g);
  if(g!==undefined&&p.box)mark([p.box],"sg-known");});
 var frame=frames[k];
 if(frame.node!==null){
  var receiving=frame.parents.map(function(i){return partsOf(i).box;}).filter(Boolean);
  mark(receiving,"sg-receiving");
  mark(partsOf(frame.node).drawn,"sg-current");
  if(picture.classList.contains("sg-actual"))centre(receiving.concat(partsOf(frame.node).drawn));
 }
 caption.textContent=frame.caption;
 slider.value=String(k);
 counter.textContent="frame "+k+" / "+last;
 root.setAttribute("data-frame",String(k));
}
var moves={first:function(){return 0;},prev:function(){return current-1;},
 next:function(){return current+1;},last:function(){return last;}};
root.querySelectorAll("button[data-step]").forEach(function(b){
 b.addEventListener("click",function(){show(moves[b.getAttribute("data-step")]());});});
slider.addEventListener("input",function(){show(parseInt(slider.value,10));});
root.addEventListener("keydown",function(e){
 if(e.target===slider)return;
 if(e.key==="ArrowRight"||e.key==="ArrowLeft"){e.preventDefault();
  show(current+(e.key==="ArrowRight"?1:-1));}});
var zoom=root.querySelector('[data-role="zoom"]');
var svg=picture.querySelector("svg");
var natural=svg&&svg.viewBox?svg.viewBox.baseVal.width:0;
function setActual(on){picture.classList.toggle("sg-actual",on);zoom.textContent=on?"fit":"1:1";
 if(svg){svg.style.width=on?natural+"px":"";svg.style.maxWidth=on?"none":"";}}
zoom.addEventListener("click",function(){setActual(!picture.classList.contains("sg-actual"));
 show(current);});
// A picture much wider than the column would shrink to unreadable text: show it 1:1 and scroll.
setActual(natural>1.5*picture.clientWidth&&picture.clientWidth>0);
show(0);
})();"""
