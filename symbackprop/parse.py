"""Stage 1 — parse: program text → `syntax.Program`, a checked abstract syntax tree.

Lark's LALR parser runs our transformer inside the parse, so no intermediate parse tree is built
and deep nesting never recurses.  Names are resolved on the way: each use is an input, an earlier
binding or a constant; function calls are checked against the gate registry.  Every problem
becomes a `ParseError` (or one of its siblings) with a span and a caret.  A function is called
by its gate's name or an alias of it (`arcsin` for `asin`), and the tree names the gate.  Only
this module imports lark, and only when the first program is parsed: lark takes about half as
long to import as NumPy, and `import symbackprop` need not pay for it.
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .errors import ArityError, NameResolutionError, ParseError, UnknownFunctionError
from .gates import ALIASES, CONSTANTS, FUNCTIONS, GATES, RESERVED, function_gate
from .syntax import Apply, Constant, Expr, Let, Name, Number, Program, Span

if TYPE_CHECKING:
    from lark import Lark, Token
    from lark.exceptions import UnexpectedInput

GRAMMAR_FILE = "symbackprop.lark"

TOKEN_WORDS = {
    "NUMBER": "a number",
    "NAME": "a name",
    "PLUS": "'+'",
    "MINUS": "'-'",
    "STAR": "'*'",
    "SLASH": "'/'",
    "POW": "'**'",
    "LPAR": "'('",
    "AT": "'@'",
    "TRANSPOSE": "'.T'",
    "RPAR": "')'",
    "COMMA": "','",
    "EQUAL": "'='",
    "_SEP": "a new line or ';'",
    "$END": "the end of the program",
}


def parse(source: str) -> Program:
    """Parse a program and resolve its names.

    >>> program = parse("q = x + y; f = q * z; f")
    >>> program.inputs
    ('x', 'y', 'z')
    >>> [binding.name for binding in program.bindings]
    ['q', 'f']
    """
    if not isinstance(source, str):
        raise TypeError(f"a program is text (str), not {type(source).__name__}")
    with _PARSER_LOCK:
        parser = _parser()
        builder = _BUILDER
        builder.start(source)
        try:
            statements = parser.parse(source)
        except _lark().UnexpectedInput as error:
            raise _syntax_error(error, source) from None
        finally:
            inputs = builder.finish()
    return _assemble(statements, inputs, source)


def grammar_path() -> Path:
    """The grammar file: inside the installed package, else at the top of a checkout."""
    package = Path(__file__).resolve().parent
    for candidate in (
        package / "grammar" / GRAMMAR_FILE,
        package.parent / "grammar" / GRAMMAR_FILE,
    ):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"symbackprop's grammar file {GRAMMAR_FILE} is missing from {package}")


class _ParenthesisContinuation:
    """Post-lexer: inside parentheses a newline continues the line, as in Python."""

    always_accept = ("_SEP",)

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        depth = 0
        for token in stream:
            if token.type == "LPAR":
                depth += 1
            elif token.type == "RPAR":
                depth = max(depth - 1, 0)
            elif token.type == "_SEP" and depth > 0 and token.value != ";":
                continue
            yield token


@cache
def _lark() -> ModuleType:
    """The lark package, imported on first use (see the module's docstring)."""
    import lark

    return lark


@cache
def _parser() -> Lark:
    return _lark().Lark(
        grammar_path().read_text(encoding="utf-8"),
        start="program",
        parser="lalr",
        transformer=_BUILDER,
        postlex=_ParenthesisContinuation(),
        maybe_placeholders=False,
    )


def _token_span(token: Token) -> Span:
    return Span(
        token.start_pos or 0,
        token.end_pos or 0,
        token.line or 1,
        token.column or 1,
        token.end_line or token.line or 1,
        token.end_column or (token.column or 1) + len(token),
    )


class _AstBuilder:
    """Builds `syntax` nodes as the LALR parser reduces; one method per grammar alias.

    Lark calls each method with the list of the rule's children (tokens and the nodes already
    built).  It also resolves names as they are reduced, which happens in text order: the first
    use of an unbound name makes it an input, so binding it later is an error.
    """

    def start(self, source: str) -> None:
        self.source = source
        self.inputs: dict[str, Span] = {}
        self.bound: dict[str, Span] = {}

    def finish(self) -> tuple[str, ...]:
        inputs = tuple(self.inputs)
        self.source = ""
        self.inputs = {}
        self.bound = {}
        return inputs

    # -- leaves ---------------------------------------------------------------------------

    def number(self, children: list[Token]) -> Number:
        (token,) = children
        return Number(float(token), str(token), _token_span(token))

    def name(self, children: list[Token]) -> Expr:
        (token,) = children
        span = _token_span(token)
        name = str(token)
        if name in CONSTANTS:
            return Constant(name, span)
        if name in RESERVED:  # a function's name or alias: constants were handled above
            raise NameResolutionError(
                f"'{name}' is a function: call it, as in {name}(x)", span, self.source
            )
        if name not in self.bound and name not in self.inputs:
            self.inputs[name] = span
        return Name(name, span)

    # -- operators: each alias is the name of its gate ----------------------------------------

    def add(self, children: list[Any]) -> Apply:
        left, _op, right = children
        return Apply("add", (left, right), left.span.cover(right.span))

    def sub(self, children: list[Any]) -> Apply:
        left, _op, right = children
        return Apply("sub", (left, right), left.span.cover(right.span))

    def mul(self, children: list[Any]) -> Apply:
        left, _op, right = children
        return Apply("mul", (left, right), left.span.cover(right.span))

    def div(self, children: list[Any]) -> Apply:
        left, _op, right = children
        return Apply("div", (left, right), left.span.cover(right.span))

    def pow(self, children: list[Any]) -> Apply:
        base, _op, exponent = children
        return Apply("pow", (base, exponent), base.span.cover(exponent.span))

    def matmul(self, children: list[Any]) -> Apply:
        left, _op, right = children
        return Apply("matmul", (left, right), left.span.cover(right.span))

    def transpose(self, children: list[Any]) -> Apply:
        operand, op = children
        return Apply("transpose", (operand,), operand.span.cover(_token_span(op)))

    def neg(self, children: list[Any]) -> Apply:
        op, operand = children
        return Apply("neg", (operand,), _token_span(op).cover(operand.span))

    def pos(self, children: list[Any]) -> Expr:
        _op, operand = children
        return operand  # type: ignore[no-any-return]

    def group(self, children: list[Any]) -> Expr:
        open_, inner, close = children
        # The span grows to hold the parentheses, so `1/(1+x)` spans to its closing ')'.
        return replace(inner, span=_token_span(open_).cover(_token_span(close)))

    def keyword(self, children: list[Any]) -> _Keyword:
        name, _equal, value = children
        span = _token_span(name).cover(value.span)
        number = value.args[0] if isinstance(value, Apply) and value.gate == "neg" else value
        if not isinstance(number, Number) or not number.value.is_integer():
            raise ParseError(
                f"{name}= takes a whole number such as 0, 1 or -1", value.span, self.source
            )
        sign = -1 if number is not value else 1
        return _Keyword(str(name), sign * int(number.value), span)

    def arguments(self, children: list[Any]) -> tuple[Expr | _Keyword, ...]:
        # The commas between the arguments are tokens, and tokens are strings.
        return tuple(item for item in children if not isinstance(item, str))

    def call(self, children: list[Any]) -> Apply:
        name, _open, items, close = children
        function = str(name)
        name_span = _token_span(name)
        span = name_span.cover(_token_span(close))
        gate = function_gate(function)
        if gate is None:
            raise UnknownFunctionError(_unknown_function_message(function), name_span, self.source)
        args, params = self._split_arguments(function, items)
        if len(args) == 1 and gate.one_argument is not None:
            gate = GATES[gate.one_argument]
        elif params and not gate.keywords:
            raise ArityError(f"{function}() takes no named parameters", span, self.source)
        elif params and gate.variadic:
            raise ArityError(
                f"{function}() with {params[0][0]}= reduces one array: {function}(x, "
                f"{params[0][0]}=k)",
                span,
                self.source,
            )
        for keyword, _ in params:
            if keyword not in gate.keywords:
                raise ArityError(f"{function}() has no parameter {keyword!r}", span, self.source)
        if gate.variadic and len(args) < gate.arity:
            raise ArityError(
                f"{function}() takes at least {gate.arity} arguments, got {len(args)}",
                span,
                self.source,
            )
        if not gate.variadic and len(args) != gate.arity:
            plural = "argument" if gate.arity == 1 else "arguments"
            raise ArityError(
                f"{function}() takes {gate.arity} {plural}, got {len(args)}", span, self.source
            )
        return Apply(gate.name, args, span, params)

    def _split_arguments(
        self, function: str, items: tuple[Expr | _Keyword, ...]
    ) -> tuple[tuple[Expr, ...], tuple[tuple[str, int], ...]]:
        args: list[Expr] = []
        params: dict[str, int] = {}
        for item in items:
            if isinstance(item, _Keyword):
                if item.name in params:
                    raise ParseError(f"{item.name}= is given twice", item.span, self.source)
                params[item.name] = item.value
            elif params:
                raise ParseError(
                    f"in {function}(), a positional argument follows a named one",
                    item.span,
                    self.source,
                )
            else:
                args.append(item)
        return tuple(args), tuple(sorted(params.items()))

    # -- statements ----------------------------------------------------------------------

    def let(self, children: list[Any]) -> Let:
        name, _equal, value = children
        binding = str(name)
        span = _token_span(name)
        if binding in RESERVED:
            kind = "constant" if binding in CONSTANTS else "function"
            raise NameResolutionError(
                f"'{binding}' is a reserved {kind} name and cannot be bound", span, self.source
            )
        if binding in self.bound:
            first = self.bound[binding]
            raise NameResolutionError(
                f"'{binding}' is already bound (at line {first.line}, column {first.column}); "
                "a name is bound once",
                span,
                self.source,
            )
        if binding in self.inputs:
            used = self.inputs[binding]
            raise NameResolutionError(
                f"'{binding}' is used (at line {used.line}, column {used.column}) before it is "
                "bound here",
                span,
                self.source,
            )
        self.bound[binding] = span
        return Let(binding, value, span.cover(value.span), span)

    def output(self, children: list[Expr]) -> Expr:
        (value,) = children
        return value

    def program(self, children: list[Let | Expr]) -> tuple[Let | Expr, ...]:
        return tuple(children)


@dataclass(frozen=True, slots=True)
class _Keyword:
    """A named argument of a call, `axis=1`, before the call is checked."""

    name: str
    value: int
    span: Span


_BUILDER = _AstBuilder()
_PARSER_LOCK = threading.Lock()


def _assemble(statements: tuple[Let | Expr, ...], inputs: tuple[str, ...], source: str) -> Program:
    *bindings, last = statements
    for statement in bindings:
        if not isinstance(statement, Let):
            raise ParseError(
                "only the last statement may be a bare expression (it is the output); "
                "bind this one to a name or remove it",
                statement.span,
                source,
            )
    if isinstance(last, Let):
        raise ParseError(
            f"the program must end with its output expression, for example a line '{last.name}'",
            last.span,
            source,
        )
    return Program(tuple(bindings), last, inputs, source)  # type: ignore[arg-type]


def _unknown_function_message(function: str) -> str:
    message = f"unknown function '{function}'"
    names = sorted([*FUNCTIONS, *ALIASES])
    suggestions = difflib.get_close_matches(function, names, n=1, cutoff=0.6)
    if suggestions:
        return f"{message}; did you mean '{suggestions[0]}'?"
    return f"{message}; the functions are {', '.join(sorted(FUNCTIONS))}"


def _position_span(source: str, position: int) -> Span:
    position = min(max(position, 0), len(source))
    line = source.count("\n", 0, position) + 1
    column = position - (source.rfind("\n", 0, position) + 1) + 1
    return Span(position, position + 1, line, column)


def _syntax_error(error: UnexpectedInput, source: str) -> ParseError:
    expected = tuple(sorted({TOKEN_WORDS.get(name, name) for name in _expected(error)}))
    lark = _lark()
    if isinstance(error, lark.UnexpectedCharacters):
        character = source[error.pos_in_stream] if error.pos_in_stream < len(source) else ""
        span = _position_span(source, error.pos_in_stream)
        return ParseError(f"unexpected character {character!r}", span, source, expected)
    if isinstance(error, lark.UnexpectedToken) and error.token.type != "$END":
        token = error.token
        span = _token_span(token)
        message = f"unexpected {_describe(token)}"
        previous = source[: token.start_pos].rstrip(" \t")
        if token.type in ("NAME", "LPAR") and previous[-1:].isalnum():
            message += " (write * for a product, as in 2*x)"
        return ParseError(message, span, source, expected)
    end = getattr(error, "token", None)
    after_last_token = end.end_pos if end is not None and end.end_pos is not None else len(source)
    span = _position_span(source, min(after_last_token, len(source.rstrip())))
    if not _has_code(source):
        return ParseError(
            "the program is empty: write an expression such as (x + y) * z", span, source
        )
    message = "unexpected end of the program"
    unclosed = _unclosed_parenthesis(source)
    if unclosed is not None:
        opened = _position_span(source, unclosed)
        message += f": the '(' at line {opened.line}, column {opened.column} is not closed"
    return ParseError(message, span, source, expected)


def _describe(token: Token) -> str:
    if token.type == "NUMBER":
        return f"number {str(token)!r}"
    if token.type == "NAME":
        return f"name {str(token)!r}"
    if token.type == "_SEP":
        return "';'" if token.value == ";" else "end of line"
    return repr(str(token))


def _unclosed_parenthesis(source: str) -> int | None:
    """The offset of the last '(' left open, ignoring comments."""
    open_positions: list[int] = []
    in_comment = False
    for position, character in enumerate(source):
        if character == "#":
            in_comment = True
        elif character == "\n":
            in_comment = False
        elif in_comment:
            continue
        elif character == "(":
            open_positions.append(position)
        elif character == ")" and open_positions:
            open_positions.pop()
    return open_positions[-1] if open_positions else None


def _expected(error: UnexpectedInput) -> set[str]:
    expected = getattr(error, "expected", None) or getattr(error, "allowed", None) or set()
    return {name for name in expected if not name.startswith("__")}


def _has_code(source: str) -> bool:
    return any(line.split("#", 1)[0].strip(" \t;\r") for line in source.splitlines())
