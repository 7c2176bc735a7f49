"""Hypothesis strategies for symbackprop programs, with an independent SymPy reference.

`programs()` draws a random program over the whole language — every operator, every callable
function of the registry (by NumPy's names too: `arcsin` ...), the constants, numeric literals in
every Python spelling, let-bindings with fan-out, comments, both separators, redundant
parentheses and odd whitespace — and builds, in parallel with the text, a tree of `Node`s
carrying the SymPy expression of every sub-expression.
The SymPy side is written here from the mathematics (`1/(1 + exp(-t))` for sigmoid ...), never
from the program text and never with `symbackprop.to_sympy`, so it is a reference independent of
the code under test.

The token-level strategies (`token_soups`, `truncations`, `mutations`) feed the fuzz properties.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import mpmath
import sympy as sp
from hypothesis import strategies as st

from symbackprop.gates import CONSTANTS, FUNCTIONS, RESERVED

# ---------------------------------------------------------------------------------------------
# The language, as the tests see it.

# Python's precedence levels, as in the grammar: `**` binds tighter than unary minus, which binds
# tighter than `* /`, then `+ -`.  Names, numbers, calls and parenthesized groups are atoms.
ADD, MUL, UNARY, POWER, ATOM = 11, 12, 13, 14, 16

# Unary functions of the language and their SymPy form, written from the definitions.
UNARY_SYMPY: dict[str, Callable[[Any], Any]] = {
    "exp": sp.exp,
    "log": sp.log,
    "sqrt": sp.sqrt,
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "sec": sp.sec,
    "csc": sp.csc,
    "cot": sp.cot,
    "asin": sp.asin,
    "acos": sp.acos,
    "atan": sp.atan,
    "sinh": sp.sinh,
    "cosh": sp.cosh,
    "tanh": sp.tanh,
    "asinh": sp.asinh,
    "acosh": sp.acosh,
    "atanh": sp.atanh,
    "log2": lambda t: sp.log(t) / sp.log(2),
    "log10": lambda t: sp.log(t) / sp.log(10),
    "exp2": lambda t: sp.Integer(2) ** t,
    "cbrt": lambda t: sp.sign(t) * sp.Abs(t) ** sp.Rational(1, 3),  # the real cube root
    "erf": sp.erf,
    "erfc": sp.erfc,
    "floor": sp.floor,
    "ceil": sp.ceiling,
    "sign": sp.sign,
    "sigmoid": lambda t: 1 / (1 + sp.exp(-t)),
    "relu": lambda t: sp.Max(t, 0),
    "abs": sp.Abs,
    "softplus": lambda t: sp.log(1 + sp.exp(t)),
    "log1p": lambda t: sp.log(1 + t),
    "expm1": lambda t: sp.exp(t) - 1,
}

# Functions of two arguments.
BINARY_SYMPY: dict[str, Callable[[Any, Any], Any]] = {
    "pow": lambda a, b: a**b,
    "logaddexp": lambda a, b: sp.log(sp.exp(a) + sp.exp(b)),
    "atan2": sp.atan2,
    "hypot": lambda a, b: sp.sqrt(a**2 + b**2),
}

# Every gate a generated tree may contain (the variadic max/min appear folded into binary nodes,
# as the language defines `max(a, b, c)` to be `max(max(a, b), c)`).
GATE_SYMPY: dict[str, Callable[..., Any]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "neg": lambda a: -a,
    "max": sp.Max,
    "min": sp.Min,
    **BINARY_SYMPY,
    **UNARY_SYMPY,
}

# Callable functions the generator knows how to call: checked against the registry by a test,
# so that a function added to `gates.FUNCTIONS` cannot go untested.
CALLABLE = frozenset(UNARY_SYMPY) | frozenset(BINARY_SYMPY) | {"max", "min"}
VARIADIC = frozenset({"max", "min"})
# Piecewise linear (or constant): their second derivatives vanish away from their kinks.
NONSMOOTH = frozenset({"relu", "abs", "max", "min", "floor", "ceil", "sign"})
# Other spellings of functions the language accepts: NumPy's names (JAX users write them).
SPELLINGS: dict[str, tuple[str, ...]] = {
    "asin": ("asin", "arcsin"),
    "acos": ("acos", "arccos"),
    "atan": ("atan", "arctan"),
    "atan2": ("atan2", "arctan2"),
    "asinh": ("asinh", "arcsinh"),
    "acosh": ("acosh", "arccosh"),
    "atanh": ("atanh", "arctanh"),
}
CONSTANT_SYMPY = {"pi": sp.pi, "e": sp.E}

# Names: ordinary ones, Python keywords and builtins, and names the generated code itself uses
# (`np`, `math`, `mul1`, `dx` for the gradient of x ...), all of which the language allows.
INPUT_NAMES = (
    "x",
    "y",
    "z",
    "w0",
    "_b",
    "X1",
    "lambda",
    "None",
    "np",
    "math",
    "dx",
    "mul1",
    "e2",
    "pix",
)
BOUND_NAMES = (
    "q",
    "f",
    "h_1",
    "dot",
    "_t",
    "if",
    "True",
    "sum_to_shape",
    "x_",
    "exp1",
    "dq",
    "grad",
    "value",
)

# The registry grows: never offer a name that has become a function or a constant.
INPUT_NAMES = tuple(name for name in INPUT_NAMES if name not in RESERVED)
BOUND_NAMES = tuple(name for name in BOUND_NAMES if name not in RESERVED)

# What an expression is, weighted: calls are frequent because there are many functions.
EXPRESSION_KINDS = (
    *("leaf", "leaf", "add", "sub", "mul", "div", "pow", "neg", "pos", "paren", "naive"),
    *["call"] * 6,
)

MAX_INPUTS = 4
MAX_BINDINGS = 3
MAX_DEPTH = 5  # of each statement's expression; programs nest deeper through their bindings


@dataclass(eq=False)
class Node:
    """One sub-expression: an input, a constant or a gate applied to children.

    Nodes are shared when a let-binding is used several times, so a program is a DAG.  `expr` is
    its SymPy expression (None when the strategy was asked for text only).  `varying` says
    whether it depends on an input *structurally* (SymPy may simplify `x - x` to 0; the compiler
    does not).  `exact` says whether a constant is an integer that floats compute exactly.
    """

    op: str  # "input", "const" or a gate name
    children: tuple[Node, ...] = ()
    name: str = ""
    expr: Any = None
    varying: bool = False
    exact: bool = False
    number: Any = None  # a constant's value (mpmath, 20 digits); None if undefined or huge


@dataclass
class GeneratedProgram:
    """A program's text, its inputs in order of first appearance, and its SymPy meaning."""

    text: str
    inputs: tuple[str, ...]
    output: Node
    roots: tuple[Node, ...]  # every statement's node, bindings first, the output last
    symbols: dict[str, Any] = field(default_factory=dict)

    @property
    def expr(self) -> Any:
        return self.output.expr

    def nodes(self) -> list[Node]:
        """Every node reachable from any statement (unused bindings included), children first."""
        seen: set[int] = set()
        order: list[Node] = []
        for root in self.roots:
            stack: list[tuple[Node, bool]] = [(root, False)]
            while stack:
                node, done = stack.pop()
                if done:
                    order.append(node)
                    continue
                if id(node) in seen:
                    continue
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((child, False) for child in reversed(node.children))
        return order

    def __repr__(self) -> str:
        return f"GeneratedProgram(text={self.text!r}, expr={self.expr})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """What hypothesis prints for a falsifying example: the text and the SymPy meaning."""
        printer.text(repr(self))


HUGE = 1e30


def _number(value: Any) -> Any:
    """A SymPy number (a Rational, pi or E) as an mpmath number."""
    with mpmath.workdps(20):
        return mpmath.mpmathify(str(sp.N(value, 25)))


@functools.cache
def _gate_number_function(op: str) -> Callable[..., Any]:
    arity = 1 if op in UNARY_SYMPY or op == "neg" else 2
    args = sp.symbols(f"a0:{arity}", real=True)
    return sp.lambdify(args, GATE_SYMPY[op](*args), "mpmath")


def _constant_number(op: str, children: tuple[Node, ...]) -> Any:
    """The value of a gate of constants, from its SymPy form; None if undefined or huge."""
    if any(child.number is None for child in children):
        return None
    with mpmath.workdps(20):
        try:
            number = mpmath.mpmathify(
                _gate_number_function(op)(*(child.number for child in children))
            )
        except (ArithmeticError, ValueError, TypeError):
            return None
        if not isinstance(number, mpmath.mpf) or not mpmath.isfinite(number):
            return None
        return number if abs(number) <= HUGE else None


@dataclass
class Piece:
    """Text of a sub-expression as it is being generated, with its precedence and meaning."""

    text: str
    precedence: int
    node: Node
    names: tuple[str, ...]  # the input names in its text, in order


# ---------------------------------------------------------------------------------------------
# Numbers in every Python spelling.


@st.composite
def literals(draw: st.DrawFn) -> tuple[str, Any]:
    """A non-negative number as text (`3`, `2.5`, `.5`, `1.`, `1e-1`, `1.5E+0` ...) and its value.

    The value, m·10^k, is exact (a SymPy Rational), so `float(text)` is its correctly rounded
    float.
    """
    mantissa = draw(st.integers(0, 40))
    exponent = draw(st.sampled_from([0, -1, -2, 1]))
    value = sp.Integer(mantissa) * sp.Rational(10) ** exponent
    digits = str(mantissa)
    if draw(st.booleans()):
        # positional: 30, 30., 30.0, 2.5, 0.05, .05, 2.50
        if exponent >= 0:
            text = digits + "0" * exponent + draw(st.sampled_from(["", ".", ".0", ".00"]))
        else:
            padded = digits.rjust(1 - exponent, "0")
            whole, fraction = padded[:exponent], padded[exponent:]
            if whole == "0" and draw(st.booleans()):
                whole = ""
            text = whole + "." + fraction + draw(st.sampled_from(["", "0"]))
    else:
        # scientific: 15e-1, 1.5E+0, .15e1, 15.e-1, 1.5e00
        point = draw(st.one_of(st.none(), st.integers(0, len(digits))))
        if point is None:
            significand, shift = digits, 0
        else:
            significand, shift = digits[:point] + "." + digits[point:], len(digits) - point
        if significand == ".":
            significand = "0."
        power = exponent + shift
        sign = "-" if power < 0 else draw(st.sampled_from(["", "+"]))
        width = draw(st.sampled_from([1, 1, 2]))
        letter = draw(st.sampled_from("eE"))
        text = f"{significand}{letter}{sign}{str(abs(power)).rjust(width, '0')}"
    assert float(text) == float(value), (text, value)
    return text, value


# ---------------------------------------------------------------------------------------------
# Whitespace, comments and separators.

COMMENT_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=12
)

# Between two tokens anywhere: nothing, spaces, tabs, a form feed or a line continuation.
_SPACE = ["", "", "", " ", " ", " ", "  ", "\t", "\f", "\\\n", " \\\n  "]


@st.composite
def spaces(draw: st.DrawFn, inside: bool) -> str:
    """Whitespace between tokens; inside parentheses it may also break lines and hold comments."""
    choice = draw(st.integers(0, len(_SPACE) + (3 if inside else -1)))
    if choice < len(_SPACE):
        return _SPACE[choice]
    if choice == len(_SPACE):
        return "\n    "
    if choice == len(_SPACE) + 1:
        return "\r\n"
    return f"  #{draw(COMMENT_TEXT)}\n  "


@st.composite
def separators(draw: st.DrawFn, at_edge: bool = False) -> str:
    """Between statements: newlines, ';', blank lines and comments (possibly nothing at edges)."""
    parts = draw(
        st.lists(
            st.one_of(
                st.sampled_from([";", "\n", "\r\n", " ; ", "\n\n", ";;", "\t;\n"]),
                COMMENT_TEXT.map(lambda text: f"  #{text}\n"),
            ),
            min_size=0 if at_edge else 1,
            max_size=3,
        )
    )
    return "".join(parts)


# ---------------------------------------------------------------------------------------------
# Expressions.


class _Generator:
    """Draws one program; carries the inputs offered and the bindings made so far."""

    def __init__(self, draw: st.DrawFn, inputs: list[str], with_sympy: bool) -> None:
        self.draw = draw
        self.input_names = inputs
        self.with_sympy = with_sympy
        self.symbols = {
            name: sp.Symbol(f"v{index}", real=True) for index, name in enumerate(inputs)
        }
        self.inputs = {name: Node("input", name=name, varying=True) for name in inputs}
        for name, node in self.inputs.items():
            node.expr = self.symbols[name] if with_sympy else None
        self.bound: dict[str, Node] = {}

    # -- nodes -----------------------------------------------------------------------------

    def gate(self, op: str, *children: Node) -> Node:
        varying = any(child.varying for child in children)
        if not self.with_sympy:
            return Node(op, tuple(children), varying=varying)
        number = None if varying else _constant_number(op, children)
        if not varying and number is None:
            # A constant that is undefined, not real or huge (exp(exp(exp(6)))): no point of
            # the program is comparable, and SymPy could spend minutes on its digits.
            expr = sp.nan
        else:
            try:
                expr = GATE_SYMPY[op](*(child.expr for child in children))
            except (ArithmeticError, ValueError, TypeError, NotImplementedError):
                expr = sp.nan  # Max(1 + I*pi, x) is not comparable: no meaning
        exact = (
            number is not None
            and op in ("add", "sub", "mul", "neg")
            and all(child.exact for child in children)
            and abs(number) < 2**50
        )
        return Node(op, tuple(children), expr=expr, varying=varying, exact=exact, number=number)

    # -- text ------------------------------------------------------------------------------

    def space(self, inside: bool) -> str:
        return self.draw(spaces(inside))

    def operand(self, piece: Piece, needed: int, inside: bool) -> Piece:
        """`piece`, parenthesized if it binds looser than `needed` (or, at random, anyway)."""
        redundant = self.draw(st.integers(0, 9)) == 0
        if piece.precedence >= needed and not redundant:
            return piece
        text = f"({self.space(True)}{piece.text}{self.space(True)})"
        return Piece(text, ATOM, piece.node, piece.names)

    def leaf(self) -> Piece:
        draw = self.draw
        kinds = ["input"] * 5 + ["number"] * 2 + ["constant"] + ["bound"] * 4 * bool(self.bound)
        kind = draw(st.sampled_from(kinds))
        if kind == "input":
            name = draw(st.sampled_from(self.input_names))
            return Piece(name, ATOM, self.inputs[name], (name,))
        if kind == "bound":
            name = draw(st.sampled_from(sorted(self.bound)))
            return Piece(name, ATOM, self.bound[name], ())
        if kind == "constant":
            name = draw(st.sampled_from(sorted(CONSTANTS)))
            node = Node("const", name=name)
            if self.with_sympy:
                node.expr, node.number = CONSTANT_SYMPY[name], _number(CONSTANT_SYMPY[name])
            return Piece(name, ATOM, node, ())
        text, value = draw(literals())
        node = Node("const", name=text, exact=value.q == 1)
        if self.with_sympy:
            node.expr, node.number = value, _number(value)
        return Piece(text, ATOM, node, ())

    def expression(self, depth: int, inside: bool) -> Piece:
        draw = self.draw
        if depth <= 0:
            return self.leaf()
        kind = draw(st.sampled_from(EXPRESSION_KINDS))
        if kind == "leaf":
            return self.leaf()
        if kind == "paren":
            return self.parenthesized(self.expression(depth - 1, True))
        if kind in ("neg", "pos"):
            return self.unary(kind, self.expression(depth - 1, inside), inside)
        if kind == "call":
            return self.call(depth, inside)
        if kind == "naive":
            return self.naive(depth, inside)
        left = self.expression(depth - 1, inside)
        return self.binary(kind, left, self.expression(depth - 1, inside), inside)

    # -- composing pieces ------------------------------------------------------------------

    def parenthesized(self, piece: Piece) -> Piece:
        text = f"({self.space(True)}{piece.text}{self.space(True)})"
        return Piece(text, ATOM, piece.node, piece.names)

    def unary(self, kind: str, operand: Piece, inside: bool) -> Piece:
        """`-a` (a neg gate) or `+a` (no gate at all)."""
        operand = self.operand(operand, UNARY, inside)
        sign = "-" if kind == "neg" else "+"
        text = f"{sign}{self.space(inside)}{operand.text}"
        node = self.gate("neg", operand.node) if kind == "neg" else operand.node
        return Piece(text, UNARY, node, operand.names)

    def binary(self, op: str, left: Piece, right: Piece, inside: bool) -> Piece:
        """`a + b`, `a - b`, `a * b`, `a / b`, or `a ** b` / `a ^ b` for "pow"."""
        if op == "pow":
            # atom ** unary: the base must be an atom, the exponent may carry a sign.
            left = self.operand(left, ATOM, inside)
            right = self.operand(right, UNARY, inside)
            symbol, precedence = self.draw(st.sampled_from(["**", "^"])), POWER
        else:
            precedence = ADD if op in ("add", "sub") else MUL
            left = self.operand(left, precedence, inside)
            right = self.operand(right, precedence + 1, inside)
            symbol = {"add": "+", "sub": "-", "mul": "*", "div": "/"}[op]
        text = f"{left.text}{self.space(inside)}{symbol}{self.space(inside)}{right.text}"
        node = self.gate(op, left.node, right.node)
        return Piece(text, precedence, node, left.names + right.names)

    def function(self, function: str, arguments: list[Piece]) -> Piece:
        """`function(a, b, ...)`; a variadic call folds left into binary nodes."""
        node = arguments[0].node
        if function in VARIADIC:
            for argument in arguments[1:]:
                node = self.gate(function, node, argument.node)
        else:
            node = self.gate(function, *(argument.node for argument in arguments))
        pieces = [f"{self.space(True)}{argument.text}{self.space(True)}" for argument in arguments]
        opening = self.draw(st.sampled_from(["", "", "", " "]))
        spelling = self.draw(st.sampled_from(SPELLINGS.get(function, (function,))))
        text = f"{spelling}{opening}({','.join(pieces)})"
        names = tuple(name for argument in arguments for name in argument.names)
        return Piece(text, ATOM, node, names)

    def one(self) -> Piece:
        """The number 1 in one of its spellings."""
        text = self.draw(st.sampled_from(["1", "1.", "1.0", "1e0", "10E-1", ".1e+1"]))
        node = Node("const", name=text, exact=True)
        if self.with_sympy:
            node.expr, node.number = sp.Integer(1), _number(sp.Integer(1))
        return Piece(text, ATOM, node, ())

    # -- kinds -----------------------------------------------------------------------------

    def call(self, depth: int, inside: bool) -> Piece:
        function = self.draw(st.sampled_from(sorted(CALLABLE)))
        if function in VARIADIC:
            count = self.draw(st.integers(2, 4))
        else:
            count = 2 if function in BINARY_SYMPY else 1
        return self.function(function, [self.expression(depth - 1, True) for _ in range(count)])

    def naive(self, depth: int, inside: bool) -> Piece:
        """A formula the compiler rewrites into a stable gate: `1/(1+exp(-t))`, `exp(t)-1` ..."""
        draw = self.draw
        pattern = draw(st.sampled_from(["sigmoid", "softplus", "logaddexp", "expm1", "log1p"]))
        argument = self.expression(depth - 1, True)

        def plus_one(piece: Piece) -> Piece:
            if draw(st.booleans()):
                return self.binary("add", self.one(), piece, True)
            return self.binary("add", piece, self.one(), True)

        if pattern == "sigmoid":
            exponential = self.function("exp", [self.unary("neg", argument, True)])
            return self.binary("div", self.one(), plus_one(exponential), inside)
        if pattern == "softplus":
            return self.function("log", [plus_one(self.function("exp", [argument]))])
        if pattern == "logaddexp":
            other = self.function("exp", [self.expression(depth - 1, True)])
            total = self.binary("add", self.function("exp", [argument]), other, True)
            return self.function("log", [total])
        if pattern == "expm1":
            return self.binary("sub", self.function("exp", [argument]), self.one(), inside)
        return self.function("log", [plus_one(argument)])


@st.composite
def programs(
    draw: st.DrawFn, with_sympy: bool = True, max_depth: int = MAX_DEPTH
) -> GeneratedProgram:
    """A random valid program with its SymPy meaning (see the module docstring)."""
    count = draw(st.integers(1, MAX_INPUTS))
    inputs = draw(
        st.lists(st.sampled_from(INPUT_NAMES), min_size=count, max_size=count, unique=True)
    )
    generator = _Generator(draw, inputs, with_sympy)
    bindings = draw(st.integers(0, MAX_BINDINGS))
    names = draw(
        st.lists(st.sampled_from(BOUND_NAMES), min_size=bindings, max_size=bindings, unique=True)
    )
    statements: list[str] = []
    roots: list[Node] = []
    order: list[str] = []
    for name in names:
        piece = generator.expression(draw(st.integers(1, max_depth - 1)), False)
        equals = f"{draw(spaces(False))}={draw(spaces(False))}"
        statements.append(f"{name}{equals}{piece.text}")
        generator.bound[name] = piece.node
        roots.append(piece.node)
        order.extend(piece.names)
    piece = generator.expression(draw(st.integers(2, max_depth)), False)
    statements.append(piece.text)
    roots.append(piece.node)
    order.extend(piece.names)
    text = draw(separators(at_edge=True))
    for index, statement in enumerate(statements):
        if index:
            text += draw(separators())
        text += statement
    text += draw(separators(at_edge=True))
    used = tuple(dict.fromkeys(order))
    symbols = {name: generator.symbols[name] for name in used}
    return GeneratedProgram(text, used, piece.node, tuple(roots), symbols)


# ---------------------------------------------------------------------------------------------
# Fuzz material.

VOCABULARY = (
    # names, constants, function names (and near misses)
    *("x", "y", "q", "lambda", "_b", "X1", "None", "np", "pi", "e", "sigmod", "Exp"),
    *sorted(FUNCTIONS),
    *sorted({spelling for spellings in SPELLINGS.values() for spelling in spellings}),
    *sorted(CONSTANTS),
    # numbers, including spellings the language rejects
    *("0", "3", "2.5", ".5", "1.", "1e-1", "1.5E+0", "1e", "1_000", "0x10", "1e999", "9" * 400),
    # operators and punctuation
    *("+", "-", "*", "/", "**", "^", "(", ")", ",", "=", ";", "\n", "\r\n", "#", "# c\n"),
    *(" ", "\t", "\\\n", "\\"),
    # junk
    *("$", "@", ".", "[", "]", '"', "'", "{", "}", "<", ">=", "!", "%", "&", "|", "~", ":", "?"),
    *("é", "π", "\x00", "\x0b", "\u2028", "\ufeff", "ｘ", "١"),
)


@st.composite
def token_soups(draw: st.DrawFn) -> str:
    """Lists of tokens of the language's vocabulary (and junk), joined with or without spaces."""
    tokens = draw(st.lists(st.sampled_from(VOCABULARY), max_size=30))
    joiner = draw(st.sampled_from(["", " ", ""]))
    return joiner.join(tokens)


FUZZ_CHARACTERS = st.one_of(
    st.sampled_from("()+-*/^=;,#.\n\r\t \\eE0123456789xyz_$@[]\"'"), st.characters()
)


@st.composite
def truncations(draw: st.DrawFn) -> str:
    """A valid program cut at a random position."""
    text = draw(programs(with_sympy=False)).text
    return text[: draw(st.integers(0, len(text)))]


@st.composite
def mutations(draw: st.DrawFn) -> str:
    """A valid program with one character inserted, deleted or replaced."""
    text = draw(programs(with_sympy=False)).text
    position = draw(st.integers(0, len(text)))
    kind = draw(st.sampled_from(["insert", "delete", "replace"]))
    if kind == "insert":
        return text[:position] + draw(FUZZ_CHARACTERS) + text[position:]
    if kind == "delete":
        return text[:position] + text[position + 1 :]
    return text[:position] + draw(FUZZ_CHARACTERS) + text[position + 1 :]


@st.composite
def deep_nestings(draw: st.DrawFn) -> str:
    """Deeply nested but otherwise simple programs: parentheses, signs, powers, calls."""
    depth = draw(st.integers(1, 400))
    kind = draw(st.sampled_from(["parens", "signs", "powers", "calls", "sums"]))
    if kind == "parens":
        return "(" * depth + "x" + ")" * depth
    if kind == "signs":
        return "".join(draw(st.sampled_from("-+")) for _ in range(depth)) + "x"
    if kind == "powers":
        return "**".join(["x"] * depth)
    if kind == "calls":
        return "sin(" * depth + "x" + ")" * depth
    return "+".join(f"x{index % 7}" for index in range(depth))
