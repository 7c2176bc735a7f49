"""The errors symbackprop raises, and the caret picture that locates them in the user's text.

Every error about the user's input is a `SymbackpropError`, a `ValueError`, so callers can catch one
class.  Each carries the span it is about and renders the offending line with a caret under it.
Imports nothing from the rest of the package but `syntax.Span`.
"""

from __future__ import annotations

from .syntax import Span


class SymbackpropError(ValueError):
    """Base class of every error about the user's formula or inputs.

    `message` says what is wrong; `span` (when known) says where; `source` is the whole text, so
    that `str(error)` can show the line with a caret under the problem.
    """

    def __init__(self, message: str, span: Span | None = None, source: str | None = None) -> None:
        self.message = message
        self.span = span
        self.source = source
        super().__init__(self._render())

    @property
    def line(self) -> int | None:
        return self.span.line if self.span else None

    @property
    def column(self) -> int | None:
        return self.span.column if self.span else None

    def _render(self) -> str:
        if self.span is None:
            return self.message
        where = f"line {self.span.line}, column {self.span.column}"
        if self.source is None:
            return f"{self.message} (at {where})"
        return f"{self.message} (at {where})\n{caret_picture(self.source, self.span)}"

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.message, self.span, self.source))


class ParseError(SymbackpropError):
    """The text is not a well-formed program: an unexpected character or token.

    `expected` lists what the grammar would have accepted at that point, in words.
    """

    def __init__(
        self,
        message: str,
        span: Span | None = None,
        source: str | None = None,
        expected: tuple[str, ...] = (),
    ) -> None:
        self.expected = tuple(expected)
        super().__init__(message, span, source)

    def _render(self) -> str:
        text = super()._render()
        if self.expected:
            text += "\nexpected: " + ", ".join(self.expected)
        return text

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.message, self.span, self.source, self.expected))


class NameResolutionError(SymbackpropError):
    """A name is used before it is bound, bound twice, or is a reserved name being bound."""


class UnknownFunctionError(SymbackpropError):
    """A call names a function the registry does not have (the message suggests the closest)."""


class ArityError(SymbackpropError):
    """A function is called with the wrong number of arguments."""


class ShapeError(SymbackpropError):
    """Inputs' shapes that do not fit a gate (`@` with mismatched dimensions, an axis out of range,
    arrays that do not broadcast); the span points at the sub-expression."""


class EvaluationError(SymbackpropError):
    """Float-mode evaluation failed in a gate: a math domain error, a division by zero, an overflow.

    The span points at the sub-expression whose gate failed (in the forward or the backward pass).
    """


def caret_picture(source: str, span: Span) -> str:
    """The source line of `span` with a gutter and carets under the spanned characters.

    >>> print(caret_picture("x + * y", Span(4, 5, 1, 5)))
      1 | x + * y
        |     ^
    """
    lines = source.split("\n")
    line_index = min(max(span.line, 1), len(lines)) - 1
    # Lines end at '\n' only, as the parser counts them; other control characters (tabs, '\r',
    # '\f' ...) are shown as one space each, so the caret stays under the right column.
    line = lines[line_index].removesuffix("\r")
    text = "".join(char if char.isprintable() else " " for char in line)
    gutter = f"{span.line:>3} | "
    start = max(span.column - 1, 0)
    same_line_end = span.end_column - 1 if span.end_line == span.line else len(text)
    width = max(1, min(same_line_end, max(len(text), start + 1)) - start)
    if len(text) > PICTURE_WIDTH:
        # A long line (a generated formula) is shown around the problem, not in full.
        first = max(0, min(start - PICTURE_WIDTH // 4, len(text) - PICTURE_WIDTH))
        last = first + PICTURE_WIDTH
        width = max(1, min(width, last - start))
        start -= first
        before = "…" if first > 0 else ""
        text = before + text[first:last] + ("…" if last < len(text) else "")
        start += len(before)
    pad = " " * (len(gutter) - 2) + "| "
    return f"{gutter}{text}\n{pad}{' ' * start}{'^' * width}"


PICTURE_WIDTH = 100  # columns of a source line shown under an error


def excerpt(text: str, limit: int = 60) -> str:
    """`text` for a message: whole when short, else its start and end around an ellipsis.

    >>> excerpt("log(" + "x+" * 50 + "x)", 20)
    'log(x+x+x…x+x+x+x+x)'
    """
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2
    return text[:head] + "…" + text[len(text) - (limit - 1 - head) :]
