"""The symbolic view: a program as a SymPy expression, and its derivatives from SymPy.

Built from our syntax tree through each gate's SymPy form in the registry — never by handing the
user's text to `sympify`.  Let-bindings are substituted.  SymPy is imported only when these
functions run, so `import symbackprop` and `compile` stay light.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from .errors import SymbackpropError
from .gates import GATES
from .parse import parse
from .syntax import Apply, Constant, Expr, Name, Number, Program, fold


def to_sympy(program: str | Program) -> Any:
    """The SymPy expression of a program's output, bindings substituted, inputs as real symbols.

    >>> to_sympy("q = x + y; f = q * z; f")
    z*(x + y)
    >>> to_sympy("1/(1+exp(-(w0*x0+w1*x1+w2)))")
    1/(exp(-w0*x0 - w1*x1 - w2) + 1)
    """
    import sympy as sp

    parsed = _program(program)
    _refuse_array_gates(parsed)
    with within_sympy(parsed):
        scope: dict[str, Any] = {name: sp.Symbol(name, real=True) for name in parsed.inputs}
        for binding in parsed.bindings:
            scope[binding.name] = _expression(binding.value, scope, sp)
        return _expression(parsed.result, scope, sp)


def symbolic_gradient(
    program: str | Program, wrt: Iterable[str] | str | None = None
) -> dict[str, Any]:
    """SymPy's partial derivative of the output with respect to each input, simplified when
    it is small (see `SIMPLIFY_LIMIT`).

    >>> symbolic_gradient("(x + y) * z")
    {'x': z, 'y': z, 'z': x + y}
    >>> symbolic_gradient("sigmoid(t)")
    {'t': 1/(4*cosh(t/2)**2)}
    """
    import sympy as sp

    parsed = _program(program)
    names = parsed.inputs if wrt is None else ([wrt] if isinstance(wrt, str) else list(wrt))
    unknown = [name for name in names if name not in parsed.inputs]
    if unknown:
        raise SymbackpropError(
            f"wrt names {unknown[0]!r}, which is not an input; "
            f"the inputs are {', '.join(parsed.inputs) or 'none'}"
        )
    expression = to_sympy(parsed)
    with within_sympy(parsed):
        return {
            name: _simplified(sp.diff(expression, sp.Symbol(name, real=True)), sp)
            for name in names
        }


SIMPLIFY_LIMIT = 40
"""The most operations a derivative may have for `sympy.simplify` to be tried on it.

simplify tries many rewrites, and its time grows steeply with nested functions: the derivative
of sin nested 8 deep (43 operations) takes half a second, 10 deep (64) two seconds, 12 deep
(89) nine.  A larger derivative is returned as SymPy's `diff` gives it, so that `diff` never
seems to hang."""


def _simplified(derivative: Any, sp: Any) -> Any:
    if sp.count_ops(derivative) > SIMPLIFY_LIMIT:
        return derivative
    return sp.simplify(derivative)


@contextmanager
def within_sympy(program: Program) -> Iterator[None]:
    """Run SymPy on `program`'s expression, reporting a formula too deep for it at the formula.

    SymPy walks its expression trees by recursion, so a few hundred nested calls (or a long
    `x**x**...` tower) exhaust Python's stack inside SymPy.  That is a limit of the symbolic
    view, not of the formula, which `compile` handles: the error says so and points at it.
    """
    try:
        yield
    except RecursionError:
        raise SymbackpropError(
            "the formula is nested too deeply for SymPy's symbolic derivative (its depth is "
            "limited by Python's recursion); compile() and numerical checks handle it",
            program.result.span,
            program.source,
        ) from None


def _refuse_array_gates(program: Program) -> None:
    """The symbolic view takes every input as one real number, so a formula with array gates
    (`@`, `.T`, reductions, `pick`) is refused, as `check` refuses it: its SymPy form would be
    the one-element case, and `diff 'sum(W @ x)'` would print ∂f/∂W = x — a product that is not
    even defined for numbers — where the user means the matrix xᵀ-shaped gradient."""

    def combine(call: Apply, _: list[None]) -> None:
        if GATES[call.gate].shape is not None:
            raise SymbackpropError(
                "the symbolic view takes every input as a number, and this formula has an "
                "array operation; get an array formula's gradient from compile() (check it "
                "with numerical_gradient(text, **arrays))",
                call.span,
                program.source,
            )

    for expression in [*(binding.value for binding in program.bindings), program.result]:
        fold(expression, lambda leaf: None, combine)


def _program(program: str | Program) -> Program:
    if isinstance(program, (str, Program)):
        return parse(program) if isinstance(program, str) else program
    raise TypeError(f"a program is text (str), not {type(program).__name__}")


def _expression(expression: Expr, scope: dict[str, Any], sp: Any) -> Any:
    def leaf(item: Number | Constant | Name) -> Any:
        if isinstance(item, Number):
            return _number(item, sp)
        if isinstance(item, Constant):
            return sp.pi if item.name == "pi" else sp.E
        return scope[item.id]

    return fold(expression, leaf, lambda call, arguments: _apply(call, arguments, sp))


def _apply(call: Apply, arguments: list[Any], sp: Any) -> Any:
    gate = GATES[call.gate]
    if call.gate == "pow":
        arguments = _power_operands(arguments[0], arguments[1], sp)
    if not gate.variadic:
        return gate.sympy(sp, *arguments)
    folded = arguments[0]
    for argument in arguments[1:]:
        folded = gate.sympy(sp, folded, argument)
    return folded


EXACT_POWER_BITS = 100_000
"""The largest exact power of two numbers SymPy is left to write out, in bits."""


def _power_operands(base: Any, exponent: Any, sp: Any) -> list[Any]:
    """A power of exact numbers too large to write out is taken in floats, as `compile` does.

    SymPy computes an exact power digit by digit: `2**3**22` has nine billion digits, which
    would take hours and gigabytes.  Such a power is a float (a huge one, or `inf` in compiled
    code) whatever the formula means, so its operands become SymPy Floats.
    """
    exact = isinstance(base, sp.Rational) and isinstance(exponent, sp.Rational)
    if exact and abs(base) != 0 and abs(base) != 1:
        magnitude = abs(exponent.p) // exponent.q + 1
        if magnitude * max(abs(base.p), base.q).bit_length() > EXACT_POWER_BITS:
            return [sp.Float(base), sp.Float(exponent)]
    return [base, exponent]


def _number(number: Number, sp: Any) -> Any:
    """Whole numbers stay exact integers; others are floats, as the user wrote them."""
    if number.value.is_integer() and abs(number.value) < 2**53:
        return sp.Integer(int(number.value))
    return sp.Float(number.value)
