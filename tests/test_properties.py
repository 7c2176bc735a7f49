"""Property-based tests over the whole language, with hypothesis.

1. Compiled values and gradients agree with SymPy and with centered finite differences at random
   points, for random programs (tests/strategies.py) whose SymPy meaning is built by the strategy
   itself, independently of the code under test.
2. `to_text` round-trips: the canonical text lowers to the same gate graph.
3. Fuzz: on arbitrary text, `compile` succeeds or raises `SymbackpropError`, never anything else
   and never hangs; a compiled function called at 0.5 returns a float or raises
   `SymbackpropError`.

Each property runs 300 derandomized examples by default and 10,000 random ones in its
`@pytest.mark.slow` twin (`python -m pytest -m slow tests/test_properties.py`).

How the SymPy property decides what to compare.  For each point, every node of the program
(unused bindings included) is evaluated with mpmath from the SymPy form of its gate, with the
gate's local partial derivatives (SymPy's `diff`; the derivatives of the steps floor, ceil and
sign, which SymPy writes as DiracDelta or leaves unevaluated, are 0 at every point compared).  A
point is skipped when any node or needed partial is not a finite real number or is huge, when it
lies within float rounding of a domain boundary (`log`, `sqrt`, `log1p`, division, a power of a
non-positive base, `asin` ...), or within 1e-3 of a kink of relu, abs, max, min, hypot, floor,
ceil or sign, or of atan2's branch cut.  Inside that domain the compiled function must not
raise.  The reference is SymPy's value and `diff` of the whole program, evaluated with mpmath at
a precision raised until it settles.  The tolerance is 1e-6 relative plus an absolute floor from a
first-order bound on float roundoff, propagated node by node (`_Analysis.magnitude` for the
value, `_Analysis.gradient_floor` for each gradient); so cancellation (x + 1e10 - 1e10) or an
ill-conditioned gate (sin of 1e8) widens the tolerance only as much as floats need.  Finite
differences take steps h/2, h and 2h: the compiled gradient must agree with the h quotient to
1e-4 relative plus three times the spread of the three quotients (truncation) plus roundoff;
where the quotients disagree by more than 1%, or a kink or pole lies between the points,
differences say nothing and are not compared.
"""

from __future__ import annotations

import contextlib
import functools
import signal
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import (
    CALLABLE,
    GATE_SYMPY,
    NONSMOOTH,
    UNARY_SYMPY,
    GeneratedProgram,
    Node,
    deep_nestings,
    mutations,
    programs,
    token_soups,
    truncations,
)
from sympy.printing.pycode import MpmathPrinter

import symbackprop
from symbackprop import EvaluationError, SymbackpropError, format_graph, lower, parse, to_text
from symbackprop.gates import FUNCTIONS

# ---------------------------------------------------------------------------------------------
# Settings: a derandomized profile for CI, and 10,000-example slow twins.

settings.register_profile(
    "symbackprop-properties",
    max_examples=300,
    derandomize=True,
    database=None,
    deadline=2000,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
DEFAULT = settings.get_profile("symbackprop-properties")
SLOW = settings(DEFAULT, max_examples=10_000, derandomize=False)

SYMPY_DEFAULT = settings(DEFAULT, deadline=None)
SYMPY_SLOW = settings(SLOW, deadline=None)

# The parser and its tables are built on first use; do that before any deadline is running.
symbackprop.compile("x")

# ---------------------------------------------------------------------------------------------
# The reference: every node of a generated program evaluated with mpmath from its SymPy form.

DIGITS = 30
CAP = 1e25  # larger values and partials are skipped: their products could overflow floats
KINK_MARGIN = 1e-3
DOMAIN_MARGIN = 1e-9  # relative to a node's roundoff magnitude
ROUNDOFF = 1e-11  # absolute floor per unit of roundoff magnitude (≈ 5·10⁴ ulps)
RTOL = 1e-6
FD_RTOL = 1e-4
UNDERFLOW = 1e-300  # absolute floor: below it floats are subnormal or underflow to zero


class OutsideDomain(Exception):
    """The point is not one where the program and its gradient are defined, finite and smooth."""


def _real(value: Any) -> mpmath.mpf:
    """`value` as a finite real mpf, or OutsideDomain."""
    number = mpmath.mpmathify(value)
    if not isinstance(number, mpmath.mpf) or not mpmath.isfinite(number):
        raise OutsideDomain(value)
    return number


def _magnitude(value: Any, weight: float) -> float:
    """|value|·weight as a float; a non-real value only counts when its weight is zero."""
    if weight == 0:
        return 0.0
    return float(abs(_real(value))) * weight


# SymPy's printers turn Heaviside into a Piecewise, whose construction can take minutes (it
# looks for periods of trigonometric conditions); an opaque function prints as a plain call.
_STEP = sp.Function("step_")
MPMATH = [{"step_": lambda t: mpmath.mpf(1 if t > 0 else 0.5 if t == 0 else 0)}, "mpmath"]
# lambdify's own printer settings, but terms left unordered: ordering evaluates numeric terms,
# which for exp(exp(400)) takes SymPy minutes.  And cot, sec and csc printed as mpmath's own:
# the printer would rewrite them as 1/tan, 1/cos and 1/sin, rewriting their argument too, where
# |atan2(x, -tanh x)| becomes the square root of a product with a complex conjugate, which
# mpmath's atan2 cannot take, and e^x becomes cosh x + sinh x, which cancels all its digits
# for large negative x (csc(log(e^4 + e^-210)) came out as −6.09 instead of −1.32).
_PRINTER = MpmathPrinter(
    {
        "fully_qualified_modules": False,
        "inline": True,
        "allow_unknown_functions": True,
        "user_functions": {"cot": "cot", "sec": "sec", "csc": "csc"},
        "order": "none",
    }
)


def _steps_flat(expression: Any) -> Any:
    """`expression` with the derivatives of steps set to 0, as they are away from the steps.

    SymPy writes sign's derivative as a DiracDelta (and so the real cube root's, |t|^(1/3)·sign t)
    and leaves floor's and ceiling's unevaluated, as `Derivative` or, after the chain rule,
    `Subs`; the points compared keep away from every step (`_side`).
    """
    expression = sp.sympify(expression).replace(sp.DiracDelta, lambda *args: sp.S.Zero)
    return expression.replace(
        lambda part: isinstance(part, (sp.Derivative, sp.Subs)) and part.has(sp.floor, sp.ceiling),
        lambda part: sp.S.Zero,
    )


def _lambdify(arguments: list[Any], results: Any) -> Any:
    """`sp.lambdify(arguments, results, "mpmath")`, quickly."""

    def plain(expression: Any) -> Any:
        if isinstance(expression, list):
            return [plain(item) for item in expression]
        return sp.sympify(expression).replace(sp.Heaviside, lambda t, *rest: _STEP(t))

    return sp.lambdify(arguments, plain(results), modules=MPMATH, printer=_PRINTER)


@functools.cache
def _gate_function(op: str) -> Any:
    """mpmath function of the gate's inputs → (value, first partials, second partials)."""
    arity = 1 if op in UNARY_SYMPY or op == "neg" else 2
    args = sp.symbols(f"a0:{arity}", real=True)
    value = GATE_SYMPY[op](*args)
    firsts = [sp.powsimp(_steps_flat(sp.diff(value, arg))) for arg in args]
    if op in NONSMOOTH:  # piecewise linear: second derivatives vanish away from the kink
        seconds = [[0] * arity for _ in range(arity)]
    else:
        seconds = [[_steps_flat(sp.diff(first, arg)) for arg in args] for first in firsts]
    return _lambdify(list(args), [value, firsts, seconds])


def _constant_value(node: Node) -> mpmath.mpf:
    return mpmath.mpmathify(str(sp.N(node.expr, DIGITS + 10)))


@dataclass
class _Analysis:
    """Node values at one point, and the magnitudes that bound float roundoff."""

    values: dict[Node, mpmath.mpf]
    magnitude: dict[Node, float]  # first-order roundoff bound of each value, in units of eps
    sides: dict[Node, int]  # the side of each kink and pole (for floor, the step's number)
    gradient: dict[Node, dict[str, mpmath.mpf]]
    gradient_floor: dict[Node, dict[str, float]]


def _analyze(nodes: Sequence[Node], point: dict[str, float], gradients: bool) -> _Analysis:
    """Evaluate every node at `point`; raise OutsideDomain where the comparison is meaningless."""
    values: dict[Node, mpmath.mpf] = {}
    magnitude: dict[Node, float] = {}
    sides: dict[Node, int] = {}
    gradient: dict[Node, dict[str, mpmath.mpf]] = {}
    floor: dict[Node, dict[str, float]] = {}
    with mpmath.workdps(DIGITS):
        for node in nodes:
            if node.op == "input":
                value = mpmath.mpf(point[node.name])
                values[node], magnitude[node] = value, float(abs(value))
                gradient[node], floor[node] = {node.name: mpmath.mpf(1)}, {node.name: 1.0}
                continue
            if node.op == "const":
                value = _constant_value(node)
                values[node] = value
                magnitude[node] = 0.0 if node.exact else float(abs(value))
                gradient[node], floor[node] = {}, {}
                continue
            children = node.children
            arguments = [values[child] for child in children]
            try:
                value, firsts, seconds = _gate_function(node.op)(*arguments)
            except (ArithmeticError, ValueError, TypeError) as error:
                raise OutsideDomain(node.op) from error
            value = _real(value)
            if abs(value) > CAP:
                raise OutsideDomain("huge")
            _check_domain(node, arguments, magnitude)
            weights = [magnitude[child] for child in children]
            partials = []
            for child, first in zip(children, firsts, strict=True):
                if child.varying:
                    partial = _real(first)
                    if abs(partial) > CAP:
                        raise OutsideDomain("huge partial")
                    partials.append(partial)
                else:
                    partials.append(None)
            # first order: |∂gate/∂child|·error(child); second order, for a partial that
            # vanishes at the exact point but not at the rounded one (q·q with q = sin(pi)):
            # |∂²gate/∂child∂other|·error(other)·error(child), errors taken as ROUNDOFF·weight
            magnitude[node] = float(abs(value)) + sum(
                _magnitude(first, weight) for first, weight in zip(firsts, weights, strict=True)
            )
            magnitude[node] += sum(
                _magnitude(second, ROUNDOFF * weight * other)
                for row, weight in zip(seconds, weights, strict=True)
                for second, other in zip(row, weights, strict=True)
            )
            side = _side(node, arguments, weights)
            if side is not None:
                sides[node] = side
            values[node] = value
            if not gradients:
                continue
            gradient[node], floor[node] = {}, {}
            for position, child in enumerate(children):
                partial = partials[position]
                if partial is None:
                    continue
                # roundoff in the local partial: its own, and from its inputs' roundoff
                error = 2 * float(abs(partial)) + 1.0
                error += sum(
                    _magnitude(second, weight)
                    for second, weight in zip(seconds[position], weights, strict=True)
                )
                # ... and, second order, the two errors together: where both the partial and
                # the slope vanish at the exact point but not in floats (cos(sin(pi)·x) by x
                # is sin(pi)² = 1.5e-32 in floats, exactly 0 for SymPy)
                for name, slope in gradient[child].items():
                    gradient[node][name] = gradient[node].get(name, 0) + partial * slope
                    floor[node][name] = (
                        floor[node].get(name, 0.0)
                        + float(abs(partial)) * floor[child][name]
                        + error * float(abs(slope))
                        + ROUNDOFF * error * floor[child][name]
                    )
    return _Analysis(values, magnitude, sides, gradient, floor)


def _margin(weight: float) -> float:
    return DOMAIN_MARGIN * (1.0 + weight)


def _check_domain(node: Node, arguments: list[mpmath.mpf], magnitude: dict[Node, float]) -> None:
    """Stay clear of domain boundaries by more than float roundoff could move an argument."""
    op = node.op
    weights = [magnitude[child] for child in node.children]
    if op == "div" and abs(arguments[1]) <= _margin(weights[1]):
        raise OutsideDomain("division by almost zero")
    if op in ("log", "sqrt", "log2", "log10") and arguments[0] <= _margin(weights[0]):
        raise OutsideDomain(f"{op} of almost zero or less")
    if op in ("asin", "acos", "atanh") and 1 - abs(arguments[0]) <= _margin(weights[0]):
        raise OutsideDomain(f"{op} of almost ±1 or beyond")
    if op == "acosh" and arguments[0] - 1 <= _margin(weights[0]):
        raise OutsideDomain("acosh of almost 1 or less")
    if op == "log1p" and 1 + arguments[0] <= _margin(weights[0]):
        raise OutsideDomain("log1p of almost -1 or less")
    if op == "pow" and arguments[0] <= _margin(weights[0]):
        exponent = node.children[1]
        if exponent.varying or not exponent.exact:
            raise OutsideDomain("power of a non-positive base")


def _side(node: Node, arguments: list[mpmath.mpf], weights: list[float]) -> int | None:
    """Which side of a kink, a step or a pole a gate is on (OutsideDomain when too close to a
    kink or a step).

    Finite differences across a kink or a pole (1/x with steps either side of 0) mean nothing.
    """
    op = node.op
    if op in ("relu", "abs", "sign"):
        distance, weight = arguments[0], weights[0]
    elif op in ("max", "min"):
        distance, weight = arguments[0] - arguments[1], weights[0] + weights[1]
    elif op == "hypot":  # a cone at the origin
        distance, weight = mpmath.hypot(*arguments), weights[0] + weights[1]
    elif op == "atan2":  # jumps by 2π across y = 0 for x < 0; a cone at the origin
        y, x = arguments
        distance = y if x < 0 else mpmath.hypot(x, y)
        weight = weights[0] if x < 0 else weights[0] + weights[1]
    elif op in ("floor", "ceil"):  # a step at each integer; the side is the step's number
        step = mpmath.nint(arguments[0])
        _clear_of_kink(node, arguments[0] - step, weights[0])
        return int(mpmath.floor(arguments[0]))
    elif op == "div":
        return bool(arguments[1] > 0)
    elif op in ("pow", "cbrt"):  # cbrt′ = 1/(3∛x²) has a pole at 0
        return bool(arguments[0] > 0)
    elif op in ("tan", "sec"):
        return bool(mpmath.cos(arguments[0]) > 0)
    elif op in ("csc", "cot"):
        return bool(mpmath.sin(arguments[0]) > 0)
    else:
        return None
    _clear_of_kink(node, distance, weight)
    return bool(distance > 0)


def _clear_of_kink(node: Node, distance: mpmath.mpf, weight: float) -> None:
    """OutsideDomain unless the gate's input is further than float rounding and 1e-3 from it."""
    if abs(distance) <= max(KINK_MARGIN, DOMAIN_MARGIN * weight):
        raise OutsideDomain(f"near the kink of {node.op}")


def _sympy_reference(program: GeneratedProgram) -> Any:
    """SymPy's value and derivatives of the whole program, as one mpmath function."""
    symbols = [program.symbols[name] for name in program.inputs]
    try:
        derivatives = [_steps_flat(sp.diff(program.expr, symbol)) for symbol in symbols]
        results = [program.expr, *derivatives]
        if any(result.has(sp.zoo, sp.nan, sp.oo, -sp.oo) for result in results):
            raise OutsideDomain("SymPy finds the program undefined or infinite everywhere")
        return _lambdify(symbols, results), [result == 0 for result in results]
    except (ArithmeticError, ValueError, TypeError, NotImplementedError, RecursionError) as error:
        # SymPy's assumption system recurses once per level of a deep product or power; a
        # rare deep random program exhausts Python's stack there (seen once in 10,000).
        raise OutsideDomain("SymPy cannot differentiate the program") from error


def _evaluate_reference(reference: Any, coordinates: list[float]) -> list[float]:
    """SymPy's value and derivatives at a point, to about 12 digits.

    mpmath works at a fixed precision, and a formula such as log(1 + e^-63), or e^y - 1 at
    y = 1e-243, cancels many digits away; so the precision starts above what the smallest
    coordinate needs and grows until two evaluations agree.  A zero that is not SymPy's exact 0
    may be such a cancellation: it must survive 450 more digits.
    """
    function, exact_zeros = reference
    tiny = [-mpmath.log10(abs(value)) for value in coordinates if value]
    start = DIGITS + int(max(0, *tiny)) if tiny else DIGITS
    previous: list[mpmath.mpf] | None = None
    ladder = [start + extra for extra in (0, DIGITS, 3 * DIGITS, 7 * DIGITS, 15 * DIGITS)]
    for digits in ladder:
        with mpmath.workdps(digits):
            try:
                results = function(*(mpmath.mpf(value) for value in coordinates))
            except (ArithmeticError, ValueError, TypeError) as error:
                raise OutsideDomain("SymPy's expression cannot be evaluated") from error
            results = [_real(result) for result in results]
            settled = previous is not None and all(
                abs(result - before) <= 1e-13 * abs(result)
                for result, before in zip(results, previous, strict=True)
            )
            doubtful = any(
                not result and not exact for result, exact in zip(results, exact_zeros, strict=True)
            )
            if settled and (digits == ladder[-1] or not doubtful):
                return [float(result) for result in results]
        previous = results
    raise OutsideDomain("SymPy's value does not settle as the precision grows")


# ---------------------------------------------------------------------------------------------
# Property: compiled value and gradients agree with SymPy and with finite differences.

COORDINATE = st.floats(-4.0, 4.0, allow_nan=False, allow_infinity=False)
POINTS = st.lists(st.lists(COORDINATE, min_size=4, max_size=4), min_size=3, max_size=3)


def _close(actual: float, expected: float, tolerance: float) -> bool:
    return abs(actual - expected) <= tolerance


def check_against_references(program: GeneratedProgram, points: list[list[float]]) -> None:
    """Compare both compilations (stable rewrites on and off) with the references."""
    functions = [symbackprop.compile(program.text, rewrite=rewrite) for rewrite in (True, False)]
    for function in functions:
        assert function.inputs == program.inputs
        assert function.wrt == program.inputs
    nodes = program.nodes()
    try:
        reference = _sympy_reference(program)
    except OutsideDomain:
        assume(False)
    checked = 0
    for coordinates in points:
        coordinates = coordinates[: len(program.inputs)]
        point = dict(zip(program.inputs, coordinates, strict=True))
        try:
            analysis = _analyze(nodes, point, gradients=True)
            expected_value, *expected_gradient = _evaluate_reference(reference, coordinates)
        except OutsideDomain:
            continue
        checked += 1
        output = program.output
        for function in functions:
            # Inside the domain: the compiled function must not raise.
            value, gradient = function(*coordinates)
            tolerance = RTOL * abs(expected_value) + ROUNDOFF * analysis.magnitude[output]
            assert _close(value, expected_value, tolerance + UNDERFLOW), (
                f"value at {point}: compiled {value!r}, SymPy {expected_value!r}"
            )
            assert list(gradient) == list(program.inputs)
            for name, expected in zip(program.inputs, expected_gradient, strict=True):
                floor = analysis.gradient_floor[output].get(name, 0.0)
                tolerance = RTOL * abs(expected) + ROUNDOFF * floor + UNDERFLOW
                assert _close(gradient[name], expected, tolerance), (
                    f"d/d{name} at {point}: compiled {gradient[name]!r}, SymPy {expected!r}"
                )
            _check_finite_differences(function, program, nodes, point, analysis, gradient)
    assume(checked > 0)


def _check_finite_differences(
    function: Any,
    program: GeneratedProgram,
    nodes: list[Node],
    point: dict[str, float],
    analysis: _Analysis,
    gradient: dict[str, float],
) -> None:
    """Centered differences with steps h/2, h and 2h, compared where they are trustworthy.

    Their spread bounds the truncation error.  Where they disagree by more than 1% the function
    turns too fast for these steps (cos(e^25 + x) at h = 1e-5) and nothing is compared: a
    chance agreement of three unresolved quotients is unlikely, of two it is not.  One case
    agrees all the same: a periodic gate whose argument turns through many periods across every
    step averages out alike in all three (q + cos(q) with q = e^(14+x), whose cos turns 12
    radians per step h) — so differences are compared only where each periodic gate's argument
    moves by less than 0.1 across the widest step.
    """
    for name in program.inputs:
        step = 1e-5 * max(1.0, abs(point[name]))
        if _outruns_a_period(nodes, analysis, name, 4 * step):
            continue
        quotients = _difference_quotients(function, program, nodes, point, analysis, name, step)
        if quotients is None:
            continue
        slopes, magnitude = quotients
        spread = max(slopes) - min(slopes)
        if spread > 1e-2 * max(abs(slope) for slope in slopes):
            continue
        slope = slopes[1]
        roundoff = 1e-12 * magnitude / (step / 2) + UNDERFLOW
        tolerance = FD_RTOL * max(abs(gradient[name]), abs(slope)) + 3 * spread + roundoff
        assert _close(gradient[name], slope, tolerance), (
            f"d/d{name} at {point}: compiled {gradient[name]!r}, finite differences {slope!r} "
            f"(steps {step / 2}, {step}, {2 * step} give {slopes})"
        )


PERIODIC = frozenset({"sin", "cos", "tan", "sec", "csc", "cot"})


def _outruns_a_period(nodes: list[Node], analysis: _Analysis, name: str, span: float) -> bool:
    """Does a periodic gate's argument move by 0.1 or more while `name` moves by `span`?"""
    return any(
        abs(analysis.gradient[node.children[0]].get(name, 0)) * span >= 0.1
        for node in nodes
        if node.op in PERIODIC
    )


def _difference_quotients(
    function: Any,
    program: GeneratedProgram,
    nodes: list[Node],
    point: dict[str, float],
    analysis: _Analysis,
    name: str,
    step: float,
) -> tuple[list[float], float] | None:
    """(f(x+kh) − f(x−kh)) / 2kh for k = 1/2, 1, 2, and the largest roundoff magnitude.

    None when a step leaves the domain or crosses a kink or a pole.
    """
    slopes = []
    magnitude = analysis.magnitude[program.output]
    for multiple in (0.5, 1, 2):
        above = {**point, name: point[name] + multiple * step}
        below = {**point, name: point[name] - multiple * step}
        try:
            for shifted in (above, below):
                nearby = _analyze(nodes, shifted, gradients=False)
                if nearby.sides != analysis.sides:
                    return None
                magnitude = max(magnitude, nearby.magnitude[program.output])
        except OutsideDomain:
            return None
        rise = function.value(**above) - function.value(**below)
        slopes.append(rise / (above[name] - below[name]))
    return slopes, magnitude


@SYMPY_DEFAULT
@given(programs(), POINTS)
def test_compiled_gradient_matches_sympy_and_finite_differences(
    program: GeneratedProgram, points: list[list[float]]
) -> None:
    check_against_references(program, points)


@pytest.mark.slow
@SYMPY_SLOW
@given(programs(), POINTS)
def test_compiled_gradient_matches_sympy_and_finite_differences_slow(
    program: GeneratedProgram, points: list[list[float]]
) -> None:
    check_against_references(program, points)


def test_generator_covers_every_function() -> None:
    """The program strategy calls every callable scalar gate of the registry, with its arity.

    Array gates (those that declare an output `shape`: reductions, `dot`, `pick` ...) take
    arrays and are outside the scalar language the strategy generates.
    """
    scalar = {
        name: gate for name, gate in FUNCTIONS.items() if getattr(gate, "shape", None) is None
    }
    assert frozenset(scalar) == CALLABLE
    for name, gate in scalar.items():
        assert gate.arity == (1 if name in UNARY_SYMPY else 2), name
        assert gate.variadic == (name in ("max", "min")), name


# ---------------------------------------------------------------------------------------------
# Property: to_text round-trips to the same gate graph.


def check_round_trip(program: GeneratedProgram) -> None:
    text = program.text
    canonical = to_text(text)
    assert format_graph(lower(parse(canonical))) == format_graph(lower(parse(text))), canonical
    assert to_text(canonical) == canonical


@DEFAULT
@given(programs(with_sympy=False))
def test_to_text_round_trips_to_the_same_graph(program: GeneratedProgram) -> None:
    check_round_trip(program)


@pytest.mark.slow
@SLOW
@given(programs(with_sympy=False))
def test_to_text_round_trips_to_the_same_graph_slow(program: GeneratedProgram) -> None:
    check_round_trip(program)


# ---------------------------------------------------------------------------------------------
# Property (fuzz): compile succeeds or raises SymbackpropError, on any text.

HANG_SECONDS = 10.0


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Fail, rather than hang, when the body runs longer than `seconds` (SIGALRM)."""

    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def compiles_or_rejects(text: str) -> None:
    with time_limit(HANG_SECONDS):
        try:
            function = symbackprop.compile(text)
        except SymbackpropError:
            return
        point = {name: 0.5 for name in function.inputs}
        try:
            value = function.value(**point)
        except SymbackpropError:
            pass
        else:
            assert isinstance(value, float)
        try:
            value, gradient = function(**point)
        except SymbackpropError:
            pass
        else:
            assert isinstance(value, float)
            assert list(gradient) == list(function.inputs)


FUZZ_SOURCES = {
    "text": st.text(),
    "token soup": token_soups(),
    "truncation": truncations(),
    "mutation": mutations(),
    "deep nesting": deep_nestings(),
}


@DEFAULT
@given(st.data())
@pytest.mark.parametrize("source", sorted(FUZZ_SOURCES))
def test_compile_succeeds_or_raises_symbackprop_error(source: str, data: st.DataObject) -> None:
    compiles_or_rejects(data.draw(FUZZ_SOURCES[source], label=source))


@pytest.mark.slow
@SLOW
@given(st.data())
@pytest.mark.parametrize("source", sorted(FUZZ_SOURCES))
def test_compile_succeeds_or_raises_symbackprop_error_slow(
    source: str, data: st.DataObject
) -> None:
    compiles_or_rejects(data.draw(FUZZ_SOURCES[source], label=source))


def test_evaluation_error_is_a_symbackprop_error() -> None:
    """The fuzz property's 'or raises SymbackpropError' includes float-mode math errors."""
    assert issubclass(EvaluationError, SymbackpropError)
    with pytest.raises(EvaluationError):
        symbackprop.compile("log(x)").value(x=-1.0)
