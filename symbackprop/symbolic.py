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
from .syntax import Apply, Constant, Expr, Name, Number, Program


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
    """Post-order walk with an explicit stack, so deep nesting does not recurse here."""
    results: list[Any] = []
    stack: list[tuple[Expr, bool]] = [(expression, False)]
    while stack:
        current, children_done = stack.pop()
        if isinstance(current, Number):
            results.append(_number(current, sp))
        elif isinstance(current, Constant):
            results.append(sp.pi if current.name == "pi" else sp.E)
        elif isinstance(current, Name):
            results.append(scope[current.id])
        elif not children_done:
            stack.append((current, True))
            stack.extend((argument, False) for argument in reversed(current.args))
        else:
            results.append(_apply(current, results, sp))
    return results[0]


def _apply(call: Apply, results: list[Any], sp: Any) -> Any:
    count = len(call.args)
    arguments = results[len(results) - count :]
    del results[len(results) - count :]
    gate = GATES[call.gate]
    folded = arguments[0] if gate.variadic else None
    if folded is None:
        return gate.sympy(sp, *arguments)
    for argument in arguments[1:]:
        folded = gate.sympy(sp, folded, argument)
    return folded


def _number(number: Number, sp: Any) -> Any:
    """Whole numbers stay exact integers; others are floats, as the user wrote them."""
    if number.value.is_integer() and abs(number.value) < 2**53:
        return sp.Integer(int(number.value))
    return sp.Float(number.value)
