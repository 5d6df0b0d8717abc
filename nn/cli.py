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

from autograd import __version__

PROG = "scalargrad"
DATASETS = ("moons", "circles", "spirals", "xor")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
SAMPLES = 100  # generated data sets have this many points, noise 0.1, seeded by --seed
MAX_PARAMETERS = 100_000  # train refuses bigger models: a step would take minutes
EXPLAIN_MAX_PATHS = 100  # graph --explain prints one line per path
# Without --loss, the first of these that accepts the labels.
AUTOMATIC_LOSSES = ("hinge", "cross_entropy", "mse")
# `scalargrad demo`'s training run: fit's documented moons settings, run a little longer.
DEMO_DATA = {"n": 100, "noise": 0.1, "seed": 0}
DEMO_TRAINING = {"hidden": [16, 16], "lr": 0.05, "epochs": 40, "batch_size": 20, "seed": 0}


class ArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, `scalargrad: error: ...`, exit status 2.

    It also keeps its options by name (`options`) and its subcommands (`subcommands`), so that
    `main` can find an expression among a subcommand's arguments.
    """

    def __init__(self, *arguments, **keywords):
        self.options: dict[str, argparse.Action] = {}
        self.subcommands: dict[str, ArgumentParser] = {}
        super().__init__(*arguments, **keywords)

    def add_argument(self, *arguments, **keywords) -> argparse.Action:
        """As argparse's, and remember the option strings of the new argument."""
        action = super().add_argument(*arguments, **keywords)
        self.options.update(dict.fromkeys(action.option_strings, action))
        return action

    def error(self, message: str) -> NoReturn:
        """Print `message` as one line (no usage block) and exit with status 2."""
        self.exit(2, f"{PROG}: error: {' '.join(message.split())}\n")


def build_parser() -> ArgumentParser:
    """The parser for every subcommand; each sets `handler`, a function of the parsed args."""
    parser = ArgumentParser(
        prog=PROG, description="scalargrad: a scalar reverse-mode autodiff engine."
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_demo_parser(commands)
    add_train_parser(commands)
    add_graph_parser(commands)
    parser.subcommands = commands.choices
    return parser


def add_demo_parser(commands) -> None:
    """`scalargrad demo [--out DIR]`."""
    demo = commands.add_parser(
        "demo",
        help="the whole story in under a minute: backprop by hand, a graph, a trained MLP",
        description="Check backprop on a 2-2-1 network against hand-derived gradients, draw its "
        "graph, train an MLP on moons and plot its decision boundary.",
    )
    demo.add_argument("--out", default="out", metavar="DIR", help="output directory (out)")
    demo.set_defaults(handler=run_demo)


def add_train_parser(commands) -> None:
    """`scalargrad train`: the data, the model, the loss and optimizer, and what to write."""
    from nn.layers import ACTIVATIONS
    from nn.losses import LOSSES

    train = commands.add_parser(
        "train",
        help="train an MLP classifier on a toy data set or a CSV file",
        description="Train an MLP on a generated data set or FILE.csv (numeric columns, the "
        "last one the label, an optional header row) and print its final loss and accuracy; "
        "--save writes the model as JSON, --plot its decision boundary.",
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
        default=None,
        help="; ".join(f"{name} takes {loss.labels}" for name, loss in LOSSES.items())
        + f" (default: the first of {', '.join(AUTOMATIC_LOSSES)} that takes the labels)",
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
        "--save",
        metavar="FILE",
        help="write the trained model to FILE as JSON (default: the model is not saved)",
    )
    train.add_argument(
        "--plot",
        metavar="FILE.png",
        help="also plot the decision boundary (2-D data only; .png, .svg, .pdf, ...)",
    )
    train.add_argument(
        "--compiled", action="store_true", help="train through autograd.compile (faster)"
    )
    train.set_defaults(handler=run_train)


def add_graph_parser(commands) -> None:
    """`scalargrad graph EXPR --set NAME=NUMBER ... -o FILE`."""
    from autograd.draw import DEFAULT_MAX_NODES, RANKDIRS
    from autograd.ops import FUNCTIONS

    graph = commands.add_parser(
        "graph",
        help="draw the graph of an expression, with data and gradients, as SVG or PNG",
        description="Parse EXPR (numbers, names, + - * / **, unary -, parentheses and the "
        f"functions {' '.join(FUNCTIONS)}, as tanh(x) "
        "or (x).tanh()), build its graph, run backward and render it to SVG or PNG.",
        epilog='EXPR may come anywhere, even after --set, and may start with "-": '
        'scalargrad graph --set x=2 "-x*x"',
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
    graph.add_argument(
        "--html",
        type=_html_path,
        metavar="FILE.html",
        help="also write the step-by-step player of the backward pass",
    )
    graph.add_argument(
        "--explain",
        metavar="NAME",
        help="print dROOT/dNAME as a sum over paths of products of local derivatives",
    )
    graph.set_defaults(handler=run_graph)


def expression_first(arguments: list[str], command: ArgumentParser) -> list[str]:
    """A subcommand's arguments with its one positional (EXPR) moved first, shielded from options.

    argparse reads "-x*x" as an unknown option and lets `--set x=2 "x*x"` swallow the
    expression. The first argument that is neither an option nor an option's value is the
    expression; it goes first, and one that starts with "-" gets a leading space, which
    argparse leaves alone and the expression parser ignores. After "--" nothing is moved.
    """
    index = 0
    while index < len(arguments) and arguments[index] != "--":
        argument = arguments[index]
        name = argument.split("=", 1)[0]
        action = _option_named(command, name)
        attached = argument != name  # --max-nodes=5
        if action is None and not argument.startswith("--"):
            action, attached = command.options.get(argument[:2]), True  # -oout.svg
        if argument.startswith("--") and action is None:
            index += 1  # an unknown --option, for argparse to report
            continue
        if not argument.startswith("-") or action is None:
            rest = arguments[:index] + arguments[index + 1 :]
            return [" " + argument if argument.startswith("-") else argument, *rest]
        index += 1
        if attached or action.nargs in (0, "?"):
            continue  # a flag, or an option with its value attached
        if action.nargs in ("+", "*"):  # --set: items are NAME=NUMBER, an expression has no "="
            while index < len(arguments) and "=" in arguments[index]:
                index += 1
        else:
            index += action.nargs if isinstance(action.nargs, int) else 1
    return arguments


def _option_named(command: ArgumentParser, name: str) -> argparse.Action | None:
    """The option `name`, or the one long option it abbreviates (argparse reads --se as --set)."""
    if name in command.options:
        return command.options[name]
    if not name.startswith("--"):
        return None
    found = {action for option, action in command.options.items() if option.startswith(name)}
    return found.pop() if len(found) == 1 else None


def run_graph(args: argparse.Namespace) -> None:
    """`scalargrad graph`: parse, build, backward, render; print the value and gradients."""
    from autograd import explain, step_through, to_dot, topological_order
    from autograd.draw import GraphTooLarge, write_picture
    from autograd.explain import count_paths
    from autograd.expression import build_graph, parse_assignments

    variables = parse_assignments(args.set)
    if args.explain is not None and args.explain not in variables:
        known = ", ".join(sorted(variables)) or "none set"
        raise ValueError(f"--explain {args.explain}: not an input; the inputs are {known}")
    if args.html is not None:
        _check_writable("--html", args.html)
    root = build_graph(args.expression, variables)
    order = topological_order(root)
    leaves = sorted(
        (node for node in order if not node.op and node.label in variables),
        key=lambda leaf: leaf.label,
    )
    named = {leaf.label: leaf for leaf in leaves}
    if args.highlight is not None and args.highlight not in named:
        raise ValueError(
            f"--highlight {args.highlight}: not an input of EXPR; choose one of "
            f"{', '.join(sorted(named))}"
        )
    explanation = None
    if args.explain is not None:  # before the (slow) layout, so that too many paths fail fast
        wrt = named[args.explain]
        paths = count_paths(root, wrt)
        if paths > EXPLAIN_MAX_PATHS:
            raise ValueError(
                f"--explain {args.explain}: {paths} paths lead from {args.explain} to the "
                f"result, more than the {EXPLAIN_MAX_PATHS} it prints; step through the backward "
                "pass with --html FILE.html instead"
            )
        explanation = explain(root, wrt, max_paths=EXPLAIN_MAX_PATHS)
    root.backward()
    try:  # refuses a picture over --max-nodes before any layout
        source = to_dot(
            root,
            rankdir=args.rankdir,
            max_nodes=args.max_nodes,
            collapse=args.collapse,
            highlight=named.get(args.highlight),
            edge_labels=args.edge_labels,
        )
    except GraphTooLarge as error:
        raise ValueError(error.advice("--max-nodes", "--collapse K")) from None
    with _signals_end_cleanly():
        path = write_picture(source, args.output, os.path.splitext(args.output)[1][1:].lower())
    print(f"{root.label} = {root.data:.6g}")
    for leaf in leaves:
        print(f"  d/d{leaf.label} = {leaf.grad:.6g}")
    print(f"wrote {path} ({len(order)} value{'' if len(order) == 1 else 's'})")
    if explanation is not None:
        print(explanation)
    if args.html is not None:
        player = step_through(root, max_nodes=args.max_nodes)
        print(f"wrote {player.save(args.html)} (the backward pass, step by step)")


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


def _html_path(text: str) -> str:
    # a page saved without .html opens as text, or not at all, when a user double-clicks it
    if os.path.splitext(text)[1].lower() not in (".html", ".htm"):
        raise argparse.ArgumentTypeError(f"{text!r} must end in .html")
    return text


def run_train(args: argparse.Namespace) -> None:
    """`scalargrad train`: load data, check every setting, fit, report, save, plot."""
    from nn import MLP
    from nn.losses import LOSSES

    X, y = load_data(args.data, args.seed)
    loss, chosen = choose_loss(args.loss, y)
    check_outputs(args, X)
    widths = [len(X[0]), *args.hidden, LOSSES[loss].outputs(set(y))]
    _check_model_size(widths)
    model = MLP(widths[0], widths[1:], activation=args.activation, seed=args.seed)
    optimizer = make_optimizer(args.optimizer, model.parameters(), args.lr)
    print(f"training {_describe(model, args.data, len(X), loss, args.optimizer, args.lr)}")
    if chosen:
        print(f"   {chosen}")
    train_and_report(model, X, y, loss, optimizer, args.epochs, args.batch_size, args.compiled)
    if args.save is not None:
        _save_model(model, args.save)
    else:
        print("   the model is not saved: add --save FILE to keep it")
    if args.plot is not None:
        title = f"{_architecture(model)} on {os.path.basename(args.data)}"
        _plot(model, X, y, loss, args.plot, title=title)


def choose_loss(name: str | None, y: list) -> tuple[str, str]:
    """The loss to train with, and a line saying why if it was chosen from the labels.

    Without --loss: hinge for two classes, cross_entropy for class indices 0..K-1, else mse.
    ValueError, before any training, if the labels do not suit the named loss.
    """
    from nn.losses import LOSSES

    labels = set(y)
    shown = sorted(labels)[:6] + (["..."] if len(labels) > 6 else [])
    fitting = next(loss for loss in AUTOMATIC_LOSSES if LOSSES[loss].accepts(labels))
    if name is None:
        return fitting, f"loss {fitting}, chosen for labels {shown}; --loss picks another"
    if not LOSSES[name].accepts(labels):
        raise ValueError(
            f"--loss {name} needs {LOSSES[name].labels}; the data has labels {shown}: "
            f"use --loss {fitting}"
        )
    return name, ""


def check_outputs(args: argparse.Namespace, X: list) -> None:
    """Refuse, before any training, a --save or --plot that could not be written, or that
    names the same file as the other, or as the --data file (it would be overwritten)."""
    outputs = [("--save", args.save), ("--plot", args.plot)]
    for option, path in outputs:
        if path is not None:
            _check_writable(option, path)
    read_from_file = args.data not in DATASETS  # as load_data decides
    named = [("--data", args.data), *outputs] if read_from_file else outputs
    for index, (option, path) in enumerate(named):
        for other, other_path in named[index + 1 :]:
            if path is not None and other_path is not None and _same_file(path, other_path):
                raise ValueError(
                    f"{option} and {other} name the same file {path}: name two different files"
                )
    if args.plot is not None:
        _check_plottable(args.plot, X, args.data)


def run_demo(args: argparse.Namespace) -> None:
    """`scalargrad demo`: backprop checked by hand, its graph, then an MLP trained on moons."""
    from autograd import explain, render_svg, step_through, topological_order
    from nn import MLP
    from nn.data import make_moons
    from nn.optim import Adam

    started = time.perf_counter()
    paths = _demo_paths(
        args.out, ("graph.svg", "steps.html", "decision_boundary.png", "model.json")
    )
    print("1. Backprop on the 2-2-1 network h = W1 x + b1, y = w3 . h + b3, L = (y - t)**2 / 2")
    params, loss = check_backprop_by_hand()
    render_svg(loss, paths["graph.svg"], rankdir="TB")
    print(f"2. wrote {paths['graph.svg']} ({len(topological_order(loss))} values)")
    step_through(loss).save(paths["steps.html"])
    print(f"   wrote {paths['steps.html']}: step through the backward pass in a browser")
    print(f"   one gradient as the chain rule: {explain(loss, params['w11'])}")

    settings = DEMO_TRAINING
    X, y = make_moons(**DEMO_DATA)
    model = MLP(2, [*settings["hidden"], 1], seed=settings["seed"])
    optimizer = Adam(model.parameters(), lr=settings["lr"])
    print(f"3. Training {_describe(model, 'moons', len(X), 'hinge', 'adam', settings['lr'])}")
    _, accuracy = train_and_report(
        model, X, y, "hinge", optimizer, settings["epochs"], settings["batch_size"]
    )

    print("4. The decision boundary and the model")
    title = f"{_architecture(model)} on moons: accuracy {accuracy:.0%}"
    _plot(model, X, y, "hinge", paths["decision_boundary.png"], title=title)
    _save_model(model, paths["model.json"])
    print(
        f"Done in {time.perf_counter() - started:.1f} s: see {paths['graph.svg']}, "
        f"{paths['steps.html']} and {paths['decision_boundary.png']}"
    )


def _demo_paths(out: str, names: Sequence[str]) -> dict[str, str]:
    """The demo's output files in `out` (created), each checked writable before any work."""
    if not out:
        raise ValueError("--out needs a directory name, got ''")
    if os.path.exists(out) and not os.path.isdir(out):
        raise NotADirectoryError(f"--out {out} is a file; name a directory for the results")
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as error:  # a file on the way, a read-only parent, ...
        raise OSError(f"--out {out}: cannot make the directory: {error.strerror}") from None
    paths = {name: os.path.join(out, name) for name in names}
    for path in paths.values():
        _check_writable(f"--out {out}:", path)
    return paths


def check_backprop_by_hand():
    """Print the seed network's gradients beside the hand-derived ones; return (params, loss).

    RuntimeError if any differs (beyond rounding).
    """
    from nn.seed_example import FORMULAS, START, build_seed_network, hand_gradients

    params, loss = build_seed_network()
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
    return params, loss


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

    The first row is a header if one of its fields is not a number at all ("nan" is a number,
    refused as data); a UTF-8 byte order mark is skipped. Integral labels become ints (class
    indices); a malformed row is a ValueError naming its line.
    """
    X, y = [], []
    width = None
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            reader = csv.reader(file)
            for row in reader:
                if not row or all(not field.strip() for field in row):
                    continue  # blank lines
                where = f"{path} line {reader.line_num}"
                numbers = _floats_of(row)
                if width is None:
                    width = len(row)  # set by the header row, if any, or the first data row
                    if width < 2:
                        raise ValueError(
                            f"{where}: need at least 2 columns (features, then the label)"
                        )
                    if numbers is None:
                        continue  # the header
                if numbers is None or not all(map(math.isfinite, numbers)):
                    raise ValueError(
                        f"{where}: expected finite numbers, got {','.join(row)[:60]!r}"
                    )
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
    """`nn.fit` with a progress bar, then print and return the trained model's loss and accuracy.

    The bar shows each epoch's means while the weights moved; the final line is the trained
    model on every sample, and says so. The accuracy is nan (and not printed) for targets that
    are not classes.
    """
    from autograd import no_grad
    from nn import fit
    from nn.train import batch_loss, classes_of, count_correct, targets_for

    sys.stdout.flush()  # our lines before the bar, which goes to stderr
    fit(model, X, y, loss, optimizer, epochs=epochs, batch_size=batch_size, compiled=compiled)
    targets = targets_for(loss, y)
    with no_grad():
        value, outputs = batch_loss(model, X, targets, loss)
    classes = classes_of(targets)
    if classes is None:
        print(
            f"   final loss {value.data:.6f} ({len(X)} samples) of the trained model; no "
            "accuracy: the targets are real numbers, not classes"
        )
        return value.data, math.nan
    accuracy = count_correct(outputs, targets, loss, classes) / len(X)
    print(
        f"   final loss {value.data:.6f}, accuracy {accuracy:.1%} ({len(X)} samples) of the "
        "trained model; the bar showed epoch means"
    )
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


def _floats_of(row: list[str]) -> list[float] | None:
    """The fields of a CSV row as floats (nan and inf included), or None if one is not a number."""
    try:
        return [float(field) for field in row]
    except ValueError:
        return None


def _check_writable(option: str, path: str) -> None:
    """Fail before training if `path` cannot be written, rather than after it."""
    if not path:
        raise ValueError(f"{option} needs a file name, got ''")
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(f"{option} {path} is a directory; name a file in it")
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"{option} {path}: directory {directory} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise PermissionError(f"{option} {path}: directory {directory} is not writable")


def _same_file(a: str, b: str) -> bool:
    """True if paths a and b are one file (through links too), whether or not it exists yet."""
    if os.path.exists(a) and os.path.exists(b):
        return os.path.samefile(a, b)
    return os.path.realpath(a) == os.path.realpath(b)


def _check_plottable(path: str, X: list, data: str) -> None:
    """Fail before training if the decision boundary of X could not be drawn to `path`."""
    if len(X[0]) != 2:
        raise ValueError(
            f"--plot draws 2-D data only; {data} has {len(X[0])} features: drop --plot"
        )
    try:
        from matplotlib.backend_bases import FigureCanvasBase
    except ImportError:
        raise ImportError("--plot needs matplotlib: pip install matplotlib") from None
    formats = FigureCanvasBase.get_supported_filetypes()
    extension = os.path.splitext(path)[1].lower().lstrip(".")
    if extension not in formats:
        raise ValueError(
            f"--plot {path}: name the picture format by its extension, one of "
            f"{', '.join('.' + name for name in sorted(formats))}"
        )
    for column in (0, 1):
        low, high = min(x[column] for x in X), max(x[column] for x in X)
        margin = 0.1 * (high - low)  # the plot's margin around the data
        if not (math.isfinite(low - margin) and math.isfinite(high + margin)):
            raise ValueError(
                f"--plot cannot draw feature {column} of {data}: it spans {low:g} to {high:g}, "
                "too wide for floats; rescale the data or drop --plot"
            )


def _check_model_size(widths: list[int]) -> None:
    """Refuse, before building it, an MLP too big for a scalar engine to train."""
    parameters = sum(
        (fan_in + 1) * fan_out for fan_in, fan_out in zip(widths[:-1], widths[1:], strict=True)
    )
    if parameters > MAX_PARAMETERS:
        raise ValueError(
            f"an MLP {'-'.join(map(str, widths))} has {parameters:,} parameters, more than "
            f"{MAX_PARAMETERS:,} (each a Python object, each sample a graph of them): "
            "choose smaller --hidden layers"
        )


def _save_model(model, path: str) -> None:
    from nn import save

    replaced = os.path.exists(path)
    save(model, path)
    print(f"   wrote {path}{' (replacing the file that was there)' if replaced else ''}")


def _plot(model, X, y, loss: str, path: str, title: str) -> None:
    from nn.losses import LOSSES
    from nn.plot import plot_decision_boundary

    threshold = LOSSES[loss].threshold(set(y))
    plot_decision_boundary(model, X, y, path, threshold=threshold, title=title)
    print(f"   wrote {path}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with `argv` (default: sys.argv[1:]); return the exit status."""
    parser = build_parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments:  # a bare `scalargrad`: what it can do, as an error (like a missing command)
        sys.stderr.write(parser.format_help())
        return 2
    if arguments[:1] == ["graph"]:
        arguments[1:] = expression_first(arguments[1:], parser.subcommands["graph"])
    args = parser.parse_args(arguments)
    try:
        args.handler(args)
    except (ValueError, OSError, RuntimeError, ImportError) as error:
        parser.error(str(error) or type(error).__name__)
    return 0


def _positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    try:
        number = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (0 < number < math.inf):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return number


def _positive_int(text: str) -> int:
    """argparse type: an int >= 1."""
    from autograd.files import positive_int

    try:
        return positive_int(int(text), "N")
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None


if __name__ == "__main__":
    sys.exit(main())
