"""`check()`: trust a gradient without taking our word for it.

The compiled gradient is compared, at random points inside the formula's domain, with two
independent references: SymPy's derivative of the formula, and centered finite differences — the
lecture's numerical gradient, made centered.  Errors are CS231n's relative error
|a − n| / max(|a|, |n|, floor).  Points are drawn where every gate is defined and finite, and away
from the kinks and jumps of relu, abs, max, min, hypot, floor, sign, atan2 ... (the registry says
where they are), where no finite difference can agree with any one-sided slope; so the
derivative of a step (floor, sign) is 0 at every point drawn.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import SymbackpropError
from .gates import GATES
from .graph import CONSTANT, INPUT, Graph
from .interpret import forward_values
from .pipeline import compile as compile_text

SYMPY = "sympy"
FINITE_DIFFERENCES = "finite differences"
KINK_MARGIN = 1e-3
ROUNDOFF = 2.220446049250313e-16


@dataclass(frozen=True, slots=True)
class InputReport:
    """The worst relative error of one input's gradient against each reference, and where."""

    name: str
    worst: dict[str, float]
    worst_point: dict[str, dict[str, float]]


@dataclass(frozen=True, slots=True)
class CheckReport:
    """What `check` found: per input, the worst error against each reference; pass or fail."""

    text: str
    references: tuple[str, ...]
    tolerance: float
    points: int
    inputs: tuple[InputReport, ...]

    @property
    def passed(self) -> bool:
        """True when every error against every reference is within the tolerance."""
        return all(
            error <= self.tolerance for report in self.inputs for error in report.worst.values()
        )

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        header = ["input", *(f"vs {reference}" for reference in self.references), "worst at"]
        rows = []
        for report in self.inputs:
            worst_reference = max(self.references, key=lambda name: report.worst[name])
            point = report.worst_point[worst_reference]
            where = ", ".join(f"{name}={value:.4g}" for name, value in point.items())
            errors = [f"{report.worst[reference]:.1e}" for reference in self.references]
            rows.append([report.name, *errors, where])
        widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
        lines = [
            f"gradient check of {self.text.strip()!r} at {self.points} points",
            "  ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=True)),
        ]
        lines += [
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            for row in rows
        ]
        verdict = "PASS" if self.passed else "FAIL"
        lines.append(
            f"{verdict}: worst relative error {self.worst_error:.1e} "
            f"(tolerance {self.tolerance:.0e})"
        )
        return "\n".join(line.rstrip() for line in lines)

    @property
    def worst_error(self) -> float:
        return max(
            (error for report in self.inputs for error in report.worst.values()), default=0.0
        )


def check(
    text: str,
    points: int = 20,
    seed: int = 0,
    wrt: Iterable[str] | str | None = None,
    tolerance: float = 1e-5,
    sympy: bool = True,
) -> CheckReport:
    """Compare the compiled gradient with SymPy and with centered finite differences.

    `sympy=False` skips the SymPy reference (its derivatives grow quickly with the formula).

    >>> report = check("(x + y) * z", points=5)
    >>> report.passed
    True
    >>> print(report)  # doctest: +ELLIPSIS
    gradient check of '(x + y) * z' at 5 points
    input  vs sympy  vs finite differences  worst at
    x      ...
    PASS: worst relative error ... (tolerance 1e-05)
    """
    # Checked first: a bad option would otherwise fail deep inside NumPy's random generator, or
    # (a NaN or a string tolerance) only when the report is read.
    if isinstance(points, bool) or not isinstance(points, numbers.Integral):
        raise TypeError(f"points must be a whole number, not {points!r}")
    if points < 1:
        raise SymbackpropError(f"points must be at least 1, got {points}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be a whole number, not {seed!r}")
    if isinstance(tolerance, bool) or not isinstance(tolerance, numbers.Real):
        raise TypeError(f"tolerance must be a number, not {tolerance!r}")
    if not tolerance >= 0:
        raise SymbackpropError(f"tolerance must be a number at least 0, got {tolerance!r}")
    function = compile_text(text, wrt=wrt)
    if function.backward is None:
        raise _array_formula_error(function.graph)
    graph = function.backward.graph
    references = (SYMPY, FINITE_DIFFERENCES) if sympy else (FINITE_DIFFERENCES,)
    symbolic = _sympy_gradient(text, function.wrt) if sympy else None
    rng = np.random.default_rng(seed)
    worst = {name: dict.fromkeys(references, 0.0) for name in function.wrt}
    worst_point: dict[str, dict[str, dict[str, float]]] = {
        name: {reference: {} for reference in references} for name in function.wrt
    }
    checked = 0
    for point in _points_in_domain(graph, rng, points):
        try:
            _, gradient = function(**point)
        except SymbackpropError:
            continue
        numerical = _centered_differences(function, point)
        if numerical is None or not all(math.isfinite(g) for g in gradient.values()):
            continue
        checked += 1
        for name in function.wrt:
            errors = {FINITE_DIFFERENCES: _relative_error(gradient[name], *numerical[name])}
            if symbolic is not None:
                exact = float(symbolic[name](*(point[input] for input in graph.inputs)))
                errors[SYMPY] = _relative_error(gradient[name], exact, 1e-8)
            for reference, error in errors.items():
                if not error <= worst[name][reference]:
                    worst[name][reference] = error
                    worst_point[name][reference] = dict(point)
        if checked == points:
            break
    if checked == 0:
        raise SymbackpropError(
            f"found no point where {text.strip()!r} and its gradient are defined and finite"
        )
    reports = tuple(InputReport(name, worst[name], worst_point[name]) for name in function.wrt)
    return CheckReport(text, references, tolerance, checked, reports)


def _array_formula_error(graph: Graph) -> SymbackpropError:
    """`check` draws random numbers for the inputs, so a formula with array gates (`@`, `.T`,
    reductions, `pick`) — whose inputs must be arrays of fitting shapes — cannot be checked; the
    error points at the first such gate."""
    span = next(
        (
            node.span
            for node in graph.nodes
            if node.op not in (INPUT, CONSTANT) and GATES[node.op].shape is not None
        ),
        None,
    )
    return SymbackpropError(
        "check draws random numbers for the inputs, so it checks elementwise formulas only, and "
        "this one has an array operation; check an array formula's gradient with "
        "numerical_gradient(text, **arrays) instead",
        span,
        graph.source,
    )


def _sympy_gradient(text: str, wrt: tuple[str, ...]) -> dict[str, Any]:
    import sympy as sp

    from .parse import parse
    from .symbolic import to_sympy, within_sympy

    program = parse(text)
    expression = to_sympy(program)
    symbols = [sp.Symbol(name, real=True) for name in program.inputs]
    with within_sympy(program):  # differentiating and lambdify's printing recurse too
        return {
            name: sp.lambdify(
                symbols, _steps_flat(sp.diff(expression, sp.Symbol(name, real=True)), sp), "numpy"
            )
            for name in wrt
        }


def _steps_flat(derivative: Any, sp: Any) -> Any:
    """A SymPy derivative with the derivatives of steps set to 0.

    SymPy writes the derivative of sign (and so of `real_root`, cbrt's form) as a DiracDelta,
    and leaves floor's and ceiling's unevaluated; none can be evaluated numerically.  All are 0
    away from the steps, which is where `check` draws its points (the gates' kinks).
    """
    derivative = derivative.replace(sp.DiracDelta, lambda *args: sp.S.Zero)
    return derivative.replace(
        lambda part: isinstance(part, (sp.Derivative, sp.Subs)) and part.has(sp.floor, sp.ceiling),
        lambda part: sp.S.Zero,
    )


def _points_in_domain(graph: Graph, rng: np.random.Generator, wanted: int) -> Any:
    """Random points (dicts) where every gate is defined, finite and away from its kink.

    Inputs are drawn uniformly from [-3, 3]; when points are hard to find (a formula defined only
    far from the origin), the range widens, up to ±3·2^12.
    """
    scale = 3.0
    rejected = 0
    for _ in range(wanted * 2000):
        point = {name: float(rng.uniform(-scale, scale)) for name in graph.inputs}
        if _inside_domain(graph, point):
            yield point
            continue
        rejected += 1
        if rejected % (wanted * 50) == 0 and scale < 3.0 * 2**12:
            scale *= 2.0


def _inside_domain(graph: Graph, point: dict[str, float]) -> bool:
    try:
        values = forward_values(graph, point)
    except (ArithmeticError, ValueError):
        return False
    if not all(math.isfinite(value) for value in values):
        return False
    for node in graph.nodes:
        if node.op in (INPUT, CONSTANT):
            continue
        kink = GATES[node.op].kink
        if kink is not None and kink(*(values[argument] for argument in node.args)) < KINK_MARGIN:
            return False
    return True


def _centered_differences(
    function: Any, point: dict[str, float]
) -> dict[str, tuple[float, float]] | None:
    """For each input: the centered difference (f(x+h) − f(x−h)) / 2h, and its roundoff floor.

    h = 1e-5·max(1, |x|).  The floor is a thousand times the roundoff the subtraction can
    suffer, so a gradient that is zero up to that noise is not reported as wrong.
    """
    slopes = {}
    for name in function.wrt:
        step = 1e-5 * max(1.0, abs(point[name]))
        try:
            above = function.value(**{**point, name: point[name] + step})
            below = function.value(**{**point, name: point[name] - step})
        except SymbackpropError:
            return None
        if not (math.isfinite(above) and math.isfinite(below)):
            return None
        noise = (abs(above) + abs(below)) * ROUNDOFF / (2 * step)
        slopes[name] = ((above - below) / (2 * step), max(1e-8, 1000 * noise))
    return slopes


def _relative_error(analytic: float, reference: float, floor: float) -> float:
    """CS231n's |a − r| / max(|a|, |r|, floor)."""
    if analytic == reference:
        return 0.0
    error = abs(analytic - reference) / max(abs(analytic), abs(reference), floor)
    return error if math.isfinite(error) else math.inf
