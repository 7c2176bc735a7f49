"""The gate registry: everything symbackprop knows about each operation, in one entry per gate.

An entry says how the gate is written in the language, how generated code computes it with floats
(`math`) and with NumPy arrays, its float reference implementation (for constant folding and
explanations), its SymPy form, one local-gradient rule per input, its algebraic identities, and a
sentence that explains it.  Adding a function means adding one entry here (and, for a new
operator, one grammar line).  Imports only `math`, `operator` and `runtime`.

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
class Conditional:
    """`a if condition else b` for a gate whose inputs are (condition, a, b)."""

    precedence: int = 1


Form = Infix | Prefix | Call | Conditional

ATOM_PRECEDENCE = 16  # names, literals and calls never need parentheses

# Patterns of the backward flow, in the lecture's words.
DISTRIBUTES = "distributes"
SWITCHES = "switches"
ROUTES = "routes"

Rule = Callable[..., Any]

Pattern = tuple[Any, ...]
"""A naive formula a stable gate replaces: `(gate, *operands)`, where an operand is a pattern, a
variable name (`"t"`) or a float constant.  `("log", ("add", 1.0, ("exp", "t")))` is
log(1 + e^t); operands of commutative gates match in either order."""


@dataclass(frozen=True, slots=True)
class Gate:
    """One operation: its notation, code forms, reference implementation, SymPy form and rules.

    `callable` gates may be called by name in the language (`exp(x)`); `internal` gates only ever
    appear in backward passes (comparisons and selections for the non-smooth gates) and are never
    differentiated themselves.  `variadic` gates take two or more arguments and are folded left
    into binary gates (`max(a, b, c)` is `max(max(a, b), c)`).

    Identities let the graph builder drop trivial work: `identity` is the element `e` with
    `gate(x, e) == x` (and `gate(e, x) == x` too when `commutative`), `negating` the element with
    `gate(x, negating) == -x`, `absorbing` a pair `(c, r)` with `gate(x, c) == r` for every x
    (NaN and inf included), and an `involution` undoes itself (`--x == x`).

    `kink`, for a gate that is not differentiable everywhere, gives the distance from its inputs
    to the nearest point where it is not (`|x|` for relu), so gradient checks can stay away.

    `replaces` lists naive formulas that this gate computes stably; the rewrite stage substitutes
    the gate for them, binding the pattern's variables in order to the gate's inputs.
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
    replaces: tuple[Pattern, ...] = ()


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
    )


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
            lambda ns, a, b, out, up: b * a ** (b - 1) * up,
            lambda ns, a, b, out, up: out * ns.log(a) * up,
        ),
        explanation="d(a^b)/da = b·a^(b-1) and d(a^b)/db = a^b·log(a)",
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
        "tanh",
        lambda sp, x: sp.tanh(x),
        lambda ns, x, out, up: (1 - out * out) * up,
        "d(tanh x)/dx = 1 - tanh²x, from the gate's own output",
    ),
    _unary_math(
        "sigmoid",
        lambda sp, x: 1 / (1 + sp.exp(-x)),
        lambda ns, x, out, up: (1 - out) * out * up,
        "the sigmoid gate's local gradient is (1-σ)σ, from its own output σ",
        float_form=_runtime("sigmoid"),
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
        lambda ns, x, out, up: (out + 1) * up,
        "d(e^x - 1)/dx = e^x, from the gate's own output plus one",
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
        kink=lambda a, b: abs(a - b),
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
        name="sign",
        arity=1,
        notation=_function("sign"),
        float_form=_runtime("sign"),
        array_form=_numpy("sign"),
        evaluate=runtime.sign,
        sympy=lambda sp, x: sp.sign(x),
        rules=(),
        explanation="-1, 0 or 1 by the sign of x: the local gradient of abs",
        callable=False,
        internal=True,
    ),
)

GATES: dict[str, Gate] = {gate.name: gate for gate in _GATE_LIST}
"""Every gate by name: the name is also the grammar alias, the IR op and the CLI label."""

FUNCTIONS: dict[str, Gate] = {name: gate for name, gate in GATES.items() if gate.callable}
"""The gates a user may call by name, as `exp(x)` or `max(a, b, c)`."""

CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}
"""Named constants of the language."""

RESERVED: frozenset[str] = frozenset(FUNCTIONS) | frozenset(CONSTANTS)
"""Names a user may not bind or use as inputs."""

NEGATE = "neg"
"""The gate the builder uses when an identity turns a product into a negation."""


class GateNamespace:
    """Gives rules `ns.exp(x)`, `ns.where(c, a, b)` ... for any way of applying a gate.

    `apply(gate_name, args)` decides what a gate application is: a graph node when the backward
    pass is built, a SymPy expression in the tests, a float when a rule is evaluated.
    """

    def __init__(self, apply: Callable[[str, tuple[Any, ...]], Any]) -> None:
        self._apply = apply

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name not in GATES:
            raise AttributeError(name)
        apply = self._apply
        return lambda *args: apply(name, args)
