"""Print a syntax tree back as program text, with parentheses only where precedence needs them.

`parse(to_text(program))` lowers to the same gate graph as `program`: the printer is the
parser's inverse up to spacing, redundant parentheses and unary plus.  Walks with an explicit
stack, so deep nesting does not recurse.  Imports `gates`, `parse` and `syntax`.
"""

from __future__ import annotations

from .gates import ATOM_PRECEDENCE, GATES, Call, Infix, Prefix, Suffix
from .parse import parse
from .syntax import Apply, Constant, Expr, Name, Number, Program, fold

UNARY_MINUS_PRECEDENCE = 13


def to_text(program: str | Program) -> str:
    """The program as canonical text: one statement a line, minimal parentheses.

    >>> print(to_text("q = (x + (y))\\nf = ((q) * z) ; f"))
    q = x + y
    f = q * z
    f
    >>> to_text("-(x**2) + (2**3)**2 - (a - b)")
    '-x ** 2 + (2 ** 3) ** 2 - (a - b)'
    """
    if not isinstance(program, (str, Program)):
        raise TypeError(f"a program is text (str), not {type(program).__name__}")
    parsed = parse(program) if isinstance(program, str) else program
    lines = [f"{binding.name} = {expression_text(binding.value)}" for binding in parsed.bindings]
    lines.append(expression_text(parsed.result))
    return "\n".join(lines)


def expression_text(expression: Expr) -> str:
    """One expression as text; each operand parenthesized only if its operator binds looser."""

    def leaf(item: Number | Constant | Name) -> tuple[str, int]:
        if isinstance(item, Number):
            return item.text, ATOM_PRECEDENCE
        return (item.name if isinstance(item, Constant) else item.id), ATOM_PRECEDENCE

    return fold(expression, leaf, _apply_text)[0]


def _apply_text(call: Apply, operands: list[tuple[str, int]]) -> tuple[str, int]:
    notation = GATES[call.gate].notation
    if isinstance(notation, Infix):
        (left, left_precedence), (right, right_precedence) = operands
        precedence = notation.precedence
        if notation.right_associative:
            # a ** b: the base must bind tighter than **, the exponent may be a unary minus.
            left_needs = left_precedence <= precedence
            right_needs = right_precedence < UNARY_MINUS_PRECEDENCE
        else:
            left_needs = left_precedence < precedence
            right_needs = right_precedence <= precedence
        left = f"({left})" if left_needs else left
        right = f"({right})" if right_needs else right
        return f"{left} {notation.symbol} {right}", precedence
    if isinstance(notation, Prefix):
        operand, operand_precedence = operands[0]
        if operand_precedence < notation.precedence:
            operand = f"({operand})"
        return f"{notation.symbol}{operand}", notation.precedence
    if isinstance(notation, Suffix):
        operand, operand_precedence = operands[0]
        # `2.T` would read as the number `2.` then `T`: a whole number is parenthesized too.
        if operand_precedence < ATOM_PRECEDENCE or (operand.isascii() and operand.isdigit()):
            operand = f"({operand})"
        return f"{operand}{notation.symbol}", ATOM_PRECEDENCE
    assert isinstance(notation, Call)
    arguments = [text for text, _ in operands]
    arguments += [f"{name}={value}" for name, value in call.params]
    return f"{notation.function}({', '.join(arguments)})", ATOM_PRECEDENCE
