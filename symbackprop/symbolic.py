"""The symbolic view: a program as a SymPy expression, and its derivatives from SymPy.

Built from our syntax tree through each gate's SymPy form in the registry — never by handing the
user's text to `sympify`.  Let-bindings are substituted.  SymPy is imported only when these
functions run, so `import symbackprop` and `compile` stay light.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

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

    parsed = parse(program) if isinstance(program, str) else program
    scope: dict[str, Any] = {name: sp.Symbol(name, real=True) for name in parsed.inputs}
    for binding in parsed.bindings:
        scope[binding.name] = _expression(binding.value, scope, sp)
    return _expression(parsed.result, scope, sp)


def symbolic_gradient(
    program: str | Program, wrt: Iterable[str] | str | None = None
) -> dict[str, Any]:
    """SymPy's simplified partial derivative of the output with respect to each input.

    >>> symbolic_gradient("(x + y) * z")
    {'x': z, 'y': z, 'z': x + y}
    >>> symbolic_gradient("sigmoid(t)")
    {'t': 1/(4*cosh(t/2)**2)}
    """
    import sympy as sp

    parsed = parse(program) if isinstance(program, str) else program
    names = parsed.inputs if wrt is None else ([wrt] if isinstance(wrt, str) else list(wrt))
    unknown = [name for name in names if name not in parsed.inputs]
    if unknown:
        from .errors import SymbackpropError

        raise SymbackpropError(
            f"wrt names {unknown[0]!r}, which is not an input; "
            f"the inputs are {', '.join(parsed.inputs) or 'none'}"
        )
    expression = to_sympy(parsed)
    return {name: sp.simplify(sp.diff(expression, sp.Symbol(name, real=True))) for name in names}


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
    if not gate.variadic:
        return gate.sympy(sp, *arguments)
    folded = arguments[0]
    for argument in arguments[1:]:
        folded = gate.sympy(sp, folded, argument)
    return folded


def _number(number: Number, sp: Any) -> Any:
    """Whole numbers stay exact integers; others are floats, as the user wrote them."""
    if number.value.is_integer() and abs(number.value) < 2**53:
        return sp.Integer(int(number.value))
    return sp.Float(number.value)
