"""The abstract syntax tree that `parse` produces and `lower` consumes, and `fold`, the one walk
over it that every pass uses.

Small frozen dataclasses, each carrying the `Span` of the text it came from, so that every later
error and explanation can point back at the user's characters.  Imports nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar


@dataclass(frozen=True, slots=True)
class Span:
    """Where a piece of syntax sits in the source: offsets [start, end) and 1-based line/column.

    `end_line`/`end_column` locate the character just after the span (so a one-character span at
    column 5 ends at column 6).
    """

    start: int
    end: int
    line: int
    column: int
    end_line: int = 0
    end_column: int = 0

    def __post_init__(self) -> None:
        if self.end_line == 0:
            object.__setattr__(self, "end_line", self.line)
            object.__setattr__(self, "end_column", self.column + max(self.end - self.start, 1))

    def cover(self, other: Span) -> Span:
        """The smallest span holding both `self` and `other` (for an operator and its operands)."""
        first = self if self.start <= other.start else other
        last = self if self.end >= other.end else other
        return Span(first.start, last.end, first.line, first.column, last.end_line, last.end_column)


@dataclass(frozen=True, slots=True)
class Number:
    """A numeric literal; `text` keeps the user's spelling (`1.`, `1e-3`) for printing back."""

    value: float
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class Constant:
    """A named mathematical constant: `pi` or `e`."""

    name: str
    span: Span


@dataclass(frozen=True, slots=True)
class Name:
    """A reference to an input or to an earlier let-binding."""

    id: str
    span: Span


@dataclass(frozen=True, slots=True)
class Apply:
    """A gate applied to arguments: an operator (`a + b`, `-a`) or a function call (`exp(a)`).

    `gate` is the registry name (`add`, `neg`, `exp`, `max` ...).  A variadic call such as
    `max(a, b, c)` keeps all its arguments here; lowering folds it into binary gates.  `params`
    are the call's named integer parameters, as `(("axis", 1),)` for `sum(x, axis=1)`.
    """

    gate: str
    args: tuple[Expr, ...]
    span: Span
    params: tuple[tuple[str, int], ...] = ()


Expr = Number | Constant | Name | Apply


@dataclass(frozen=True, slots=True)
class Let:
    """A statement `name = value`: names an intermediate value for reuse and for explanations."""

    name: str
    value: Expr
    span: Span
    name_span: Span


@dataclass(frozen=True, slots=True)
class Program:
    """A whole formula: let-bindings in order, then the output expression.

    `inputs` are the free names in order of first appearance in the text — the compiled
    function's parameters.  `source` is the text it was parsed from.
    """

    bindings: tuple[Let, ...]
    result: Expr
    inputs: tuple[str, ...]
    source: str


Result = TypeVar("Result")


def fold(
    expression: Expr,
    leaf: Callable[[Number | Constant | Name], Result],
    combine: Callable[[Apply, list[Result]], Result],
) -> Result:
    """Evaluate a tree bottom-up: `leaf` on each leaf, `combine` on each application and the
    results of its arguments.  The walk keeps its own stack, so nesting depth is unbounded —
    parsing already took 10,000 nested parentheses without recursion, and so does every pass.

    >>> from symbackprop.parse import parse
    >>> fold(parse("(x + 1) * x").result, lambda leaf: 1, lambda call, sizes: 1 + sum(sizes))
    5
    """
    results: list[Result] = []
    # The stack holds expressions to visit, and `(application,)` once its arguments are pushed.
    stack: list[Expr | tuple[Apply]] = [expression]
    while stack:
        current = stack.pop()
        if isinstance(current, tuple):
            (call,) = current
            count = len(call.args)
            arguments = results[len(results) - count :]
            del results[len(results) - count :]
            results.append(combine(call, arguments))
        elif isinstance(current, Apply):
            stack.append((current,))
            stack.extend(reversed(current.args))
        else:
            results.append(leaf(current))
    return results[0]
