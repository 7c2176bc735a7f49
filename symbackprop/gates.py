"""The gate registry: everything symbackprop knows about each operation, in one entry per gate.

An entry says how the gate is written in the language, how generated code computes it with floats
(`math`) and with NumPy arrays, its float reference implementation (for constant folding and
explanations), its SymPy form, one local-gradient rule per input, its algebraic identities, and a
sentence that explains it.  Adding a function means adding one entry here (and, for a new
operator, one grammar line).  Imports `math`, `operator`, NumPy (for array
shapes) and `runtime`.

A local-gradient rule is a small pure function ``rule(ns, *inputs, out, up)`` returning the
contribution that input receives: its local gradient times the upstream gradient `up`.  `ns` is a
namespace of gate functions (`ns.exp`, `ns.where` ...) and the values support `+ - * / **`, so the
same rule builds graph nodes in the backward pass and SymPy expressions in the tests.  Rules are
linear in `up`; calling one with ``up=1`` gives the bare local gradient, which is what the
explanations print.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import runtime

# ---------------------------------------------------------------------------------------------
# How a gate is written: in the language, in float-mode code and in array-mode code.


@dataclass(frozen=True, slots=True)
class Infix:
    """`a <symbol> b`, with Python's precedence number (higher binds tighter)."""

    symbol: str
    precedence: int
    right_associative: bool = False


@dataclass(frozen=True, slots=True)
class Prefix:
    """`<symbol>a`."""

    symbol: str
    precedence: int


@dataclass(frozen=True, slots=True)
class Call:
    """`function(a, b, ...)`, where `function` is imported from `module` by generated code.

    `module` is empty for the language's own notation (the function's name as the user writes it).
    """

    function: str
    module: str = ""


@dataclass(frozen=True, slots=True)
class Suffix:
    """`a<symbol>`, as the transpose `x.T`."""

    symbol: str


@dataclass(frozen=True, slots=True)
class Conditional:
    """`a if condition else b` for a gate whose inputs are (condition, a, b)."""

    precedence: int = 1


@dataclass(frozen=True, slots=True)
class Staged:
    """Statements written out in place, where calling a helper would cost more than the work.

    Float mode's sigmoid is one branch and two or three operations: a Python call to a helper
    would take longer than computing it.  `lines` is a template: `{out}` is the result's name,
    `{0}`, `{1}` ... the operands (names, never expressions), `{scratch}` a fresh temporary; it
    may nest (`if`/`else`).  `imports` are the `(module, name)` pairs the lines use.
    """

    lines: tuple[str, ...]
    imports: tuple[tuple[str, str], ...] = ()


Form = Infix | Prefix | Suffix | Call | Conditional | Staged

ATOM_PRECEDENCE = 16  # names, literals and calls never need parentheses

# Patterns of the backward flow, in the lecture's words.
DISTRIBUTES = "distributes"
SWITCHES = "switches"
ROUTES = "routes"

Rule = Callable[..., Any]

Pattern = tuple[Any, ...]
"""A naive formula a gate replaces: `(gate, *operands)`, where an operand is a pattern, a
variable name (`"t"`) or a float constant.  `("log", ("add", 1.0, ("exp", "t")))` is
log(1 + e^t); operands of commutative gates match in either order.  A pattern matches only
gates without parameters (`sum(x)`, not `sum(x, axis=0)`)."""


@dataclass(frozen=True, slots=True)
class Replacement:
    """A naive formula whose variables are not the gate's inputs in order of first appearance:
    `sum(a ** 2)` is `vdot(a, a)`, so its `inputs` are `("a", "a")`."""

    pattern: Pattern
    inputs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Gate:
    """One operation: its notation, code forms, reference implementation, SymPy form and rules.

    `callable` gates may be called by name in the language (`exp(x)`), and also by any of their
    `aliases` (NumPy's spelling, `arcsin(x)` for `asin(x)`); `internal` gates only ever appear in
    backward passes (comparisons and selections for the non-smooth gates) and are never
    differentiated themselves.  `variadic` gates take two or more arguments and are folded left
    into binary gates (`max(a, b, c)` is `max(max(a, b), c)`).

    Identities let the graph builder drop trivial work: `identity` is the element `e` with
    `gate(x, e) == x` (and `gate(e, x) == x` too when `commutative`), `negating` the element with
    `gate(x, negating) == -x`, `absorbing` a pair `(c, r)` with `gate(x, c) == r` for every x
    (NaN and inf included), and an `involution` undoes itself (`--x == x`).

    `kink`, for a gate that is not differentiable everywhere, gives the distance from its inputs
    to the nearest point where it is not (`|x|` for relu, the distance to the nearest integer for
    floor), so gradient checks can stay away.

    `replaces` lists naive formulas that this gate computes better — `replaced_how`: stably, or
    in one pass without a temporary; the rewrite stage substitutes the gate for them, binding the
    pattern's variables in order to the gate's inputs (or as a `Replacement` says).

    Array gates: `shape(shapes, **params)` gives the output's shape from the inputs' shapes (and
    raises `ValueError` saying why they do not fit); a gate without it is elementwise and
    broadcasts as NumPy does.  `keywords` are the integer parameters a call may name
    (`sum(x, axis=1)`); `one_argument` is the gate a call with a single argument means
    (`max(x)` is the reduction `amax`); `index_arguments` are inputs that are integer indices,
    which get no gradient (`pick(S, y)`'s labels y).  A `view` gate's result may share memory
    with its input (a transpose, a broadcast), so a gradient computed by one is copied before it
    is returned.  A `fills` gate spreads its first input over a shape, so on a constant it gives
    a filled constant.
    """

    name: str
    arity: int
    notation: Form
    float_form: Form
    array_form: Form
    evaluate: Callable[..., Any]
    sympy: Callable[..., Any]
    rules: tuple[Rule, ...]
    explanation: str
    pattern: str | None = None
    callable: bool = True
    internal: bool = False
    variadic: bool = False
    commutative: bool = False
    identity: float | None = None
    negating: float | None = None
    absorbing: tuple[float, float] | None = None
    involution: bool = False
    kink: Callable[..., float] | None = None
    replaces: tuple[Pattern | Replacement, ...] = ()
    replaced_how: str = "stably"
    shape: Callable[..., tuple[int, ...]] | None = None
    keywords: tuple[str, ...] = ()
    one_argument: str | None = None
    index_arguments: tuple[int, ...] = ()
    view: bool = False
    fills: bool = False
    aliases: tuple[str, ...] = ()


def _math(function: str) -> Call:
    return Call(function, "math")


def _numpy(function: str) -> Call:
    return Call(function, "numpy")


def _runtime(function: str) -> Call:
    return Call(function, "symbackprop.runtime")


def _function(name: str) -> Call:
    return Call(name)


def _unary_math(
    name: str,
    sympy: Callable[..., Any],
    rule: Rule,
    explanation: str,
    float_form: Form | None = None,
    array_form: Form | None = None,
    evaluate: Callable[..., Any] | None = None,
    kink: Callable[..., float] | None = None,
    replaces: tuple[Pattern, ...] = (),
    aliases: tuple[str, ...] = (),
) -> Gate:
    """A one-input function computed by `math.<name>` and `numpy.<name>` unless told otherwise."""
    return Gate(
        name=name,
        arity=1,
        notation=_function(name),
        float_form=float_form or _math(name),
        array_form=array_form or _numpy(name),
        evaluate=evaluate or getattr(math, name),
        sympy=sympy,
        rules=(rule,),
        explanation=explanation,
        kink=kink,
        replaces=replaces,
        aliases=aliases,
    )


def _step(
    name: str, sympy: Callable[..., Any], explanation: str, kink: Callable[[float], float]
) -> Gate:
    """A piecewise-constant function (floor, ceil, sign), jumping where `kink` is 0.

    Its local gradient is 0 wherever it exists, and 0 is taken at the jumps too, as JAX and
    PyTorch do.  The rule returns the constant 0, not 0·up, so an infinite or NaN upstream
    gradient does not leak through it.  The float form is a `runtime` helper returning a float.
    """
    return _unary_math(
        name,
        sympy,
        lambda ns, x, out, up: 0.0,
        explanation,
        float_form=_runtime(name),
        evaluate=getattr(runtime, name),
        kink=kink,
    )


def _distance_to_integer(t: float) -> float:
    """How far t is from the nearest integer, where floor and ceil jump."""
    return abs(t - round(t))


def _atan2_cut_distance(y: float, x: float) -> float:
    """How far (x, y) is from atan2's branch cut, the half-line y = 0, x ≤ 0, where it jumps
    from π to −π (and which ends at the origin, where it is not defined)."""
    return abs(y) if x < 0 else math.hypot(x, y)


def _reduction(
    name: str,
    evaluate: Callable[..., Any],
    rule: Rule,
    explanation: str,
    pattern: str | None = None,
    notation: Form | None = None,
    array_form: Form | None = None,
    kink: Callable[..., float] | None = None,
    callable_by_name: bool = True,
) -> Gate:
    """A reduction over all elements, or over one axis with `axis=k`."""
    return Gate(
        name=name,
        arity=1,
        notation=notation or _function(name),
        float_form=array_form or _numpy(name),
        array_form=array_form or _numpy(name),
        evaluate=evaluate,
        sympy=lambda sp, x: x,
        rules=(rule,),
        explanation=explanation,
        pattern=pattern,
        shape=_reduced_shape,
        keywords=("axis",),
        kink=kink,
        callable=callable_by_name,
    )


def _to_shape(name: str, evaluate: Callable[..., Any], explanation: str) -> Gate:
    """An internal gate that brings a value to the static `shape=` its node carries (`fill`
    spreads it, `sum_to_shape` sums it), computed by the runtime helper of the same name."""
    return Gate(
        name=name,
        arity=1,
        notation=_function(name),
        float_form=_runtime(name),
        array_form=_runtime(name),
        evaluate=evaluate,
        sympy=lambda sp, value: value,
        rules=(),
        explanation=explanation,
        callable=False,
        internal=True,
        shape=lambda value, shape: shape,
        keywords=("shape",),
    )


def _checked_axis(shape: tuple[int, ...], axis: int | None) -> bool:
    if axis is not None and not -len(shape) <= axis < len(shape):
        raise ValueError(f"axis {axis} is out of range for an array of shape {shape}")
    return True


def _reduced_shape(shape: tuple[int, ...], axis: int | None = None) -> tuple[int, ...]:
    _checked_axis(shape, axis)
    if axis is None:
        return ()
    axis %= len(shape)
    return shape[:axis] + shape[axis + 1 :]


def broadcast_shape(*shapes: tuple[int, ...]) -> tuple[int, ...]:
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        described = " and ".join(str(shape) for shape in shapes)
        raise ValueError(f"shapes {described} do not broadcast together") from None


def _size(shape: tuple[int, ...]) -> int:
    return int(np.prod(shape, dtype=np.int64))


def _matmul_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    if not 1 <= len(a) <= 2 or not 1 <= len(b) <= 2:
        raise ValueError(f"@ takes vectors and matrices, not shapes {a} and {b}")
    if a[-1] != b[0]:
        raise ValueError(f"@ needs matching inner dimensions, got shapes {a} and {b}")
    return a[:-1] + b[1:]


def _pick_shape(scores: tuple[int, ...], labels: tuple[int, ...]) -> tuple[int, ...]:
    if len(scores) != 2 or labels != scores[:1]:
        raise ValueError(
            f"pick(S, y) takes scores S of shape (N, C) and labels y of shape (N,), "
            f"got {scores} and {labels}"
        )
    return labels


def _count(ns: Any, x: Any, axis: int | None) -> float:
    """How many elements a reduction over `axis` (or all) combines, from static shapes."""
    shape = ns.shape(x)
    return float(_size(shape) if axis is None else shape[axis])


def _extremum_rule(ns: Any, x: Any, out: Any, up: Any, axis: int | None) -> Any:
    """The gradient of max/min reductions: to the elements attaining it, split on a tie."""
    hits = ns.where(ns.eq(x, ns.expand_to(out, x, axis=axis)), 1.0, 0.0)
    share = hits / ns.expand_to(ns.sum(hits, axis=axis), x, axis=axis)
    return share * ns.expand_to(up, x, axis=axis)


def _matmul_left(ns: Any, a: Any, b: Any, up: Any) -> Any:
    """d(A @ B)/dA applied to `up`, for every vector/matrix combination."""
    a_matrix, b_matrix = len(ns.shape(a)) == 2, len(ns.shape(b)) == 2
    if a_matrix and b_matrix:
        return up @ ns.transpose(b)
    if a_matrix:
        return ns.outer(up, b)
    if b_matrix:
        return b @ up
    return b * up


def _matmul_right(ns: Any, a: Any, b: Any, up: Any) -> Any:
    """d(A @ B)/dB applied to `up`, for every vector/matrix combination."""
    a_matrix, b_matrix = len(ns.shape(a)) == 2, len(ns.shape(b)) == 2
    if a_matrix:
        return ns.transpose(a) @ up
    if b_matrix:
        return ns.outer(a, up)
    return a * up


_PLUS = Infix("+", 11)
_MINUS = Infix("-", 11)
_TIMES = Infix("*", 12)
_OVER = Infix("/", 12)
_POWER = Infix("**", 14, right_associative=True)
_NEGATE = Prefix("-", 13)

_GATE_LIST: tuple[Gate, ...] = (
    Gate(
        name="add",
        arity=2,
        notation=_PLUS,
        float_form=_PLUS,
        array_form=_PLUS,
        evaluate=operator.add,
        sympy=lambda sp, a, b: a + b,
        rules=(lambda ns, a, b, out, up: up, lambda ns, a, b, out, up: up),
        explanation="the add gate distributes the gradient: each input receives it unchanged",
        pattern=DISTRIBUTES,
        callable=False,
        commutative=True,
        identity=0.0,
    ),
    Gate(
        name="sub",
        arity=2,
        notation=_MINUS,
        float_form=_MINUS,
        array_form=_MINUS,
        evaluate=operator.sub,
        sympy=lambda sp, a, b: a - b,
        rules=(lambda ns, a, b, out, up: up, lambda ns, a, b, out, up: -up),
        explanation="the subtract gate distributes the gradient, negated for the right input",
        pattern=DISTRIBUTES,
        callable=False,
        identity=0.0,
    ),
    Gate(
        name="mul",
        arity=2,
        notation=_TIMES,
        float_form=_TIMES,
        array_form=_TIMES,
        evaluate=operator.mul,
        sympy=lambda sp, a, b: a * b,
        rules=(lambda ns, a, b, out, up: b * up, lambda ns, a, b, out, up: a * up),
        explanation="the mul gate switches its inputs: each one's local gradient is the other",
        pattern=SWITCHES,
        callable=False,
        commutative=True,
        identity=1.0,
        negating=-1.0,
    ),
    Gate(
        name="div",
        arity=2,
        notation=_OVER,
        float_form=_OVER,
        array_form=_OVER,
        evaluate=operator.truediv,
        sympy=lambda sp, a, b: a / b,
        rules=(lambda ns, a, b, out, up: up / b, lambda ns, a, b, out, up: -(out / b) * up),
        explanation="d(a/b)/da = 1/b and d(a/b)/db = -(a/b)/b = -a/b²",
        callable=False,
        identity=1.0,
        negating=-1.0,
    ),
    Gate(
        name="neg",
        arity=1,
        notation=_NEGATE,
        float_form=_NEGATE,
        array_form=_NEGATE,
        evaluate=operator.neg,
        sympy=lambda sp, a: -a,
        rules=(lambda ns, a, out, up: -up,),
        explanation="negation flips the sign of the gradient",
        callable=False,
        involution=True,
    ),
    Gate(
        name="pow",
        arity=2,
        notation=_POWER,
        float_form=_math("pow"),
        array_form=_POWER,
        evaluate=math.pow,
        sympy=lambda sp, a, b: a**b,
        rules=(
            # a^b is 1 for every a when b = 0, so its slope by a is 0 there, as PyTorch and
            # autograd give: b·a^(b-1) would be 0·a^(-1), NaN at a = 0 (a domain error in float
            # mode).  So the exponent b - 1 is replaced by 0 there, and b·a^0 is 0 for every a.
            lambda ns, a, b, out, up: b * a ** ns.where(ns.eq(b, 0), 0, b - 1) * up,
            # log a is taken as log 1 = 0 at a = 0, as JAX and autograd do: the slope by b is 0
            # for b >= 0 (0^b is 0 for b > 0; at b = 0 PyTorch takes 0 too), where a^b·log a would
            # be 0·(-inf) or 1·(-inf).
            lambda ns, a, b, out, up: ns.xlogy(out, ns.where(ns.eq(a, 0), 1, a)) * up,
        ),
        explanation=(
            "d(a^b)/da = b·a^(b-1) and d(a^b)/db = a^b·log(a), taken as 0 where a^b = 0 "
            "(0^b is 0 for every b > 0), and both 0 at a = 0, b = 0 (a^0 is 1 for every a)"
        ),
        identity=1.0,
        absorbing=(0.0, 1.0),
    ),
    _unary_math(
        "exp",
        lambda sp, x: sp.exp(x),
        lambda ns, x, out, up: out * up,
        "the exp gate's local gradient is its own output: d(e^x)/dx = e^x",
    ),
    _unary_math(
        "log",
        lambda sp, x: sp.log(x),
        lambda ns, x, out, up: up / x,
        "d(log x)/dx = 1/x",
    ),
    _unary_math(
        "sqrt",
        lambda sp, x: sp.sqrt(x),
        lambda ns, x, out, up: 0.5 * up / out,
        "d(√x)/dx = 1/(2√x), from the gate's own output",
    ),
    _unary_math(
        "sin",
        lambda sp, x: sp.sin(x),
        lambda ns, x, out, up: ns.cos(x) * up,
        "d(sin x)/dx = cos x",
    ),
    _unary_math(
        "cos",
        lambda sp, x: sp.cos(x),
        lambda ns, x, out, up: -ns.sin(x) * up,
        "d(cos x)/dx = -sin x",
    ),
    _unary_math(
        "tan",
        lambda sp, x: sp.tan(x),
        lambda ns, x, out, up: (1 + out * out) * up,
        "d(tan x)/dx = 1 + tan²x, from the gate's own output",
    ),
    _unary_math(
        "sec",
        lambda sp, x: sp.sec(x),
        lambda ns, x, out, up: out * ns.tan(x) * up,
        "sec x = 1/cos x; d(sec x)/dx = sec x · tan x, from the gate's own output",
        float_form=_runtime("sec"),
        array_form=_runtime("sec_array"),
        evaluate=runtime.sec,
    ),
    _unary_math(
        "csc",
        lambda sp, x: sp.csc(x),
        lambda ns, x, out, up: -(out * ns.cot(x)) * up,
        "csc x = 1/sin x; d(csc x)/dx = -csc x · cot x, from the gate's own output",
        float_form=_runtime("csc"),
        array_form=_runtime("csc_array"),
        evaluate=runtime.csc,
    ),
    _unary_math(
        "cot",
        lambda sp, x: sp.cot(x),
        lambda ns, x, out, up: -(1 + out * out) * up,
        "cot x = 1/tan x; d(cot x)/dx = -(1 + cot²x), from the gate's own output",
        float_form=_runtime("cot"),
        array_form=_runtime("cot_array"),
        evaluate=runtime.cot,
    ),
    _unary_math(
        "asin",
        lambda sp, x: sp.asin(x),
        lambda ns, x, out, up: up / ns.sqrt((1 - x) * (1 + x)),
        "d(asin x)/dx = 1/√(1 - x²), infinite at x = ±1",
        array_form=_numpy("arcsin"),
        aliases=("arcsin",),
    ),
    _unary_math(
        "acos",
        lambda sp, x: sp.acos(x),
        lambda ns, x, out, up: -up / ns.sqrt((1 - x) * (1 + x)),
        "d(acos x)/dx = -1/√(1 - x²), infinite at x = ±1",
        array_form=_numpy("arccos"),
        aliases=("arccos",),
    ),
    _unary_math(
        "atan",
        lambda sp, x: sp.atan(x),
        lambda ns, x, out, up: up / (1 + x * x),
        "d(atan x)/dx = 1/(1 + x²)",
        array_form=_numpy("arctan"),
        aliases=("arctan",),
    ),
    Gate(
        name="atan2",
        arity=2,
        notation=_function("atan2"),
        float_form=_math("atan2"),
        array_form=_numpy("arctan2"),
        evaluate=math.atan2,
        sympy=lambda sp, y, x: sp.atan2(y, x),
        rules=(
            lambda ns, y, x, out, up: x / (x * x + y * y) * up,
            lambda ns, y, x, out, up: -y / (x * x + y * y) * up,
        ),
        explanation="atan2(y, x), the angle of (x, y): ∂/∂y = x/(x² + y²), ∂/∂x = -y/(x² + y²)",
        kink=_atan2_cut_distance,
        aliases=("arctan2",),
    ),
    _unary_math(
        "sinh",
        lambda sp, x: sp.sinh(x),
        lambda ns, x, out, up: ns.cosh(x) * up,
        "d(sinh x)/dx = cosh x",
    ),
    _unary_math(
        "cosh",
        lambda sp, x: sp.cosh(x),
        lambda ns, x, out, up: ns.sinh(x) * up,
        "d(cosh x)/dx = sinh x",
    ),
    _unary_math(
        "tanh",
        lambda sp, x: sp.tanh(x),
        lambda ns, x, out, up: (1 - out * out) * up,
        "d(tanh x)/dx = 1 - tanh²x, from the gate's own output",
    ),
    _unary_math(
        "asinh",
        lambda sp, x: sp.asinh(x),
        lambda ns, x, out, up: up / ns.hypot(x, 1),
        "d(asinh x)/dx = 1/√(x² + 1) = 1/hypot(x, 1), which cannot overflow",
        array_form=_numpy("arcsinh"),
        aliases=("arcsinh",),
    ),
    _unary_math(
        "acosh",
        lambda sp, x: sp.acosh(x),
        lambda ns, x, out, up: up / (ns.sqrt(x - 1) * ns.sqrt(x + 1)),
        "d(acosh x)/dx = 1/(√(x - 1)·√(x + 1)), infinite at x = 1",
        array_form=_numpy("arccosh"),
        aliases=("arccosh",),
    ),
    _unary_math(
        "atanh",
        lambda sp, x: sp.atanh(x),
        lambda ns, x, out, up: up / ((1 - x) * (1 + x)),
        "d(atanh x)/dx = 1/(1 - x²)",
        array_form=_numpy("arctanh"),
        aliases=("arctanh",),
    ),
    _unary_math(
        "log2",
        lambda sp, x: sp.log(x, 2),
        lambda ns, x, out, up: up / (x * ns.log(2)),
        "d(log₂ x)/dx = 1/(x·log 2)",
    ),
    _unary_math(
        "log10",
        lambda sp, x: sp.log(x, 10),
        lambda ns, x, out, up: up / (x * ns.log(10)),
        "d(log₁₀ x)/dx = 1/(x·log 10)",
    ),
    _unary_math(
        "exp2",
        lambda sp, x: 2**x,
        lambda ns, x, out, up: out * ns.log(2) * up,
        "d(2^x)/dx = 2^x·log 2, from the gate's own output",
    ),
    _unary_math(
        "cbrt",
        lambda sp, x: sp.real_root(x, 3),
        lambda ns, x, out, up: up / (3 * out * out),
        "d(∛x)/dx = 1/(3∛x²), from the gate's own output; infinite at x = 0",
        kink=abs,
    ),
    Gate(
        name="hypot",
        arity=2,
        notation=_function("hypot"),
        float_form=_math("hypot"),
        array_form=_numpy("hypot"),
        evaluate=math.hypot,
        sympy=lambda sp, a, b: sp.sqrt(a**2 + b**2),
        rules=(
            lambda ns, a, b, out, up: ns.unit(a, out) * up,
            lambda ns, a, b, out, up: ns.unit(b, out) * up,
        ),
        explanation="hypot(a, b) = √(a² + b²): its gradient a/hypot, b/hypot is 0 at (0, 0)",
        kink=math.hypot,
    ),
    _unary_math(
        "erf",
        lambda sp, x: sp.erf(x),
        lambda ns, x, out, up: 2 / math.sqrt(math.pi) * ns.exp(-(x * x)) * up,
        "the error function; d(erf x)/dx = (2/√π)·e^(-x²)",
        array_form=_runtime("erf_array"),
    ),
    _unary_math(
        "erfc",
        lambda sp, x: sp.erfc(x),
        lambda ns, x, out, up: -2 / math.sqrt(math.pi) * ns.exp(-(x * x)) * up,
        "erfc x = 1 - erf x, accurate near erf x = 1; d(erfc x)/dx = -(2/√π)·e^(-x²)",
        array_form=_runtime("erfc_array"),
    ),
    _step(
        "floor",
        lambda sp, x: sp.floor(x),
        "⌊x⌋ steps at each integer: its gradient is 0, taken as 0 at the steps too",
        _distance_to_integer,
    ),
    _step(
        "ceil",
        lambda sp, x: sp.ceiling(x),
        "⌈x⌉ steps at each integer: its gradient is 0, taken as 0 at the steps too",
        _distance_to_integer,
    ),
    _step(
        "sign",
        lambda sp, x: sp.sign(x),
        "sign(x) is -1, 0 or 1, the local gradient of abs; its own gradient is 0, at 0 too",
        abs,
    ),
    _unary_math(
        "sigmoid",
        lambda sp, x: 1 / (1 + sp.exp(-x)),
        lambda ns, x, out, up: (1 - out) * out * up,
        "the sigmoid gate's local gradient is (1-σ)σ, from its own output σ",
        float_form=Staged(
            (
                "if {0} >= 0.0:",
                "    {out} = 1.0 / (1.0 + exp(-{0}))",
                "else:",
                "    {scratch} = exp({0})",
                "    {out} = {scratch} / (1.0 + {scratch})",
            ),
            imports=(("math", "exp"),),
        ),
        array_form=_runtime("sigmoid_array"),
        evaluate=runtime.sigmoid,
        replaces=(("div", 1.0, ("add", 1.0, ("exp", ("neg", "t")))),),
    ),
    _unary_math(
        "relu",
        lambda sp, x: sp.Max(x, 0),
        lambda ns, x, out, up: ns.where(ns.gt(x, 0), up, 0),
        "the relu gate passes the gradient where its input is positive and blocks it elsewhere",
        float_form=_runtime("relu"),
        array_form=_runtime("relu_array"),
        evaluate=runtime.relu,
        kink=abs,
    ),
    _unary_math(
        "abs",
        lambda sp, x: sp.Abs(x),
        lambda ns, x, out, up: ns.sign(x) * up,
        "d|x|/dx = sign(x), taken as 0 at x = 0",
        float_form=_math("fabs"),
        evaluate=abs,
        kink=abs,
    ),
    _unary_math(
        "softplus",
        lambda sp, x: sp.log(1 + sp.exp(x)),
        lambda ns, x, out, up: ns.sigmoid(x) * up,
        "d log(1+e^x)/dx = σ(x)",
        float_form=_runtime("softplus"),
        array_form=_runtime("softplus_array"),
        evaluate=runtime.softplus,
        replaces=(("log", ("add", 1.0, ("exp", "t"))),),
    ),
    _unary_math(
        "log1p",
        lambda sp, x: sp.log(1 + x),
        lambda ns, x, out, up: up / (1 + x),
        "d log(1+x)/dx = 1/(1+x)",
        replaces=(("log", ("add", 1.0, "t")),),
    ),
    _unary_math(
        "expm1",
        lambda sp, x: sp.exp(x) - 1,
        lambda ns, x, out, up: ns.exp(x) * up,
        "d(e^x - 1)/dx = e^x (not the output plus one, which cancels for x < 0)",
        replaces=(("sub", ("exp", "t"), 1.0),),
    ),
    Gate(
        name="logaddexp",
        arity=2,
        notation=_function("logaddexp"),
        float_form=_runtime("logaddexp"),
        array_form=_numpy("logaddexp"),
        evaluate=runtime.logaddexp,
        sympy=lambda sp, a, b: sp.log(sp.exp(a) + sp.exp(b)),
        rules=(
            lambda ns, a, b, out, up: ns.sigmoid(a - b) * up,
            lambda ns, a, b, out, up: ns.sigmoid(b - a) * up,
        ),
        explanation="log(e^a + e^b), a soft maximum; its local gradients σ(a-b), σ(b-a) sum to 1",
        commutative=True,
        replaces=(("log", ("add", ("exp", "a"), ("exp", "b"))),),
    ),
    Gate(
        name="max",
        arity=2,
        notation=_function("max"),
        float_form=_runtime("maximum"),
        array_form=_numpy("maximum"),
        evaluate=runtime.maximum,
        sympy=lambda sp, a, b: sp.Max(a, b),
        rules=(
            lambda ns, a, b, out, up: ns.where(ns.ge(a, b), up, 0),
            lambda ns, a, b, out, up: ns.where(ns.ge(a, b), 0, up),
        ),
        explanation="the max gate routes the gradient to the larger input, the first on a tie",
        pattern=ROUTES,
        variadic=True,
        keywords=("axis",),
        one_argument="amax",
        kink=lambda a, b: abs(a - b),
    ),
    Gate(
        name="min",
        arity=2,
        notation=_function("min"),
        float_form=_runtime("minimum"),
        array_form=_numpy("minimum"),
        evaluate=runtime.minimum,
        sympy=lambda sp, a, b: sp.Min(a, b),
        rules=(
            lambda ns, a, b, out, up: ns.where(ns.ge(b, a), up, 0),
            lambda ns, a, b, out, up: ns.where(ns.ge(b, a), 0, up),
        ),
        explanation="the min gate routes the gradient to the smaller input, the first on a tie",
        pattern=ROUTES,
        variadic=True,
        keywords=("axis",),
        one_argument="amin",
        kink=lambda a, b: abs(a - b),
    ),
    # Array gates: matrix product, transpose, reductions.  Their rules read static shapes from
    # the namespace (`ns.shape(x)`), which the graph builder knows once inputs' shapes are given.
    Gate(
        name="matmul",
        arity=2,
        notation=Infix("@", 12),
        float_form=Infix("@", 12),
        array_form=Infix("@", 12),
        evaluate=operator.matmul,
        sympy=lambda sp, a, b: a * b,
        rules=(
            lambda ns, a, b, out, up: _matmul_left(ns, a, b, up),
            lambda ns, a, b, out, up: _matmul_right(ns, a, b, up),
        ),
        explanation="the matrix product: dA = up · Bᵀ and dB = Aᵀ · up, never a Jacobian",
        callable=False,
        shape=lambda a, b: _matmul_shape(a, b),
    ),
    Gate(
        name="transpose",
        arity=1,
        notation=Suffix(".T"),
        float_form=_numpy("transpose"),
        array_form=_numpy("transpose"),
        evaluate=np.transpose,
        sympy=lambda sp, a: a,
        rules=(lambda ns, a, out, up: ns.transpose(up),),
        explanation="the transpose: its gradient is the upstream gradient transposed",
        callable=False,
        shape=lambda a: tuple(reversed(a)),
        view=True,
    ),
    _reduction(
        "sum",
        np.sum,
        lambda ns, x, out, up, axis=None: ns.expand_to(up, x, axis=axis),
        "the sum gate distributes the gradient to every element it adds",
        pattern=DISTRIBUTES,
    ),
    _reduction(
        "mean",
        np.mean,
        lambda ns, x, out, up, axis=None: ns.expand_to(up, x, axis=axis) / _count(ns, x, axis),
        "the mean gate gives every element an equal share of the gradient",
    ),
    _reduction(
        "amax",
        np.max,
        lambda ns, x, out, up, axis=None: _extremum_rule(ns, x, out, up, axis),
        "the max reduction routes the gradient to the largest elements (split evenly on a tie)",
        pattern=ROUTES,
        notation=_function("max"),
        callable_by_name=False,
    ),
    _reduction(
        "amin",
        np.min,
        lambda ns, x, out, up, axis=None: _extremum_rule(ns, x, out, up, axis),
        "the min reduction routes the gradient to the smallest elements (split evenly on a tie)",
        pattern=ROUTES,
        notation=_function("min"),
        callable_by_name=False,
    ),
    _reduction(
        "logsumexp",
        runtime.logsumexp,
        # The softmax of x, shifted by its own maximum: not e^(x - out), whose x - out loses
        # the digits of log Σ e^(x - max) when x is large (at x = (1e16, 1e16) it would give 1, 1).
        lambda ns, x, out, up, axis=None: ns.softmax(x, axis=axis) * ns.expand_to(up, x, axis=axis),
        "log Σ exp, computed stably; its local gradient is the softmax of its input",
        array_form=_runtime("logsumexp"),
    ),
    Gate(
        name="softmax",
        arity=1,
        notation=_function("softmax"),
        float_form=_runtime("softmax"),
        array_form=_runtime("softmax"),
        evaluate=runtime.softmax,
        sympy=lambda sp, x: sp.Integer(1),
        rules=(
            lambda ns, x, out, up, axis=None: (
                out * (up - ns.expand_to(ns.sum(up * out, axis=axis), x, axis=axis))
            ),
        ),
        explanation="softmax: its gradient is s ⊙ (up − Σ up ⊙ s), never the Jacobian",
        shape=lambda x, axis=None: _checked_axis(x, axis) and x,
        keywords=("axis",),
    ),
    Gate(
        name="norm",
        arity=1,
        notation=_function("norm"),
        float_form=_runtime("norm"),
        array_form=_runtime("norm"),
        evaluate=runtime.norm,
        sympy=lambda sp, x: sp.Abs(x),
        rules=(lambda ns, x, out, up: ns.unit(x, out) * up,),
        explanation="the L2 norm ‖x‖: its gradient is x / ‖x‖ (0 at x = 0, as abs′(0) = 0)",
        shape=lambda x: (),
    ),
    Gate(
        name="vdot",
        arity=2,
        notation=_function("vdot"),
        float_form=_runtime("vdot"),
        array_form=_runtime("vdot"),
        evaluate=runtime.vdot,
        sympy=lambda sp, a, b: a * b,
        rules=(lambda ns, a, b, out, up: b * up, lambda ns, a, b, out, up: a * up),
        explanation="vdot(a, b) = Σ a ⊙ b: each input's local gradient is the other, as in mul",
        pattern=SWITCHES,
        replaces=(
            ("sum", ("mul", "a", "b")),
            Replacement(("sum", ("pow", "a", 2.0)), ("a", "a")),
        ),
        replaced_how="in one pass",
        shape=lambda a, b: broadcast_shape(a, b) and (),
    ),
    Gate(
        name="pick",
        arity=2,
        notation=_function("pick"),
        float_form=_runtime("pick"),
        array_form=_runtime("pick"),
        evaluate=runtime.pick,
        sympy=lambda sp, scores, labels: scores,
        rules=(lambda ns, scores, labels, out, up: ns.pick_gradient(up, labels, scores), None),
        explanation="pick(S, y)[i] = S[i, y[i]]: the gradient goes to the picked entries only",
        shape=lambda scores, labels: _pick_shape(scores, labels),
        index_arguments=(1,),
    ),
    # Internal gates: they appear only in backward passes, to route the non-smooth gates.
    Gate(
        name="ge",
        arity=2,
        notation=Infix(">=", 6),
        float_form=Infix(">=", 6),
        array_form=Infix(">=", 6),
        evaluate=operator.ge,
        sympy=lambda sp, a, b: sp.Ge(a, b),
        rules=(),
        explanation="a >= b, to decide where a max or min gate routes the gradient",
        callable=False,
        internal=True,
    ),
    Gate(
        name="gt",
        arity=2,
        notation=Infix(">", 6),
        float_form=Infix(">", 6),
        array_form=Infix(">", 6),
        evaluate=operator.gt,
        sympy=lambda sp, a, b: sp.Gt(a, b),
        rules=(),
        explanation="a > b, to decide where a relu gate passes the gradient",
        callable=False,
        internal=True,
    ),
    Gate(
        name="where",
        arity=3,
        notation=Conditional(),
        float_form=Conditional(),
        array_form=_numpy("where"),
        evaluate=lambda condition, a, b: a if condition else b,
        sympy=lambda sp, condition, a, b: sp.Piecewise((a, condition), (b, True)),
        rules=(),
        explanation="a if the condition holds, else b: routes a gradient",
        callable=False,
        internal=True,
    ),
    Gate(
        name="eq",
        arity=2,
        notation=Infix("==", 6),
        float_form=Infix("==", 6),
        array_form=Infix("==", 6),
        evaluate=operator.eq,
        sympy=lambda sp, a, b: sp.Eq(a, b),
        rules=(),
        explanation="a == b, to find where a max or min reduction is attained",
        callable=False,
        internal=True,
    ),
    Gate(
        name="expand_to",
        arity=2,
        notation=_function("expand_to"),
        float_form=_runtime("expand_to"),
        array_form=_runtime("expand_to"),
        evaluate=runtime.expand_to,
        sympy=lambda sp, value, like: value,
        rules=(),
        explanation="a reduced gradient spread back over the axes the reduction removed",
        callable=False,
        internal=True,
        shape=lambda value, like, axis=None: like,
        keywords=("axis",),
        view=True,
        fills=True,
    ),
    _to_shape(
        "fill",
        runtime.fill,
        "a value spread over a larger shape: the value times an array of ones",
    ),
    _to_shape(
        "sum_to_shape",
        runtime.sum_to_shape,
        "a broadcast input's gradient: summed over the axes NumPy stretched",
    ),
    Gate(
        name="outer",
        arity=2,
        notation=_function("outer"),
        float_form=_numpy("outer"),
        array_form=_numpy("outer"),
        evaluate=np.outer,
        sympy=lambda sp, a, b: a * b,
        rules=(),
        explanation="the outer product, for a matrix-vector product's matrix gradient",
        callable=False,
        internal=True,
        shape=lambda a, b: (_size(a), _size(b)),
    ),
    Gate(
        name="xlogy",
        arity=2,
        notation=_function("xlogy"),
        float_form=_runtime("xlogy"),
        array_form=_runtime("xlogy_array"),
        evaluate=runtime.xlogy,
        sympy=lambda sp, x, y: x * sp.log(y),
        rules=(),
        explanation="x·log(y), taken as 0 where x = 0: the exponent's gradient of a power",
        callable=False,
        internal=True,
    ),
    Gate(
        name="unit",
        arity=2,
        notation=_function("unit"),
        float_form=_runtime("unit"),
        array_form=_runtime("unit_array"),
        evaluate=runtime.unit,
        sympy=lambda sp, x, length: x / length,
        rules=(),
        explanation="x / length, taken as 0 where the length is 0: the gradient of norm and hypot",
        callable=False,
        internal=True,
    ),
    Gate(
        name="pick_gradient",
        arity=3,
        notation=_function("pick_gradient"),
        float_form=_runtime("pick_gradient"),
        array_form=_runtime("pick_gradient"),
        evaluate=runtime.pick_gradient,
        sympy=lambda sp, up, labels, like: up,
        rules=(),
        explanation="zeros shaped like the scores, with the upstream gradient at the picks",
        callable=False,
        internal=True,
        shape=lambda up, labels, like: like,
    ),
)

GATES: dict[str, Gate] = {gate.name: gate for gate in _GATE_LIST}
"""Every gate by name: the name is also the grammar alias, the IR op and the CLI label."""

FUNCTIONS: dict[str, Gate] = {name: gate for name, gate in GATES.items() if gate.callable}
"""The gates a user may call by name, as `exp(x)` or `max(a, b, c)`."""

ALIASES: dict[str, str] = {
    alias: gate.name for gate in FUNCTIONS.values() for alias in gate.aliases
}
"""The functions' other names, alias → gate name: NumPy's `arcsin` for `asin` ..., so formulas
copied from NumPy or JAX compile as they are.  An alias calls the very same gate."""

CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}
"""Named constants of the language."""

RESERVED: frozenset[str] = frozenset(FUNCTIONS) | frozenset(ALIASES) | frozenset(CONSTANTS)
"""Names a user may not bind or use as inputs."""


def function_gate(name: str) -> Gate | None:
    """The gate a call `name(...)` means, by the function's name or an alias; None if none."""
    return FUNCTIONS.get(ALIASES.get(name, name))


NEGATE = "neg"
"""The gate the builder uses when an identity turns a product into a negation."""

FILL = "fill"
"""The gate the builder uses when a product with an array of ones only broadcasts a value."""


class GateNamespace:
    """Gives rules `ns.exp(x)`, `ns.where(c, a, b)` ... for any way of applying a gate.

    `apply(gate_name, args)` decides what a gate application is: a graph node when the backward
    pass is built, a SymPy expression in the tests, a float when a rule is evaluated.
    """

    def __init__(
        self,
        apply: Callable[..., Any],
        shape: Callable[[Any], tuple[int, ...]] | None = None,
    ) -> None:
        self._apply = apply
        self._shape = shape

    def shape(self, value: Any) -> tuple[int, ...]:
        """The static shape of a value, for rules that depend on it (the matrix product's)."""
        if self._shape is None:
            raise TypeError("this namespace knows no shapes")
        return self._shape(value)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name not in GATES:
            raise AttributeError(name)
        apply = self._apply
        return lambda *args, **params: apply(name, args, **params) if params else apply(name, args)
