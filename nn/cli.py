"""The `scalargrad` command line: `demo`, `train` (an MLP on toy data or a CSV file) and `graph`.

Every bad argument or input ends as exactly one line on stderr, `scalargrad: error: ...`,
with exit status 2 and no traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from typing import NoReturn

PROG = "scalargrad"
DATASETS = ("moons", "circles", "spirals", "xor")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
SAMPLES = 100  # generated data sets have this many points, noise 0.1, seeded by --seed
# `scalargrad demo`'s training run: fit's documented moons settings, run a little longer.
DEMO_DATA = {"n": 100, "noise": 0.1, "seed": 0}
DEMO_TRAINING = {"hidden": [16, 16], "lr": 0.05, "epochs": 40, "batch_size": 20, "seed": 0}


class ArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, `scalargrad: error: ...`, exit status 2."""

    def error(self, message: str) -> NoReturn:
        """Print `message` as one line (no usage block) and exit with status 2."""
        self.exit(2, f"{PROG}: error: {' '.join(message.split())}\n")


def build_parser() -> ArgumentParser:
    """The parser for every subcommand; each sets `handler`, a function of the parsed args."""
    from autograd.draw import DEFAULT_MAX_NODES, RANKDIRS
    from nn.layers import ACTIVATIONS
    from nn.train import LOSSES

    parser = ArgumentParser(
        prog=PROG, description="scalargrad: a scalar reverse-mode autodiff engine."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="the whole story in under a minute: backprop by hand, a graph, a trained MLP",
        description="Check backprop on a 2-2-1 network against hand-derived gradients, draw its "
        "graph, train an MLP on moons and plot its decision boundary.",
    )
    demo.add_argument("--out", default="out", metavar="DIR", help="output directory (out)")
    demo.set_defaults(handler=run_demo)

    train = commands.add_parser(
        "train",
        help="train an MLP classifier on a toy data set or a CSV file",
        description="Train an MLP on a generated data set or FILE.csv (numeric columns, the "
        "last one the label, an optional header row), print its final loss and accuracy and "
        "save it as JSON.",
    )
    train.add_argument(
        "--data",
        default="moons",
        metavar="NAME|FILE.csv",
        help=f"one of {', '.join(DATASETS)} ({SAMPLES} points), or a CSV file (moons)",
    )
    train.add_argument(
        "--hidden",
        nargs="+",
        type=_positive_int,
        default=[16, 16],
        metavar="N",
        help="hidden layer widths (16 16)",
    )
    train.add_argument("--activation", choices=tuple(ACTIVATIONS), default="relu", help="(relu)")
    train.add_argument(
        "--loss",
        choices=tuple(LOSSES),
        default="hinge",
        help="hinge and bce take two classes 0/1, cross_entropy class indices (hinge)",
    )
    train.add_argument("--optimizer", choices=OPTIMIZERS, default="adam", help="(adam)")
    train.add_argument("--lr", type=_positive_float, default=0.01, help="learning rate (0.01)")
    train.add_argument("--epochs", type=_positive_int, default=100, metavar="N", help="(100)")
    train.add_argument(
        "--batch-size",
        type=_positive_int,
        default=None,
        metavar="N",
        help="minibatch size (default: the whole data set)",
    )
    train.add_argument(
        "--seed", type=int, default=0, help="seed of the data, weights and shuffling (0)"
    )
    train.add_argument(
        "--save", default="model.json", metavar="FILE", help="where to write the model (model.json)"
    )
    train.add_argument(
        "--plot", metavar="FILE.png", help="also plot the decision boundary (2-D data only)"
    )
    train.add_argument(
        "--compiled", action="store_true", help="train through autograd.compile (faster)"
    )
    train.set_defaults(handler=run_train)

    graph = commands.add_parser(
        "graph",
        help="draw the graph of an expression, with data and gradients, as SVG",
        description="Parse EXPR (numbers, names, + - * / **, unary -, parentheses and the "
        "functions exp log sqrt tanh sigmoid relu leaky_relu softplus sin cos abs, as tanh(x) "
        "or (x).tanh()), build its graph, run backward and render it to SVG.",
        epilog='An expression that starts with "-" goes after "--": '
        'scalargrad graph --set x=2 -- "-x*x"',
    )
    graph.add_argument("expression", metavar="EXPR", help='e.g. "tanh(x*w + b)"')
    graph.add_argument(
        "--set",
        nargs="+",
        action="extend",
        default=[],
        metavar="NAME=NUMBER",
        help="the value of each name in EXPR, e.g. --set x=2 w=-3 b=6.88",
    )
    graph.add_argument(
        "-o",
        "--output",
        default="graph.svg",
        type=_picture_path,
        metavar="FILE",
        help="an .svg or .png file (graph.svg)",
    )
    graph.add_argument("--rankdir", choices=RANKDIRS, default="LR", help="layout direction (LR)")
    graph.add_argument(
        "--max-nodes",
        type=_positive_int,
        default=DEFAULT_MAX_NODES,
        metavar="N",
        help=f"refuse graphs with more than N values to draw ({DEFAULT_MAX_NODES})",
    )
    graph.add_argument(
        "--collapse",
        type=_positive_int,
        metavar="K",
        help="draw each scope K levels deep as one node",
    )
    graph.add_argument(
        "--highlight", metavar="NAME", help="mark the paths from input NAME to the result"
    )
    graph.add_argument(
        "--edge-labels", action="store_true", help="write each local derivative on its edge"
    )
    graph.set_defaults(handler=run_graph)
    return parser


def run_graph(args: argparse.Namespace) -> None:
    """`scalargrad graph`: parse, build, backward, render; print the value and gradients."""
    from autograd import to_dot, topological_order
    from autograd.draw import GraphTooLarge, write_picture
    from autograd.expression import build_graph, parse_assignments

    variables = parse_assignments(args.set)
    root = build_graph(args.expression, variables)
    root.backward()
    order = topological_order(root)
    highlight = None
    if args.highlight is not None:
        named = {node.label: node for node in order if not node.op}
        if args.highlight not in named:
            raise ValueError(
                f"--highlight {args.highlight}: not an input of EXPR; choose one of "
                f"{', '.join(sorted(named))}"
            )
        highlight = named[args.highlight]
    try:
        source = to_dot(
            root,
            rankdir=args.rankdir,
            max_nodes=args.max_nodes,
            collapse=args.collapse,
            highlight=highlight,
            edge_labels=args.edge_labels,
        )
    except GraphTooLarge as error:
        raise ValueError(error.advice("--max-nodes", "--collapse K")) from None
    with _signals_end_cleanly():
        path = write_picture(source, args.output, os.path.splitext(args.output)[1][1:].lower())
    leaves = sorted(
        (node for node in order if not node.op and node.label in variables),
        key=lambda leaf: leaf.label,
    )
    print(f"{root.label} = {root.data:.6g}")
    for leaf in leaves:
        print(f"  d/d{leaf.label} = {leaf.grad:.6g}")
    print(f"wrote {path} ({len(order)} value{'' if len(order) == 1 else 's'})")


@contextlib.contextmanager
def _signals_end_cleanly() -> Iterator[None]:
    """Ctrl-C or SIGTERM during the block: stop (the layout is killed, no file is left), exit."""

    def terminate(signum, frame):
        raise KeyboardInterrupt

    # Only the main thread may set signal handlers (main() may run in another, e.g. in tests).
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, terminate) if main_thread else None
    try:
        yield
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        raise SystemExit(130) from None
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)


def _picture_path(text: str) -> str:
    if os.path.splitext(text)[1].lower() not in (".svg", ".png"):
        raise argparse.ArgumentTypeError(f"{text!r} must end in .svg or .png")
    return text


def run_train(args: argparse.Namespace) -> None:
    """`scalargrad train`: load data, check every setting, fit, report, save, plot."""
    X, y = load_data(args.data, args.seed)
    _check_labels(args.loss, y)
    if args.plot is not None and len(X[0]) != 2:
        raise ValueError(
            f"--plot draws 2-D data only; {args.data} has {len(X[0])} features: drop --plot"
        )
    for option, path in (("--save", args.save), ("--plot", args.plot)):
        if path is not None:
            _check_writable(option, path)

    from nn import MLP

    outputs = max(y) + 1 if args.loss == "cross_entropy" else 1
    model = MLP(len(X[0]), [*args.hidden, outputs], activation=args.activation, seed=args.seed)
    optimizer = make_optimizer(args.optimizer, model.parameters(), args.lr)
    print(f"training {_describe(model, args.data, len(X), args.loss, args.optimizer, args.lr)}")
    train_and_report(model, X, y, args.loss, optimizer, args.epochs, args.batch_size, args.compiled)
    _save_model(model, args.save)
    if args.plot is not None:
        title = f"{_architecture(model)} on {os.path.basename(args.data)}"
        _plot(model, X, y, args.loss, args.plot, title=title)


def run_demo(args: argparse.Namespace) -> None:
    """`scalargrad demo`: backprop checked by hand, its graph, then an MLP trained on moons."""
    from autograd import render_svg, topological_order
    from nn import MLP
    from nn.data import make_moons
    from nn.optim import Adam
    from nn.seed_example import FORMULAS, START, build_graph, hand_gradients

    started = time.perf_counter()
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise NotADirectoryError(f"--out {args.out} is a file; name a directory for the results")
    os.makedirs(args.out, exist_ok=True)
    paths = {
        name: os.path.join(args.out, name)
        for name in ("graph.svg", "decision_boundary.png", "model.json")
    }
    for path in paths.values():
        _check_writable(f"--out {args.out}:", path)

    print("1. Backprop on the 2-2-1 network h = W1 x + b1, y = w3 . h + b3, L = (y - t)**2 / 2")
    params, loss = build_graph()
    loss.backward()
    expected = hand_gradients(START)
    print(f"   L = {loss.data:.6f}")
    print(f"   {'param':<6} {'engine grad':>13}  {'hand formula':<16} {'hand value':>13}  ok")
    wrong = []
    for name, param in params.items():
        ok = math.isclose(param.grad, expected[name], rel_tol=1e-12, abs_tol=1e-15)
        if not ok:
            wrong.append(name)
        print(
            f"   {name:<6} {param.grad:>13.8f}  {FORMULAS[name]:<16} {expected[name]:>13.8f}  "
            f"{'yes' if ok else 'NO'}"
        )
    if wrong:
        raise RuntimeError(f"backward disagrees with the hand-derived gradients of {wrong}")

    render_svg(loss, paths["graph.svg"], rankdir="TB")
    print(f"2. wrote {paths['graph.svg']} ({len(topological_order(loss))} values)")

    settings = DEMO_TRAINING
    X, y = make_moons(**DEMO_DATA)
    model = MLP(2, [*settings["hidden"], 1], seed=settings["seed"])
    optimizer = Adam(model.parameters(), lr=settings["lr"])
    print(f"3. Training {_describe(model, 'moons', len(X), 'hinge', 'adam', settings['lr'])}")
    final_loss, accuracy = train_and_report(
        model, X, y, "hinge", optimizer, settings["epochs"], settings["batch_size"]
    )

    print("4. The decision boundary and the model")
    _plot(
        model,
        X,
        y,
        "hinge",
        paths["decision_boundary.png"],
        title=f"{_architecture(model)} on moons: accuracy {accuracy:.0%}",
    )
    _save_model(model, paths["model.json"])
    print(
        f"Done in {time.perf_counter() - started:.1f} s: see {paths['graph.svg']} and "
        f"{paths['decision_boundary.png']}"
    )


def load_data(source: str, seed: int) -> tuple[list[list[float]], list]:
    """A generated data set by name (SAMPLES points, noise 0.1), or the rows of a CSV file."""
    from nn import data

    if source in DATASETS:
        return getattr(data, f"make_{source}")(n=SAMPLES, noise=0.1, seed=seed)
    if not source.lower().endswith(".csv") and not os.path.exists(source):
        raise ValueError(
            f"unknown data set {source!r}: choose one of {', '.join(DATASETS)} or a .csv file"
        )
    return read_csv(source)


def read_csv(path: str) -> tuple[list[list[float]], list]:
    """Features and labels of a CSV file: numeric columns, the last the label, optional header.

    The first row is a header if any of its fields is not a number. Integral labels become
    ints (class indices); a malformed row is a ValueError naming its line.
    """
    X, y = [], []
    width = None
    try:
        with open(path, newline="", encoding="utf-8") as file:
            reader = csv.reader(file)
            for row in reader:
                if not row or all(not field.strip() for field in row):
                    continue  # blank lines
                numbers = _numbers(row)
                where = f"{path} line {reader.line_num}"
                header = numbers is None and width is None and reader.line_num == 1
                if width is None:
                    width = len(row)  # set by the header row, if any, or the first data row
                    if width < 2:
                        raise ValueError(
                            f"{where}: need at least 2 columns (features, then the label)"
                        )
                if header:
                    continue
                if numbers is None:
                    raise ValueError(f"{where}: expected numbers, got {','.join(row)[:60]!r}")
                if len(numbers) != width:
                    raise ValueError(f"{where}: expected {width} columns, got {len(numbers)}")
                *features, label = numbers
                X.append(features)
                y.append(int(label) if label.is_integer() else label)
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a UTF-8 text file; save the CSV as UTF-8") from None
    except csv.Error as error:
        raise ValueError(f"{path} line {reader.line_num}: {error}") from None
    except OSError as error:
        raise OSError(f"cannot read {path}: {error.strerror}") from None
    if not X:
        raise ValueError(f"{path} has no data rows")
    return X, y


def make_optimizer(name: str, params: list, lr: float):
    """The `nn.optim` optimizer for a --optimizer name; momentum and nesterov use 0.9."""
    from nn.optim import SGD, Adagrad, Adam, RMSprop

    makers = {
        "sgd": lambda: SGD(params, lr=lr),
        "momentum": lambda: SGD(params, lr=lr, momentum=0.9),
        "nesterov": lambda: SGD(params, lr=lr, momentum=0.9, nesterov=True),
        "adagrad": lambda: Adagrad(params, lr=lr),
        "rmsprop": lambda: RMSprop(params, lr=lr),
        "adam": lambda: Adam(params, lr=lr),
    }
    return makers[name]()


def train_and_report(
    model, X, y, loss: str, optimizer, epochs: int, batch_size: int | None, compiled: bool = False
) -> tuple[float, float]:
    """`nn.fit` with a progress bar, then print and return the trained model's loss and accuracy."""
    from autograd import no_grad
    from nn import fit
    from nn.train import batch_loss, classes_of, count_correct, targets_for

    sys.stdout.flush()  # our lines before the bar, which goes to stderr
    fit(model, X, y, loss, optimizer, epochs=epochs, batch_size=batch_size, compiled=compiled)
    targets = targets_for(loss, y)
    with no_grad():
        value, outputs = batch_loss(model, X, targets, loss)
    accuracy = count_correct(outputs, targets, loss, classes_of(loss, targets)) / len(X)
    print(f"   final loss {value.data:.6f}, accuracy {accuracy:.1%} ({len(X)} samples)")
    return value.data, accuracy


def _architecture(model) -> str:
    """e.g. "MLP 2-16-16-1 (relu)"."""
    widths = "-".join(str(width) for width in [model.nin, *model.nouts])
    return f"MLP {widths} ({model.activation})"


def _describe(model, data: str, samples: int, loss: str, optimizer: str, lr: float) -> str:
    """One line: what is trained on what, with which loss and optimizer."""
    return (
        f"{_architecture(model)} on {data} ({samples} samples), {loss} loss, {optimizer} lr={lr:g}"
    )


def _numbers(row: list[str]) -> list[float] | None:
    """The fields of a CSV row as finite floats, or None if any is not a finite number."""
    try:
        numbers = [float(field) for field in row]
    except ValueError:
        return None
    return numbers if all(map(math.isfinite, numbers)) else None


def _check_labels(loss: str, y: list) -> None:
    """Refuse labels `loss` cannot train on before any training starts."""
    labels = sorted(set(y))
    shown = labels[:6] + (["..."] if len(labels) > 6 else [])
    if loss in ("hinge", "bce"):
        allowed = ({0, 1}, {-1, 1}) if loss == "hinge" else ({0, 1},)
        if not any(set(labels) <= pair for pair in allowed):
            names = "0/1 or -1/+1" if loss == "hinge" else "0/1"
            raise ValueError(
                f"--loss {loss} needs two classes labelled {names}; the data has labels {shown}: "
                "use --loss cross_entropy for more classes"
            )
    elif loss == "cross_entropy":
        if not all(isinstance(label, int) and label >= 0 for label in labels):
            raise ValueError(
                f"--loss cross_entropy needs class indices 0, 1, 2, ...; the data has labels "
                f"{shown}: use --loss mse for real-valued targets"
            )


def _check_writable(option: str, path: str) -> None:
    """Fail before training if `path` cannot be written, rather than after it."""
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(f"{option} {path} is a directory; name a file in it")
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"{option} {path}: directory {directory} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise PermissionError(f"{option} {path}: directory {directory} is not writable")


def _save_model(model, path: str) -> None:
    from nn import save

    save(model, path)
    print(f"   wrote {path}")


def _plot(model, X, y, loss: str, path: str, title: str) -> None:
    from nn.plot import plot_decision_boundary

    # A one-output model trained with mse separates its two targets at their midpoint.
    threshold = (min(y) + max(y)) / 2 if loss == "mse" else 0.0
    plot_decision_boundary(model, X, y, path, threshold=threshold, title=title)
    print(f"   wrote {path}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with `argv` (default: sys.argv[1:]); return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.handler(args)
    except (ValueError, OSError, RuntimeError, ImportError) as error:
        parser.error(str(error) or type(error).__name__)
    return 0


def _positive_float(text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (0 < number < math.inf):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return number


def _positive_int(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return number


if __name__ == "__main__":
    sys.exit(main())
