"""The `symbackprop` command line: grad, explain, source, graph, diff, check and minimize.

EXPR is the formula text, `-` to read it from standard input, or `@path` to read a file.  Bad
input prints our caret message and exits with status 2, never a Python traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from .errors import SymbackpropError
from .optim import OPTIMIZERS
from .pipeline import compile as compile_text

EXAMPLE = 'symbackprop grad "1/(1+exp(-(w0*x0+w1*x1+w2)))" --at w0=2,x0=-1,w1=-3,x1=-2,w2=-3'
STAGED_EXAMPLE = "symbackprop grad 'q = x + y; f = q * z; f' --at x=-2,y=5,z=-4"
MINIMIZE_EXAMPLE = (
    "symbackprop minimize '(1-x)**2 + 100*(y-x**2)**2' --at x=-1.2,y=1 "
    "--optimizer adam --lr 0.1 --steps 500"
)


class UsageError(Exception):
    """A command-line argument that is not what the command expects."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad input)."""
    parser = _parser()
    arguments = parser.parse_args(argv)
    try:
        status = int(arguments.run(arguments))
        sys.stdout.flush()  # so that a closed pipe shows here, not in Python's flush at exit
        return status
    except (SymbackpropError, UsageError, TypeError) as error:
        print(f"symbackprop: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader stopped early (`| head`): nothing more to say.  Python's own flush of
        # stdout at exit would fail again, so stdout now goes nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="symbackprop",
        description="Compile a formula into its value and gradient by backpropagation.",
        epilog=f"example:\n  {EXAMPLE}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    grad = commands.add_parser(
        "grad",
        help="print the value and the gradients at a point",
        description="Print the formula's value and its gradient with respect to each input.",
        epilog=f"examples:\n  {EXAMPLE}\n  {STAGED_EXAMPLE}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    grad.add_argument("expr", metavar="EXPR", help="the formula, '-' for stdin, or @FILE")
    grad.add_argument(
        "--at", required=True, metavar="NAME=VALUE,...", help="the point: a value for each input"
    )
    grad.add_argument("--wrt", metavar="NAME,...", help="only these inputs' gradients")
    grad.add_argument("--json", action="store_true", help="print JSON with full precision")
    grad.set_defaults(run=_grad)

    check = commands.add_parser(
        "check",
        help="compare the gradient with SymPy and finite differences",
        description=(
            "Compare the compiled gradient with SymPy's derivatives and with centered finite "
            "differences at random points inside the formula's domain.  Exit status: 0 when "
            "every relative error is within the tolerance, 1 when one is not, 2 on bad input."
        ),
        epilog="example:\n  symbackprop check 'log(1 + exp(x)) * y' --points 50",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("expr", metavar="EXPR", help="the formula, '-' for stdin, or @FILE")
    check.add_argument("--points", type=int, default=20, help="how many points (default 20)")
    check.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    check.add_argument("--wrt", metavar="NAME,...", help="only these inputs' gradients")
    check.add_argument(
        "--tolerance", type=float, default=1e-5, help="largest relative error (default 1e-5)"
    )
    check.add_argument(
        "--no-sympy", action="store_true", help="skip SymPy (for large formulas): differences only"
    )
    check.set_defaults(run=_check)

    explain = commands.add_parser(
        "explain",
        help="the derivation, step by step: forward pass, then the chain rule edge by edge",
        description=(
            "Show the forward pass gate by gate and the backward pass edge by edge, as the "
            "lecture writes it: upstream gradient × local gradient = gradient."
        ),
        epilog="examples:\n  symbackprop explain '(x + y) * z' --at x=-2,y=5,z=-4\n"
        "  symbackprop explain @neuron.txt --at w0=2,x0=-1,w1=-3,x1=-2,w2=-3 --format markdown",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_program_arguments(explain)
    explain.add_argument(
        "--format",
        choices=("text", "markdown", "latex", "json"),
        default="text",
        help="output format (default text: coloured on a terminal unless NO_COLOR is set)",
    )
    explain.set_defaults(run=_explain)

    source = commands.add_parser(
        "source",
        help="print the generated Python module",
        description="Print the generated Python module: forward pass, then backward pass.",
        epilog="example:\n  symbackprop source 'q = x + y; f = q * z; f' --mode array > grad.py",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source.add_argument("expr", metavar="EXPR", help="the formula, '-' for stdin, or @FILE")
    source.add_argument("--wrt", metavar="NAME,...", help="only these inputs' gradients")
    source.add_argument(
        "--mode",
        choices=("float", "array"),
        help="math floats or NumPy arrays (default: float, or array for array operations)",
    )
    source.add_argument(
        "--shapes",
        metavar="NAME=DIMS,...",
        help="the inputs' shapes for array code, as W=3x4,x=4 (empty for a number: b=)",
    )
    source.add_argument("--no-rewrite", action="store_true", help="compile exactly as written")
    source.set_defaults(run=_source)

    graph = commands.add_parser(
        "graph",
        help="draw the computational graph with values and gradients (Graphviz)",
        description=(
            "The circuit as the lecture draws it: inputs and gates left to right, each edge "
            "labelled with its forward value above and its gradient below.  DOT text goes to "
            "standard output or to a .dot file; .svg and .png files need Graphviz's dot program."
        ),
        epilog="example:\n  symbackprop graph '(x + y) * z' --at x=-2,y=5,z=-4 -o circuit.svg",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_program_arguments(graph)
    graph.add_argument("-o", "--output", metavar="FILE", help="write FILE (.dot, .svg or .png)")
    graph.set_defaults(run=_graph)

    diff = commands.add_parser(
        "diff",
        help="the symbolic partial derivatives, from SymPy",
        description="Print each partial derivative of the formula, simplified by SymPy when small.",
        epilog="example:\n  symbackprop diff 'x * sin(x * y)' --format latex",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    diff.add_argument("expr", metavar="EXPR", help="the formula, '-' for stdin, or @FILE")
    diff.add_argument("--wrt", metavar="NAME,...", help="only these inputs")
    diff.add_argument("--format", choices=("text", "latex"), default="text")
    diff.set_defaults(run=_diff)

    minimize = commands.add_parser(
        "minimize",
        help="minimize the formula by gradient descent from a starting point",
        description=(
            "Minimize the formula with one of symbackprop.optim's optimizers, starting at the "
            "point --at: print the loss every so many steps, then the point found and the value "
            "there.  Float mode: every input is a number.  A loss that becomes NaN or infinite "
            "is an error (exit status 2): lower --lr."
        ),
        epilog=f"example:\n  {MINIMIZE_EXAMPLE}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    minimize.add_argument("expr", metavar="EXPR", help="the formula, '-' for stdin, or @FILE")
    minimize.add_argument(
        "--at", required=True, metavar="NAME=VALUE,...", help="the starting point"
    )
    minimize.add_argument(
        "--wrt", metavar="NAME,...", help="minimize over these inputs; the others stay fixed"
    )
    minimize.add_argument(
        "--optimizer", choices=tuple(OPTIMIZERS), default="adam", help="(default adam)"
    )
    minimize.add_argument(
        "--lr", type=float, default=0.01, help="the learning rate, or step size (default 0.01)"
    )
    minimize.add_argument(
        "--steps", type=int, default=1000, help="the largest number of updates (default 1000)"
    )
    minimize.add_argument(
        "--tol", type=float, help="stop when an update changes the loss by less than this"
    )
    minimize.add_argument(
        "--every",
        type=int,
        metavar="N",
        help="print the loss every N steps (default: a tenth of --steps; 0: never)",
    )
    minimize.set_defaults(run=_minimize)
    return parser


def _add_program_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("expr", metavar="EXPR", help="the formula, '-' for stdin, or @FILE")
    command.add_argument(
        "--at", required=True, metavar="NAME=VALUE,...", help="the point: a value for each input"
    )
    command.add_argument(
        "--no-rewrite",
        action="store_true",
        help="keep naive formulas gate by gate, as written (the lecture's sigmoid circuit)",
    )


def _explain(arguments: argparse.Namespace) -> int:
    from .explain import explain

    text = read_expression(arguments.expr)
    derivation = explain(text, rewrite=not arguments.no_rewrite, **parse_point(arguments.at))
    if arguments.format == "markdown":
        print(derivation.to_markdown())
    elif arguments.format == "latex":
        print(derivation.to_latex())
    elif arguments.format == "json":
        print(derivation.to_json())
    else:
        print(derivation.to_text(color=_use_color()))
    return 0


def _source(arguments: argparse.Namespace) -> int:
    wrt = _names(arguments.wrt) if arguments.wrt else None
    function = compile_text(
        read_expression(arguments.expr), wrt=wrt, rewrite=not arguments.no_rewrite
    )
    shapes = parse_shapes(arguments.shapes, function.inputs) if arguments.shapes else None
    if shapes is not None and arguments.mode == "float":
        raise UsageError("--shapes is for array code: drop --mode float, or --shapes")
    if arguments.mode is None and shapes is None:
        print(function.source, end="")
    else:
        print(function.source_for(arguments.mode or "array", shapes), end="")
    return 0


def _graph(arguments: argparse.Namespace) -> int:
    from .explain import explain

    text = read_expression(arguments.expr)
    derivation = explain(text, rewrite=not arguments.no_rewrite, **parse_point(arguments.at))
    dot = derivation.to_dot() + "\n"
    if arguments.output is None:
        print(dot, end="")
        return 0
    path = Path(arguments.output)
    suffix = path.suffix.lower()
    if suffix not in (".dot", ".gv", ".svg", ".png"):
        raise UsageError(f"-o {path}: the file must end in .dot, .svg or .png")
    if suffix in (".dot", ".gv"):
        try:
            path.write_text(dot, encoding="utf-8")
        except OSError as error:  # a missing directory, no permission: a usage error, no traceback
            raise UsageError(f"cannot write {path}: {error.strerror}") from None
        return 0
    program = shutil.which("dot")
    if program is None:
        raise UsageError(
            f"writing {suffix[1:].upper()} needs Graphviz's 'dot' program, which is not installed: "
            "install the graphviz package (for example 'apt-get install graphviz'), or write "
            "a .dot file instead"
        )
    result = subprocess.run(
        [program, f"-T{suffix[1:]}", "-o", str(path)],
        input=dot,
        text=True,
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        raise UsageError(f"Graphviz failed: {result.stderr.strip()}")
    return 0


def _diff(arguments: argparse.Namespace) -> int:
    import sympy as sp

    from .parse import parse
    from .symbolic import symbolic_gradient, within_sympy

    wrt = _names(arguments.wrt) if arguments.wrt else None
    program = parse(read_expression(arguments.expr))
    derivatives = symbolic_gradient(program, wrt=wrt)
    for name, derivative in derivatives.items():
        if arguments.format == "latex":
            symbol = sp.latex(sp.Symbol(name))
            with within_sympy(program):  # printing recurses over the expression too
                latex = sp.latex(derivative)
            print(rf"\frac{{\partial f}}{{\partial {symbol}}} = {latex}")
            continue
        with within_sympy(program):
            picture = sp.pretty(derivative, use_unicode=True)
        label = f"∂f/∂{name} = "
        if "\n" not in picture:
            print(label + picture)
        else:
            print(label.rstrip() + "\n" + picture + "\n")
    return 0


def _use_color() -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _check(arguments: argparse.Namespace) -> int:
    from .check import check

    if arguments.points < 1:
        raise UsageError("--points must be at least 1")
    report = check(
        read_expression(arguments.expr),
        points=arguments.points,
        seed=arguments.seed,
        wrt=_names(arguments.wrt) if arguments.wrt else None,
        tolerance=arguments.tolerance,
        sympy=not arguments.no_sympy,
    )
    print(report)
    return 0 if report.passed else 1


def _grad(arguments: argparse.Namespace) -> int:
    text = read_expression(arguments.expr)
    wrt = _names(arguments.wrt) if arguments.wrt else None
    function = compile_text(text, wrt=wrt)
    point = parse_point(arguments.at)
    value, gradients = function(**point)
    if arguments.json:
        document = {
            "value": _json_number(value),
            "gradient": {name: _json_number(gradient) for name, gradient in gradients.items()},
        }
        print(json.dumps(document))
        return 0
    width = max([len(name) for name in gradients] + [1])
    print(f"value = {_number(value)}")
    for name, gradient in gradients.items():
        print(f"∂/∂{name:<{width}} = {_number(gradient)}")
    return 0


def _minimize(arguments: argparse.Namespace) -> int:
    from .training import minimize

    text = read_expression(arguments.expr)
    point = parse_point(arguments.at)
    if arguments.steps < 0:
        raise UsageError("--steps must be at least 0")
    every = max(1, arguments.steps // 10) if arguments.every is None else arguments.every
    if every < 0:
        raise UsageError("--every must be at least 0")
    if arguments.tol is not None and not arguments.tol > 0:  # before the first line is printed
        raise UsageError("--tol must be positive")
    inputs = compile_text(text).inputs
    names = _names(arguments.wrt) if arguments.wrt else list(inputs)
    for name in names:
        if name not in inputs:
            raise UsageError(
                f"--wrt: {name!r} is not an input; the inputs are {', '.join(inputs) or 'none'}"
            )
    missing = [name for name in names if name not in point]
    if missing:
        raise UsageError(f"--at gives no starting value for {', '.join(missing)}")
    params = {name: point[name] for name in names}
    data = {name: value for name, value in point.items() if name not in params}
    optimizer = OPTIMIZERS[arguments.optimizer](lr=arguments.lr)
    width = len(str(arguments.steps))

    def show(step: int, loss: float, values: dict[str, float]) -> None:
        where = ", ".join(f"{name}={_number(value)}" for name, value in values.items())
        print(f"step {step:>{width}}  loss {_number(loss)}  at {where}")

    def report(step: int, loss: float, values: dict[str, float]) -> None:
        if every and step % every == 0:
            show(step, loss, values)

    if every:
        show(0, compile_text(text).value(**point), params)
    result = minimize(
        text,
        params=params,
        data=data,
        optimizer=optimizer,
        steps=arguments.steps,
        callback=report,
        tol=arguments.tol,
        progress=False,
    )
    if every and result.steps % every:
        show(result.steps, result.loss, result.params)
    how = f"{result.steps} steps of {arguments.optimizer} (lr={arguments.lr:g})"
    if result.converged:
        print(f"converged after {how}: the loss changed by less than {arguments.tol:g}")
    else:
        print(f"after {how}:")
    width = max(len(name) for name in ["value", *result.params])
    print(f"{'value':<{width}} = {_number(result.loss)}")
    for name, value in result.params.items():
        print(f"{name:<{width}} = {_number(value)}")
    return 0


def read_expression(argument: str) -> str:
    """The formula text from an argument: itself, '-' for standard input, '@path' for a file."""
    if argument == "-":
        try:
            return sys.stdin.read()
        except UnicodeDecodeError:
            raise UsageError("standard input is not UTF-8 text") from None
    if argument.startswith("@"):
        path = Path(argument[1:])
        try:
            return path.read_text(encoding="utf-8-sig")
        except OSError as error:
            raise UsageError(f"cannot read {path}: {error.strerror}") from None
        except UnicodeDecodeError:
            raise UsageError(f"cannot read {path}: it is not UTF-8 text") from None
    return argument


def parse_point(text: str) -> dict[str, float]:
    """`"x=-2,y=5"` → `{"x": -2.0, "y": 5.0}`."""
    point: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, equals, number = item.partition("=")
        name = name.strip()
        if not equals or not name:
            raise UsageError(f"--at expects NAME=VALUE pairs separated by commas, got {item!r}")
        if name in point:
            raise UsageError(f"--at gives {name} twice")
        try:
            point[name] = float(number)
        except ValueError:
            raise UsageError(f"--at: {name} = {number.strip()!r} is not a number") from None
    return point


def parse_shapes(text: str, inputs: tuple[str, ...]) -> dict[str, tuple[int, ...]]:
    """`"W=3x4,x=4,b="` → `{"W": (3, 4), "x": (4,), "b": ()}`; inputs not named are numbers."""
    shapes: dict[str, tuple[int, ...]] = dict.fromkeys(inputs, ())
    given: set[str] = set()
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, equals, dims = (part.strip() for part in item.partition("="))
        if not equals or not name:
            raise UsageError(f"--shapes expects NAME=DIMS pairs such as W=3x4, got {item!r}")
        if name not in shapes:
            raise UsageError(f"--shapes names {name!r}, which is not an input")
        if name in given:
            raise UsageError(f"--shapes gives {name} twice")
        given.add(name)
        try:
            shape = tuple(int(size) for size in dims.split("x")) if dims else ()
        except ValueError:
            raise UsageError(f"--shapes: {name} = {dims!r} is not sizes such as 3x4") from None
        if any(size < 0 for size in shape):
            raise UsageError(f"--shapes: {name} has a negative size")
        shapes[name] = shape
    return shapes


def _json_number(value: float) -> float | str:
    """A float for JSON; inf and NaN, which JSON lacks, as the strings "Infinity", "NaN"."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _number(value: float) -> str:
    """Short but exact enough to read: 6 significant digits, integers without '.0'."""
    if (
        isinstance(value, float)
        and math.isfinite(value)
        and value == int(value)
        and abs(value) < 1e15
    ):
        return str(int(value))
    return f"{value:.6g}"


if __name__ == "__main__":
    sys.exit(main())
