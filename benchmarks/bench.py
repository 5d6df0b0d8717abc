"""scalargrad against micrograd 0.1.0, PyTorch 0-dim float64 tensors, "slotted" and a floor.

"compiled" is scalargrad through `autograd.compile` (W4, W6, W7); "slotted" is the 2026 scalar
`__slots__` Value (benchmarks/slotted.py); the floor is hand-written Python on plain floats.
Every engine runs in a worker process of its own, holding only its own imports and objects, as
in a user's program; the parent drives them in alternating rounds (A B C D A B C D ...) in one
run, and prints medians and ratios. Run: `python benchmarks/bench.py` (full size, a few
minutes) or `--quick` (small sizes, a smoke test); `--gc-off` runs every worker with the garbage
collector off (a diagnostic: the difference is what the collector costs each engine). Needs
`pip install -e ".[bench]"`.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workloads import (  # noqa: E402
    classification_data,
    mlp_weights,
    moons,
    serve,
    transformer_weights,
)

ENGINES = ("scalargrad", "compiled", "slotted", "micrograd", "torch", "floor")
INSTALL = {"micrograd": "pip install micrograd==0.1.0", "torch": "pip install torch==2.13.0"}


class Worker:
    """One engine in a process of its own (see workloads.serve)."""

    def __init__(self, engine: str, collect: bool = True):
        context = multiprocessing.get_context("spawn")  # a fresh interpreter, no shared heap
        self.engine = engine
        self.connection, child = context.Pipe()
        arguments = (engine, child, collect)
        self.process = context.Process(target=serve, args=arguments, daemon=True)
        self.process.start()

    def ask(self, *request):
        self.connection.send(request)
        answer = self.connection.recv()
        if isinstance(answer, tuple) and answer and answer[0] == "error":
            raise RuntimeError(f"{self.engine}: {answer[1]}")
        return answer

    def close(self) -> None:
        self.connection.send(None)
        self.process.join()


def available(engine: str) -> bool:
    if engine not in INSTALL:
        return True
    import importlib.util

    if importlib.util.find_spec(engine) is None:
        print(f"{engine} is not installed ({INSTALL[engine]}): left out")
        return False
    return True


def alternate(workers: dict[str, Worker], workload: str, arguments, rounds: int, calls: int):
    """Median seconds per step of each engine, asked in turn, round after round."""
    times: dict[str, list[float]] = {name: [] for name in workers}
    for _ in range(rounds):
        for name, worker in workers.items():
            times[name] += worker.ask("time", workload, arguments, calls)
    return {name: statistics.median(values) for name, values in times.items()}


def disagreement(a: float, b: float) -> float:
    """|a - b| relative to the larger of the two, or absolute below 1e-3 (sums that cancel)."""
    return abs(a - b) / max(abs(a), abs(b), 1e-3)


def check_agreement(workers: dict[str, Worker], measure: str, arguments) -> list[str]:
    """Loss and every gradient of a step must agree to 1e-12 across engines (see `disagreement`)."""
    results = {name: worker.ask("measure", measure, arguments) for name, worker in workers.items()}
    reference_loss, reference_grads = results["scalargrad"]
    problems = []
    for name, (loss, grads) in results.items():
        worst = max(disagreement(g, r) for g, r in zip(grads, reference_grads, strict=True))
        if disagreement(loss, reference_loss) > 1e-12 or worst > 1e-12:
            problems.append(f"{name}: loss {loss!r} vs {reference_loss!r}, worst grad {worst:.1e}")
        print(f"  {name:<11} loss {loss:.15f}  worst gradient disagreement {worst:.1e}")
    return problems


def add_timed_rows(rows: list, row: str, results: dict[str, float]) -> None:
    """One table row per engine for a timed workload, printed as they come."""
    for name, seconds in results.items():
        rows.append((row, name, milliseconds(seconds)))
        print(f"  {name:<11} {milliseconds(seconds)}")


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1e3:9.2f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument("--rounds", type=int, default=None, help="alternating rounds per workload")
    parser.add_argument("--gc-off", action="store_true", help="workers run with gc disabled")
    args = parser.parse_args(argv)
    quick = args.quick
    rounds = args.rounds or (2 if quick else 5)

    data = moons(20 if quick else 100)
    weights = mlp_weights([2, 16, 16, 1])
    workers = {name: Worker(name, not args.gc_off) for name in ENGINES if available(name)}
    collector = "OFF (diagnostic)" if args.gc_off else "on"
    print(f"Python {sys.version.split()[0]}; engines: {', '.join(workers)}; rounds: {rounds};")
    print(f"garbage collector {collector}\n")
    try:
        return run_all(workers, data, weights, quick, rounds)
    finally:
        for worker in workers.values():
            worker.close()


def run_all(workers: dict[str, Worker], data, weights, quick: bool, rounds: int) -> int:
    """Every workload on every engine; prints the table and the targets; 1 on disagreement."""
    rows: list[tuple[str, str, str]] = []  # (workload, engine, figure)
    targets: list[tuple[str, bool]] = []
    problems = []
    timed = {}  # workload row name -> {engine: median seconds}
    compiled = workers.get("compiled")
    everything, workers = workers, {n: w for n, w in workers.items() if n != "compiled"}
    for library, row in ((False, "W1 MLP step"), (True, "W1 MLP step, nn")):
        how = "each library's MLP" if library else "neurons as sum(w*x) + b"
        print(f"\n{row}: MLP 2-16-16-1, mean hinge loss, SGD ({how})")
        problems += check_agreement(workers, "w1_gradients", (weights, data, library))
        timed[row] = alternate(workers, "w1", (weights, data, 0.05, library), rounds, calls=3)
        add_timed_rows(rows, row, timed[row])

    print("W2 bytes per op node, chain y = y*c + d")
    ops = 20_000 if quick else 200_000
    w2 = {name: worker.ask("measure", "w2", (ops,)) for name, worker in workers.items()}
    for name, per_op in w2.items():
        note = " (RSS)" if name == "torch" else ""
        rows.append(("W2 bytes/op", name, f"{per_op:9.1f} B{note}"))

    print("W3 deepest chain y = y + x, and backward time at the full depth")
    depth = 10_000 if quick else 1_000_000
    for name, worker in workers.items():
        if name == "floor":
            continue
        deepest = worker.ask("measure", "w3_deepest", (depth,))
        rows.append(("W3 deepest chain", name, f"{deepest:,}"))
        if deepest == depth:
            seconds = worker.ask("measure", "w3_time", (depth,))
            rows.append((f"W3 backward at {depth:,}", name, milliseconds(seconds)))
            if name == "scalargrad":
                met = quick or seconds <= 0.3
                targets.append((f"W3: backward of a 10**6 chain <= 0.3 s ({seconds:.2f} s)", met))

    print("W5 pairwise sum of products of distinct leaves, forward + backward")
    n = 10_000 if quick else 100_000
    timed["W5 sum of products"] = alternate(workers, "w5", (n,), rounds, calls=2)
    add_timed_rows(rows, "W5 sum of products", timed["W5 sum of products"])

    if compiled is not None:
        problems += run_compiled(everything, data, weights, quick, rounds, rows, targets, timed)

    row = "W7 transformer step"
    print(f"\n{row}: vocabulary 27, embedding 16, 4 heads, context 8, one layer, Adam")
    w7 = {n: w for n, w in everything.items() if n != "floor"}  # no hand-written floor for W7
    w7_weights = transformer_weights()
    problems += check_agreement(w7, "w7_gradients", (w7_weights,))
    timed[row] = alternate(w7, "w7", (w7_weights, 0.01), rounds, calls=2)
    add_timed_rows(rows, row, timed[row])

    # The same step with every weighted sum written as scalargrad's dot_product (one n-ary node
    # instead of 2n-1 binary ones); slotted, which has no such op, runs the plain step again.
    row = "W7 transformer step, dot_product"
    print(f"\n{row}: scalargrad's weighted sums as dot_product; slotted as written")
    fused = {n: w for n, w in everything.items() if n in ("scalargrad", "slotted")}
    problems += check_agreement(fused, "w7_gradients", (w7_weights, True))
    timed[row] = alternate(fused, "w7", (w7_weights, 0.01, True), rounds, calls=2)
    add_timed_rows(rows, row, timed[row])

    for row, other, at_least in (
        ("W7 transformer step", "slotted", 2.5),
        ("W7 transformer step, dot_product", "slotted", 2.5),
        ("W1 MLP step", "slotted", 2.0),
        ("W1 MLP step", "micrograd", 20),
        ("W1 MLP step", "torch", 8),
        ("W1 MLP step, nn", "micrograd", 20),
        ("W1 MLP step, nn", "torch", 8),
        ("W5 sum of products", "micrograd", 8),
        ("W5 sum of products", "torch", 12),
        ("W6 softmax MLP step", "micrograd", 10),
        ("W6 softmax MLP step", "torch", 3.5),
    ):
        if row not in timed:
            continue
        if other in timed[row]:
            ratio = timed[row][other] / timed[row]["scalargrad"]
            text = f"{row}: {ratio:.1f}x faster than {other} (target {at_least}x)"
            targets.append((text, ratio >= at_least))
    targets.append(
        (  # tracemalloc adds a fraction of a byte of its own: whole bytes count
            f"W2: {w2['scalargrad']:.1f} bytes per op node (target <= 120)",
            round(w2["scalargrad"]) <= 120,
        )
    )
    print_table(rows, timed)
    print("\nTargets" + (" (quick run: sizes are small, ratios indicative only)" if quick else ""))
    for text, met in targets:
        print(f"  [{'met' if met else 'MISSED'}] {text}")
    for problem in problems:
        print(f"  [DISAGREE] {problem}")
    return 1 if problems else 0


def run_compiled(workers, data, weights, quick: bool, rounds: int, rows, targets, timed) -> list:
    """W4 (the W1 step compiled) and W6 (a 64-64-64-10 softmax MLP step); adds rows and targets."""
    problems = []
    row = "W4 W1 step compiled"
    w4 = {name: workers[name] for name in ("compiled", "scalargrad", "floor") if name in workers}
    print(f"\n{row}: compiled once (inputs and labels as leaves); per step set leaves, call, SGD")
    problems += check_agreement(w4, "w1_gradients", (weights, data, False))
    repeats = 1 if quick else 3
    trace, seconds = workers["compiled"].ask("measure", "w4_compile", (weights, data, repeats))
    rows.append(("W4 trace (eager forward)", "compiled", f"{trace:9.2f} s"))
    rows.append(("W4 compile()", "compiled", f"{seconds:9.2f} s"))
    targets.append((f"W4: compile() {seconds:.2f} s (target <= 0.3 s)", seconds <= 0.3))
    timed[row] = alternate(w4, "w1", (weights, data, 0.05, False), rounds, calls=3)
    add_timed_rows(rows, row, timed[row])
    if "floor" in timed[row]:
        ratio = timed[row]["compiled"] / timed[row]["floor"]
        text = f"W4: compiled step {ratio:.2f}x the floor's time (target <= 1.00x, no slower)"
        targets.append((text, ratio <= 1.0))

    row = "W6 softmax MLP step"
    samples = 4 if quick else 32
    w6_data = classification_data(samples)
    w6_weights = mlp_weights([64, 64, 64, 10], seed=6)
    print(f"\n{row}: MLP 64-64-64-10, softmax cross-entropy, {samples} samples, SGD")
    problems += check_agreement(workers, "w6_gradients", (w6_weights, w6_data))
    arguments = (w6_weights, w6_data, repeats)
    trace, seconds = workers["compiled"].ask("measure", "w6_compile", arguments)
    rows.append(("W6 trace (eager forward)", "compiled", f"{trace:9.2f} s"))
    rows.append(("W6 compile()", "compiled", f"{seconds:9.2f} s"))
    if not quick:
        targets.append((f"W6: compile() {seconds:.2f} s (target <= 3 s)", seconds <= 3))
    timed[row] = alternate(workers, "w6", (w6_weights, w6_data, 0.01), rounds, calls=1)
    add_timed_rows(rows, row, timed[row])
    if "floor" in timed[row]:
        ratio = timed[row]["compiled"] / timed[row]["floor"]
        text = f"W6: compiled step {ratio:.2f}x the floor's time (target <= 1.00x, no slower)"
        targets.append((text, ratio <= 1.0))

    row = "fit on moons"
    print(f"\n{row}: nn.fit, MLP 2-16-16-1, hinge, Adam, batches of 20, eager and compiled=True")
    # In scalargrad's worker, which holds no compiled W6 graph (581,000 live nodes that every
    # full collection would walk): fit runs with a heap like a user's.
    epochs = workers["scalargrad"].ask("measure", "fit_epochs", (2 if quick else 3,))
    for how, seconds in epochs.items():
        figures = ", ".join(f"{1e3 * s:.0f}" for s in seconds)
        rows.append((f"{row}, ms per epoch", f"scalargrad {how}", figures))
    eager, compiled = epochs["eager"], epochs["compiled"]
    text = (
        f"fit(compiled=True) pays for itself within the first epoch: {1e3 * compiled[0]:.0f} ms "
        f"against {1e3 * eager[0]:.0f} ms eager (after two: {1e3 * sum(compiled[:2]):.0f} "
        f"against {1e3 * sum(eager[:2]):.0f} ms)"
    )
    targets.append((text, compiled[0] <= eager[0]))
    return problems


# The engine each workload's "scalargrad is" column compares against, when not "scalargrad".
REFERENCE = {"W4 W1 step compiled": "compiled"}


def print_table(rows, timed: dict[str, dict[str, float]]) -> None:
    """A Markdown table, ready to paste into the README."""
    print("\n| workload | engine | measured | scalargrad is |")
    print("|---|---|---|---|")
    for workload, engine, figure in rows:
        speedup = ""
        reference = REFERENCE.get(workload, "scalargrad")
        if workload in timed and engine != reference:
            factor = timed[workload][engine] / timed[workload][reference]
            speedup = f"{factor:.1f}x faster" if factor >= 1 else f"{1 / factor:.1f}x slower"
        print(f"| {workload} | {engine} | {figure.strip()} | {speedup} |")


if __name__ == "__main__":
    sys.exit(main())
