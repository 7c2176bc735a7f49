"""The language as text: numbers, precedence, names, let-bindings, errors, and hostile inputs.

Values are checked against Python's own evaluation of the same expression, written in this file
(with `**` for `^`).  Every error must be a `SymbackpropError` with a 1-based line and column and
a caret picture of the offending line.  The robustness tests feed inputs chosen to break parsers
and check that nothing but a `SymbackpropError` ever escapes, quickly, and that no user text is
ever executed.
"""

from __future__ import annotations

import itertools
import math
import operator
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symbackprop
from symbackprop import (
    ArityError,
    NameResolutionError,
    ParseError,
    SymbackpropError,
    UnknownFunctionError,
)
from symbackprop.errors import PICTURE_WIDTH, caret_picture
from symbackprop.gates import ALIASES
from symbackprop.syntax import Apply, Number, Span

# -- helpers ------------------------------------------------------------------------------------

GUTTER = re.compile(r"^ *(\d+) \| (.*)$")
CARETS = re.compile(r"^ *\| ( *)(\^+)$")


def picture(error: SymbackpropError) -> tuple[int, str, int, int]:
    """(line number, shown source line, 1-based caret column, caret width) from `str(error)`."""
    lines = str(error).split("\n")
    for shown, below in itertools.pairwise(lines):
        gutter = GUTTER.match(shown)
        carets = CARETS.match(below)
        if gutter and carets:
            # The caret line's "| " sits under the gutter's "| ": compare offsets past it.
            assert shown.index("| ") == below.index("| "), str(error)
            return int(gutter[1]), gutter[2], len(carets[1]) + 1, len(carets[2])
    raise AssertionError(f"no caret picture in:\n{error}")


def source_line(text: str, line: int) -> str:
    """Line `line` of `text` as the caret picture should show it.

    Without its CRLF '\r'; tabs and other unprintable characters as one space each, so the
    caret stays under the right column and no control character reaches the terminal.
    """
    shown = text.split("\n")[line - 1].removesuffix("\r")
    return "".join(char if char.isprintable() else " " for char in shown)


def check_located(error: SymbackpropError, text: str) -> None:
    """The error has a 1-based position and a caret picture of that line, caret at the column."""
    assert isinstance(error, SymbackpropError)
    assert isinstance(error, ValueError)
    assert isinstance(error.line, int) and error.line >= 1
    assert isinstance(error.column, int) and error.column >= 1
    line, shown, column, width = picture(error)
    assert line == error.line
    source = source_line(text, error.line)
    if len(source) > PICTURE_WIDTH:
        # A long line is shown as a window of it, with an ellipsis where it is cut.
        lead = 1 if shown.startswith("…") else 0
        window = shown[lead:].removesuffix("…")
        first = error.column - column + lead
        assert source[first : first + len(window)] == window, str(error)
        assert len(window) == PICTURE_WIDTH
    else:
        assert shown == source, str(error)
        assert column == error.column, str(error)
    assert width >= 1
    assert f"line {error.line}, column {error.column}" in str(error)


def compile_error(text: str) -> SymbackpropError:
    with pytest.raises(SymbackpropError) as caught:
        symbackprop.compile(text)
    check_located(caught.value, text)
    return caught.value


def evaluate(text: str, **point: float) -> float:
    function = symbackprop.compile(text)
    return function.value(**{name: point[name] for name in function.inputs})


# -- numbers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "3",
        "2.5",
        ".5",
        "1.",
        "1e-3",
        "1.5E+2",
        "1E5",
        "0.0",
        "1.e5",
        "007",
        "0.000",
        "12345.6789e-2",
    ],
)
def test_numbers_are_written_as_python_writes_floats(text: str) -> None:
    number = symbackprop.parse(text).result
    assert isinstance(number, Number)
    assert number.value == float(text)
    assert isinstance(number.value, float)
    assert number.text == text
    assert symbackprop.compile(text).value() == float(text)


def test_a_sum_of_number_spellings() -> None:
    assert symbackprop.compile("3 + 2.5 + .5 + 1. + 1e-3 + 1.5E+2").value() == pytest.approx(
        3 + 2.5 + 0.5 + 1.0 + 1e-3 + 1.5e2
    )


def test_minus_is_an_operator_not_part_of_the_number() -> None:
    assert symbackprop.compile("-3").value() == -3.0
    assert symbackprop.compile("x-3").inputs == ("x",)
    assert symbackprop.compile("x-3").value(5) == 2.0


def test_out_of_range_numbers_become_inf_and_zero() -> None:
    assert symbackprop.compile("1e999").value() == math.inf
    assert symbackprop.compile("1e-999").value() == 0.0


# -- precedence and associativity, against Python ---------------------------------------------

POINT = {"x": 3.0, "y": 0.5, "a": 7.0, "b": 2.0, "c": 3.0}

PRECEDENCE: list[tuple[str, Callable[..., float]]] = [
    ("-x**2", lambda x: -(x**2)),
    ("-x^2", lambda x: -(x**2)),
    ("2**3**2", lambda: 2.0**3.0**2.0),
    ("2^3^2", lambda: 2.0**3.0**2.0),
    ("2**-1", lambda: 2.0**-1.0),
    ("2^-1", lambda: 2.0**-1.0),
    ("-2**2", lambda: -(2.0**2.0)),
    ("(-2)**2", lambda: (-2.0) ** 2.0),
    ("a-b-c", lambda a, b, c: a - b - c),
    ("a-(b-c)", lambda a, b, c: a - (b - c)),
    ("a/b/c", lambda a, b, c: a / b / c),
    ("a/(b/c)", lambda a, b, c: a / (b / c)),
    ("a/b*c", lambda a, b, c: a / b * c),
    ("a^b", lambda a, b: a**b),
    ("a**b", lambda a, b: a**b),
    ("a^b^c", lambda a, b, c: a**b**c),
    ("(a^b)^c", lambda a, b, c: (a**b) ** c),
    ("+x", lambda x: +x),
    ("--x", lambda x: operator.neg(-x)),  # Python has no `--` operator, B002
    ("-+-x", lambda x: -(+(-x))),
    ("+-+x", lambda x: +(-(+x))),
    ("a - -b", lambda a, b: a - -b),
    ("a*-b", lambda a, b: a * -b),
    ("a**-b**c", lambda a, b, c: a ** -(b**c)),
    ("-a**-b", lambda a, b: -(a**-b)),
    ("a + b * c", lambda a, b, c: a + b * c),
    ("a * b + c", lambda a, b, c: a * b + c),
    ("a * b ** c", lambda a, b, c: a * b**c),
    ("a + b * c ** x / y - a", lambda a, b, c, x, y: a + b * c**x / y - a),
    ("-x * y", lambda x, y: -x * y),
    ("x / -y ** 2", lambda x, y: x / -(y**2)),
    ("2 * (x + y) ** 2 / 4", lambda x, y: 2.0 * (x + y) ** 2.0 / 4.0),
]


@pytest.mark.parametrize(("text", "python"), PRECEDENCE, ids=[text for text, _ in PRECEDENCE])
def test_precedence_and_associativity_follow_python(
    text: str, python: Callable[..., float]
) -> None:
    function = symbackprop.compile(text)
    point = {name: POINT[name] for name in function.inputs}
    assert function.value(**point) == pytest.approx(python(**point), rel=1e-14)


def test_documented_precedence_values() -> None:
    assert symbackprop.compile("2**3**2").value() == 512.0
    assert symbackprop.compile("2**-1").value() == 0.5
    assert symbackprop.compile("-2**2").value() == -4.0
    assert symbackprop.compile("-x**2").value(3) == -9.0
    assert symbackprop.compile("--x").value(3) == 3.0
    assert symbackprop.compile("-+-x").value(3) == 3.0


def test_operator_spans_cover_their_parenthesized_operands() -> None:
    """A product of two groups spans from the first '(' to the last ')'."""
    text = "(x + y) * (z)"
    span = symbackprop.parse(text).result.span
    assert text[span.start : span.end] == text
    assert (span.line, span.column) == (1, 1)


def test_evaluation_error_quotes_the_failing_expression_with_its_parentheses() -> None:
    with pytest.raises(symbackprop.EvaluationError) as caught:
        symbackprop.compile("x**(1/3)")(-8.0)
    assert "'x**(1/3)'" in caught.value.message


# Random expressions over a, b, c: both Python and symbackprop parse the same text.
_ATOMS = st.sampled_from(["a", "b", "c", "(a)", "2", "0.5"])


def _grow(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(children, st.sampled_from(["+", "-", "*", "/", "**", " - -"]), children)
    return st.one_of(
        binary.map("".join),
        children.map(lambda inner: f"({inner})"),
        children.map(lambda inner: f"-{inner}"),
        children.map(lambda inner: f"+{inner}"),
    )


EXPRESSIONS = st.recursive(_ATOMS, _grow, max_leaves=8)


@settings(max_examples=150, deadline=None)
@given(EXPRESSIONS)
def test_random_expressions_evaluate_as_python_does(text: str) -> None:
    point = {"a": 1.5, "b": 0.75, "c": 2.0}
    try:
        # `text` is generated by this test, from the strategies above.
        expected: Any = float(eval(text, {"__builtins__": {}}, dict(point)))
    except (ArithmeticError, ValueError, TypeError):
        # ZeroDivisionError, OverflowError, or a complex result that float() refuses.
        expected = None
    try:
        function = symbackprop.compile(text)
        got = function.value(**{name: point[name] for name in function.inputs})
    except symbackprop.EvaluationError:
        assert expected is None, text
        return
    if expected is None:
        # Python raised (say 0.0**-1); symbackprop may answer inf or nan instead.
        assert not math.isfinite(got), (text, got)
    elif math.isnan(expected):
        assert math.isnan(got), text
    else:
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-12), text


# -- names and constants ------------------------------------------------------------------------


def test_constants_pi_and_e() -> None:
    assert symbackprop.compile("pi").value() == math.pi
    assert symbackprop.compile("e").value() == math.e
    assert symbackprop.compile("e").inputs == ()
    assert symbackprop.compile("pi * e").inputs == ()
    assert symbackprop.compile("cos(pi) + log(e)").value() == pytest.approx(0.0)


@pytest.mark.parametrize(
    "name", ["e2", "pi_", "_x", "x_1", "E", "PI", "Pi", "ee", "_", "e_", "pi2"]
)
def test_names_that_look_like_constants_are_inputs(name: str) -> None:
    function = symbackprop.compile(f"{name} + e")
    assert function.inputs == (name,)
    value, gradients = function(**{name: 1.0})
    assert value == pytest.approx(1.0 + math.e)
    assert gradients == {name: 1.0}


def test_inputs_in_order_of_first_appearance() -> None:
    assert symbackprop.compile("w1*x + _b + X").inputs == ("w1", "x", "_b", "X")
    assert symbackprop.compile("z*y + x*z + y").inputs == ("z", "y", "x")


def test_names_are_case_sensitive() -> None:
    function = symbackprop.compile("x - X")
    assert function.inputs == ("x", "X")
    assert function.value(5, 2) == 3.0


# -- aliases: NumPy's names of functions --------------------------------------------------------

# NumPy (and so JAX) spells the inverse trigonometric and hyperbolic functions its own way.
NUMPY_SPELLINGS = {
    "arcsin": "asin",
    "arccos": "acos",
    "arctan": "atan",
    "arctan2": "atan2",
    "arcsinh": "asinh",
    "arccosh": "acosh",
    "arctanh": "atanh",
}


def test_the_aliases_are_numpys_names() -> None:
    assert ALIASES == NUMPY_SPELLINGS
    for alias in NUMPY_SPELLINGS:
        assert isinstance(getattr(np, alias), np.ufunc), alias


@pytest.mark.parametrize("alias", sorted(NUMPY_SPELLINGS))
def test_an_alias_calls_the_same_gate(alias: str) -> None:
    name = NUMPY_SPELLINGS[alias]
    arguments, point = ("(y, x)", (0.5, -2.0)) if name == "atan2" else ("(x)", (1.25,))
    if name in ("asin", "acos", "atanh"):
        point = (0.25,)
    program = symbackprop.parse(f"{alias}{arguments}")
    assert isinstance(program.result, Apply) and program.result.gate == name
    assert symbackprop.to_text(f"2 * {alias}{arguments}") == f"2 * {name}{arguments}"
    by_alias = symbackprop.compile(f"{alias}{arguments}")
    by_name = symbackprop.compile(f"{name}{arguments}")
    assert by_alias.source.replace(alias, name) == by_name.source
    assert by_alias(*point) == by_name(*point)
    value, gradients = by_alias(*(np.array([value]) for value in point))
    expected_value, expected_gradients = by_name(*(np.array([value]) for value in point))
    assert value == expected_value and gradients.keys() == expected_gradients.keys()
    for input_name, gradient in gradients.items():
        np.testing.assert_array_equal(gradient, expected_gradients[input_name])


def test_aliases_and_names_mix_in_one_program() -> None:
    function = symbackprop.compile(
        "a = arctan(x); b = atan(x); a - b + arctan2(x, 1) - atan2(x, 1)"
    )
    assert function(0.7) == (0.0, {"x": 0.0})


# -- let-bindings -------------------------------------------------------------------------------

STAGED = "q = x + y\nf = q * z\nf"


@pytest.mark.parametrize(
    "text",
    [
        STAGED,
        "q = x + y; f = q * z; f",
        "q = x + y;f = q * z;f;",
        "\n\n\nq = x + y\n\n\nf = q * z\n\nf\n\n",
        "q = x + y\r\nf = q * z\r\nf\r\n",
        "# a comment first\nq = x + y  # the sum\nf = q * z # the product\nf # no newline after",
        "q = x + y;;; f = q * z ;\n; f ;;",
        "q = (x\n     + y)\nf = (q *\n     z)\nf",
        "q = x + \\\n    y\nf = q * z\nf",
        "q = x + y  # comment with ( an unclosed parenthesis\nf = q * z\nf",
        "   q = x + y\n\t f = q * z\n  f",
    ],
    ids=[
        "newlines",
        "semicolons",
        "trailing-semicolon",
        "blank-lines",
        "crlf",
        "comments",
        "extra-separators",
        "newline-in-parentheses",
        "backslash-continuation",
        "parenthesis-in-comment",
        "indentation",
    ],
)
def test_program_layouts(text: str) -> None:
    function = symbackprop.compile(text)
    assert function.inputs == ("x", "y", "z")
    assert function(x=-2, y=5, z=-4) == (-12.0, {"x": -4.0, "y": -4.0, "z": 3.0})


def test_program_parts() -> None:
    program = symbackprop.parse(STAGED)
    assert [binding.name for binding in program.bindings] == ["q", "f"]
    assert program.inputs == ("x", "y", "z")
    q, f = program.bindings
    assert (q.name_span.line, q.name_span.column) == (1, 1)
    assert (f.name_span.line, f.name_span.column) == (2, 1)
    assert program.source == STAGED


def test_binding_names_appear_in_the_generated_code() -> None:
    source = symbackprop.compile(STAGED).source
    assert "q = x + y" in source
    assert "f = q * z" in source
    assert re.search(r"^\s+dq = ", source, re.MULTILINE)


def test_bindings_are_not_inputs_and_may_go_unused() -> None:
    function = symbackprop.compile("unused = x * 2\nhalf = y / 2\nhalf + x")
    assert function.inputs == ("x", "y")
    assert function(4, 6) == (7.0, {"x": 1.0, "y": 0.5})


def test_a_binding_may_shadow_nothing_and_be_used_many_times() -> None:
    function = symbackprop.compile("s = x * x\ns + s * s")
    value, gradients = function(3)
    assert value == 9 + 81
    assert gradients == {"x": pytest.approx(2 * 3 + 4 * 27)}


def test_a_comment_can_hold_anything() -> None:
    function = symbackprop.compile("x # $ @ ' \" é · \\ ( ) = ; import os; exp = 3")
    assert function.inputs == ("x",)
    assert function.value(2) == 2.0


# -- errors -------------------------------------------------------------------------------------

# (text, class, line, column, fragment of the message)
ERRORS: list[tuple[str, type[SymbackpropError], int, int, str]] = [
    ("x +", ParseError, 1, 4, "unexpected end of the program"),
    ("(x + y", ParseError, 1, 7, "'(' at line 1, column 1 is not closed"),
    ("z = 1\n  (x + (y\n", ParseError, 2, 10, "'(' at line 2, column 8 is not closed"),
    ("x $ y", ParseError, 1, 3, "unexpected character '$'"),
    ("x + * y", ParseError, 1, 5, "unexpected '*'"),
    ("2x", ParseError, 1, 2, "write * for a product"),
    ("2 (x)", ParseError, 1, 3, "write * for a product"),
    ("x 2", ParseError, 1, 3, "unexpected number '2'"),
    ("exp(x, y)", ArityError, 1, 1, "exp() takes 1 argument, got 2"),
    ("pow(x)", ArityError, 1, 1, "pow() takes 2 arguments, got 1"),
    ("max(x, axis=1, y)", ParseError, 1, 16, "positional argument follows a named one"),
    ("1 + min(x, y, axis=0)", ArityError, 1, 5, "reduces one array"),
    ("expp(x)", UnknownFunctionError, 1, 1, "did you mean 'exp'"),
    ("y + sigmod(x)", UnknownFunctionError, 1, 5, "did you mean 'sigmoid'"),
    ("foo(x)", UnknownFunctionError, 1, 1, "unknown function 'foo'"),
    ("e(x)", UnknownFunctionError, 1, 1, "unknown function 'e'"),
    ("x = 1; x = 2; x", NameResolutionError, 1, 8, "already bound"),
    ("y = x; x = 1; x", NameResolutionError, 1, 8, "before it is bound"),
    ("x = x + 1; x", NameResolutionError, 1, 1, "before it is bound"),
    ("exp = 3; exp", NameResolutionError, 1, 1, "reserved function name"),
    ("pi = 3; pi", NameResolutionError, 1, 1, "reserved constant name"),
    ("e = 2; e * x", NameResolutionError, 1, 1, "reserved constant name"),
    ("exp + 1", NameResolutionError, 1, 1, "'exp' is a function"),
    ("1 + max", NameResolutionError, 1, 5, "'max' is a function"),
    ("arcsin(x, y)", ArityError, 1, 1, "arcsin() takes 1 argument, got 2"),
    ("arctan2(y)", ArityError, 1, 1, "arctan2() takes 2 arguments, got 1"),
    ("arcsine(x)", UnknownFunctionError, 1, 1, "did you mean 'arcsin'"),
    ("arccosh = 1; arccosh", NameResolutionError, 1, 1, "reserved function name"),
    ("2 * arctan", NameResolutionError, 1, 5, "'arctan' is a function"),
    ("sign = 1; sign", NameResolutionError, 1, 1, "reserved function name"),
    ("x = 3", ParseError, 1, 1, "must end with its output expression"),
    ("q = x + y\n\n# a trailing comment", ParseError, 1, 1, "must end with its output"),
    ("x; y", ParseError, 1, 1, "only the last statement may be a bare expression"),
    ("", ParseError, 1, 1, "empty"),
    ("   \n\t  \n", ParseError, 1, 1, "empty"),
    (";;;", ParseError, 1, 4, "empty"),
    ("a = 1\nb = a * x\nc = b + * 2\nc", ParseError, 3, 9, "unexpected '*'"),
    ("a = 1\nb = a * x\nc = foo(b)\nc", UnknownFunctionError, 3, 5, "unknown function"),
    ("a = 1\nb = 2\na = 3\na", NameResolutionError, 3, 1, "already bound"),
    ("a = 1\r\nb = 2\r\nc = a $ b\r\nc", ParseError, 3, 7, "'$'"),
    ("\tx $ y", ParseError, 1, 4, "'$'"),
    ("x\t+\t\t$", ParseError, 1, 6, "'$'"),
    ("a = 1\n\tb = a\t$ 2\nb", ParseError, 2, 8, "'$'"),
    ("x = = 1", ParseError, 1, 5, "unexpected '='"),
    ("x = y = 1", ParseError, 1, 7, "unexpected '='"),
    ("= 1", ParseError, 1, 1, "unexpected '='"),
]


@pytest.mark.parametrize(
    ("text", "kind", "line", "column", "fragment"), ERRORS, ids=[repr(e[0]) for e in ERRORS]
)
def test_errors_are_located(
    text: str, kind: type[SymbackpropError], line: int, column: int, fragment: str
) -> None:
    error = compile_error(text)
    assert type(error) is kind, str(error)
    assert (error.line, error.column) == (line, column), str(error)
    assert fragment in str(error)
    assert fragment in error.message
    assert error.source == text


def test_error_classes_are_value_errors() -> None:
    for kind in (ParseError, NameResolutionError, UnknownFunctionError, ArityError):
        assert issubclass(kind, SymbackpropError)
    assert issubclass(SymbackpropError, ValueError)
    assert symbackprop.EvaluationError.__mro__[1] is SymbackpropError


def test_the_caret_underlines_the_whole_offending_call() -> None:
    error = compile_error("y + exp(x, y)")
    assert picture(error) == (1, "y + exp(x, y)", 5, 9)
    error = compile_error("y + expp(x)")
    assert picture(error) == (1, "y + expp(x)", 5, 4)


def test_unclosed_parenthesis_error_mentions_where_it_opened() -> None:
    error = compile_error("(x + y")
    assert "line 1, column 1" in error.message
    assert error.expected == ("')'",)
    error = compile_error("f = exp((x)\n")
    assert "the '(' at line 1, column 8 is not closed" in error.message


def test_parse_error_expected_is_a_tuple_of_words() -> None:
    error = compile_error("x + * y")
    assert isinstance(error, ParseError)
    assert isinstance(error.expected, tuple)
    assert "a number" in error.expected
    assert "a name" in error.expected
    assert "'('" in error.expected
    assert all(isinstance(word, str) and word for word in error.expected)
    # Words, not grammar token names.
    assert not any(re.fullmatch(r"[A-Z_$]+", word) for word in error.expected)
    assert "expected: " + ", ".join(error.expected) in str(error)


def test_expected_words_at_the_end() -> None:
    error = compile_error("x +")
    assert isinstance(error, ParseError)
    assert set(error.expected) >= {"a number", "a name", "'('"}


def test_errors_survive_pickling() -> None:
    import pickle

    error = compile_error("x + * y")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is ParseError
    assert str(copy) == str(error)
    assert copy.expected == error.expected


def test_a_program_of_only_comments_is_empty() -> None:
    for text in ("# only\n# comments", "#", "# c\n\n  # d\n", "; # c ;"):
        error = compile_error(text)
        assert isinstance(error, ParseError)
        assert "empty" in error.message


def test_parse_rejects_non_text() -> None:
    with pytest.raises(TypeError):
        symbackprop.parse(b"x + y")  # type: ignore[arg-type]


# -- caret_picture ------------------------------------------------------------------------------


def test_caret_picture_single_character() -> None:
    assert caret_picture("x + * y", Span(4, 5, 1, 5)) == "  1 | x + * y\n    |     ^"


def test_caret_picture_wide_span_on_a_later_line() -> None:
    source = "a = 1\nb = exp(a, 2)\nb"
    picture_text = caret_picture(source, Span(10, 19, 2, 5, 2, 14))
    assert picture_text == "  2 | b = exp(a, 2)\n    |     ^^^^^^^^^"


def test_caret_picture_span_past_the_end_and_tabs() -> None:
    assert caret_picture("x +", Span(3, 4, 1, 4)) == "  1 | x +\n    |    ^"
    assert caret_picture("\tx $", Span(3, 4, 1, 4)) == "  1 |  x $\n    |    ^"
    assert caret_picture("", Span(0, 1, 1, 1)) == "  1 | \n    | ^"


def test_caret_picture_multi_line_span_stops_at_the_end_of_its_first_line() -> None:
    assert caret_picture("(x +\n y)", Span(0, 8, 1, 1, 2, 4)) == "  1 | (x +\n    | ^^^^"


# The caret picture must show the line the position counts.  Positions count '\n' only (as the
# grammar does); the picture must not split the text at other characters Python's
# str.splitlines() treats as line breaks: a lone '\r' and '\f' are whitespace to the grammar,
# and '\x85' or '\u2028' may sit in a comment.
@pytest.mark.parametrize(
    "text",
    [
        "a = 1\f\nb $\nb",
        "a = 1;\rb = 2\nc $",
        "# note\u2028\nx $",
        "a = 1 # \x85\nb = a $\nb",
        "a = 1 # \x1c \x1d \x1e\nb $",
        "a = 1 # \x0b\nb $",
    ],
    ids=["form-feed", "lone-cr", "line-separator", "nel", "file-separator", "vertical-tab"],
)
def test_caret_picture_shows_the_right_line_despite_other_line_breaks(text: str) -> None:
    with pytest.raises(SymbackpropError) as caught:
        symbackprop.compile(text)
    error = caught.value
    assert error.line == 2
    line, shown, column, _ = picture(error)
    assert line == 2
    assert shown == text.split("\n")[1].expandtabs(1), str(error)
    assert shown[column - 1] == "$"


# -- inputs chosen to break parsers -------------------------------------------------------------

N = 10_000

NASTY: dict[str, str] = {
    "e-acute": "é + 1",
    "middle-dot": "x·y",
    "superscript-two": "x²",
    "full-width-digits": "\uff11 + \uff12",
    "full-width-letter": "\uff58 + 1",
    "greek": "α * x",
    "nul": "\x00",
    "nul-in-expression": "x + \x00",
    "nul-in-comment": "x # \x00",
    "surrogate": "\ud800",
    "surrogate-in-comment": "x # \ud800",
    "vertical-tab": "\x0b",
    "vertical-tab-between": "x\x0by",
    "form-feed": "x\f+\fy",
    "bom": "\ufeffx",
    "zero-width-space": "x\u200b+ y",
    "lone-cr": "x\r+ y",
    "escape-sequence-in-comment": "x # \x1b[2J\x1b[31m red",
    "long-name": "a" * 100_000 + " + 1",
    "long-number": "9" * 5_000,
    "nested-parentheses": "(" * N + "x" + ")" * N,
    "unary-minuses": "-" * N + "x",
    "unary-mixed": "-+" * (N // 2) + "x",
    "long-sum": " + ".join(f"x{i}" for i in range(N)),
    "long-sum-same": "+".join(["x"] * N),
    "power-tower": "**".join(["x"] * 1_000),
    "unclosed": "(" * N,
    "unclosed-with-x": "(" * N + "x",
    "closing": ")" * N,
    "plus": "+",
    "minus": "-",
    "star": "*",
    "slash": "/",
    "power": "**",
    "caret": "^",
    "comma": ",",
    "equal": "=",
    "lone-ops": "+ - * / ** ^",
    "1e": "1e",
    "1e+": "1e+",
    "1e-": "1e-",
    "1.2.3": "1.2.3",
    "..5": "..5",
    "x.": "x.",
    "dot": ".",
    "dollar": "$",
    "backslash": "\\",
    "backslash-end": "x \\",
    "x = = 1": "x = = 1",
    "= 1": "= 1",
    ";;;": ";;;",
    "#": "#",
    "x = y = 1": "x = y = 1",
    "lambda": "lambda",
    "lambda-expression": "lambda x: x",
    "import os": "import os",
    "__import__": "__import__('os').system('echo hi')",
    "x; import os": "x; import os",
    "exec": "exec",
    "eval(x)": "eval(x)",
    "single-quoted": "'a'",
    "double-quoted": '"x"',
    "triple-quoted": '"""x"""',
    "f-string": "f'{x}'",
    "subscript": "x[0]",
    "attribute": "x.T",
    "matmul": "@",
    "matmul-op": "x @ y",
    "conditional": "x if y else z",
    "comparison": "x < y",
    "not": "not x",
    "and": "x and y",
    "True": "True",
    "None": "None",
    "1_000": "1_000",
    "0x10": "0x10",
    "0b1": "0b1",
    "0o7": "0o7",
    "1j": "1j",
    "inf": "inf",
    "nan": "nan",
    "-inf": "-inf",
    "walrus": "(x := 1)",
    "augmented": "x += 1",
    "floor-division": "x // y",
    "modulo": "x % y",
    "bitwise": "x & y | ~z",
    "shift": "x << 2",
    "braces": "{x}",
    "keyword-arguments": "max(a=1, b=2)",
    "empty-call": "exp()",
    "trailing-comma": "max(x, y,)",
    "leading-comma": "max(, x)",
    "call-of-call": "exp(x)(y)",
    "empty-parentheses": "()",
    "semicolon-in-parentheses": "(x; y)",
    "binding-in-parentheses": "(x = 1)",
    "number-binding": "1 = x",
    "call-binding": "exp(x) = 1; x",
    "many-bindings": "".join(f"v{i} = x + {i}\n" for i in range(2_000)) + "v1999",
    "many-lines-then-error": "x\n" * 2_000 + "$",
}


@pytest.mark.parametrize("text", list(NASTY.values()), ids=list(NASTY))
def test_nasty_inputs_compile_or_raise_symbackprop_error_quickly(text: str) -> None:
    started = time.perf_counter()
    try:
        function = symbackprop.compile(text)
    except SymbackpropError as error:
        assert isinstance(error.line, int) and isinstance(error.column, int)
        assert "^" in str(error)
    else:
        # Whatever compiled must run, or say in our words why not (x @ y of two numbers).
        try:
            function.value(**dict.fromkeys(function.inputs, 0.5))
        except SymbackpropError as error:
            assert "^" in str(error)
    # A guard against hangs (exponential backtracking, runaway recursion), not a speed test:
    # generous, since the machine may be shared.
    assert time.perf_counter() - started < 30.0


def test_deep_nesting_and_long_chains_compute_correctly() -> None:
    assert symbackprop.compile(NASTY["nested-parentheses"])(2.0) == (2.0, {"x": 1.0})
    assert symbackprop.compile(NASTY["unary-minuses"])(2.0) == (2.0, {"x": 1.0})
    assert symbackprop.compile("-" * (N + 1) + "x")(2.0) == (-2.0, {"x": -1.0})
    assert symbackprop.compile(NASTY["unary-mixed"])(2.0) == (2.0, {"x": 1.0})
    assert symbackprop.compile(NASTY["long-sum-same"])(0.5) == (N * 0.5, {"x": float(N)})
    long_sum = symbackprop.compile(NASTY["long-sum"])
    assert len(long_sum.inputs) == N
    value, gradients = long_sum(*range(N))
    assert value == sum(range(N))
    assert set(gradients.values()) == {1.0}
    long_name = "a" * 100_000
    assert symbackprop.compile(NASTY["long-name"])(**{long_name: 2.0}) == (3.0, {long_name: 1.0})


def test_unclosed_ten_thousand_times() -> None:
    error = compile_error("(" * N)
    assert error.column == N + 1
    assert f"column {N}" in error.message


@pytest.mark.parametrize(
    ("text", "kind", "column"),
    [
        ("é + 1", ParseError, 1),
        ("x·y", ParseError, 2),
        ("x²", ParseError, 2),
        ("\x00", ParseError, 1),
        ("x + \x00", ParseError, 5),
        ("1.2.3", ParseError, 4),
        ("x.", ParseError, 2),
        ("x[0]", ParseError, 2),
        ("x < y", ParseError, 3),
        ("1_000", ParseError, 2),
        ("0x10", ParseError, 2),
        ("1j", ParseError, 2),
        ("1e", ParseError, 2),
        ("x if y else z", ParseError, 3),
        ("exp()", ParseError, 5),
        ("max(x, y,)", ParseError, 10),
    ],
)
def test_non_language_syntax_is_a_located_parse_error(
    text: str, kind: type[SymbackpropError], column: int
) -> None:
    error = compile_error(text)
    assert type(error) is kind
    assert (error.line, error.column) == (1, column)


def test_non_ascii_digits_are_not_numbers() -> None:
    """Numbers are ASCII, as Python writes them (and as names are): '１' is not 1."""
    for text in ("\uff11 + \uff12", "\u0663", "1\u0663"):
        error = compile_error(text)
        assert isinstance(error, ParseError), text


@pytest.mark.parametrize("name", ["None", "True", "inf", "nan", "lambda", "exec", "import_"])
def test_python_words_are_plain_input_names(name: str) -> None:
    function = symbackprop.compile(f"{name} * 2")
    assert function.inputs == (name,)
    assert function(**{name: 1.5}) == (3.0, {name: 2.0})


# -- nothing the user writes is ever executed ---------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        "__import__('os').system('touch {marker}')",
        'exec(\'open("{marker}", "w")\')',
        'eval(\'open("{marker}", "w")\')',
        "x; __import__('os').system('touch {marker}')",
        "x # \r__import__('os').system('touch {marker}')",
        "x # \n__import__('os').system('touch {marker}')",
        "x # \x0c\n__import__('os').system('touch {marker}')",
    ],
)
def test_dangerous_text_is_never_executed(template: str, tmp_path: Path) -> None:
    marker = tmp_path / "pwned_marker"
    text = template.format(marker=marker)
    try:
        function = symbackprop.compile(text)
    except SymbackpropError:
        pass
    else:
        function(**dict.fromkeys(function.inputs, 1.0))
        function(**{name: np.ones(2) for name in function.inputs})
    assert not marker.exists()


@pytest.mark.parametrize(
    "text",
    [
        "__import__(os)",
        "__import__(os) + 1",
        "exec(x)",
        "eval(x)",
        "open(x)",
        "getattr(x, y)",
        "globals(x)",
        "print(x)",
        "compile(x)",
        "breakpoint(x)",
    ],
)
def test_python_builtins_are_unknown_functions(text: str) -> None:
    error = compile_error(text)
    assert isinstance(error, UnknownFunctionError), str(error)
    assert (error.line, error.column) == (1, 1)


def test_a_bare_exec_is_an_input() -> None:
    function = symbackprop.compile("exec")
    assert function.inputs == ("exec",)
    assert function(**{"exec": 2.0}) == (2.0, {"exec": 1.0})


# -- generated code with hostile input names ----------------------------------------------------

HOSTILE_NAMES = [
    "lambda",
    "def",
    "return",
    "class",
    "import",
    "from",
    "global",
    "yield",
    "None",
    "True",
    "False",
    "if",
    "match",
    "case",
    "type",
    "_",
    "print",
    "exec",
    "eval",
    "float",
    "np",
    "numpy",
    "math",
    "symbackprop",
    "__import__",
    "__class__",
    "__builtins__",
    "__name__",
    "self",
    "value_and_grad",
    "value",
    "sum_to_shape",
    "output_shape",
    "exp1",
    "mul1",
    "add1",
    "div1",
    "dx",
    "dx_",
    "ddx",
    "x_",
    "d",
    "inf",
    "nan",
    "maximum",
    "unit",
    "unit_array",
    "erf_array",
    "sigmoid_array",
    "relu_array",
]

HOSTILE_FORMULA = "{n} * x + exp({n} * x) + sigmoid({n}) - max({n}, x) + {n} ** 2 / (1 + x*x)"


def _hostile_expected(n: float, x: float) -> tuple[float, float, float]:
    sigma = 1.0 / (1.0 + math.exp(-n))
    value = n * x + math.exp(n * x) + sigma - max(n, x) + n**2 / (1 + x * x)
    d_n = x + x * math.exp(n * x) + sigma * (1 - sigma) - (1.0 if n >= x else 0.0)
    d_n += 2 * n / (1 + x * x)
    d_x = n + n * math.exp(n * x) - (0.0 if n >= x else 1.0) - n**2 * 2 * x / (1 + x * x) ** 2
    return value, d_n, d_x


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_input_names_in_float_and_array_mode(name: str) -> None:
    function = symbackprop.compile(HOSTILE_FORMULA.format(n=name))
    assert function.inputs == (name, "x")
    for n, x in ((0.3, 0.7), (1.25, -0.5)):
        value, d_n, d_x = _hostile_expected(n, x)
        got_value, gradients = function(**{name: n, "x": x})
        assert list(gradients) == [name, "x"]
        assert got_value == pytest.approx(value, rel=1e-12)
        assert gradients[name] == pytest.approx(d_n, rel=1e-12)
        assert gradients["x"] == pytest.approx(d_x, rel=1e-12)
        assert function.value(**{name: n, "x": x}) == pytest.approx(value, rel=1e-12)

    n_array = np.array([0.3, 1.25])
    x_array = np.array([0.7, -0.5])
    got_value, gradients = function(**{name: n_array, "x": x_array})
    expected = [_hostile_expected(n, x) for n, x in zip(n_array, x_array, strict=True)]
    np.testing.assert_allclose(got_value, [e[0] for e in expected], rtol=1e-12)
    np.testing.assert_allclose(gradients[name], [e[1] for e in expected], rtol=1e-12)
    np.testing.assert_allclose(gradients["x"], [e[2] for e in expected], rtol=1e-12)


def test_hostile_names_together_with_hostile_bindings() -> None:
    text = "lambda = x * dx + x_\nnp = lambda * x__ + ddx\nnp * exp1 + dx_ + exp(np) - None"
    function = symbackprop.compile(text)
    assert function.inputs == ("x", "dx", "x_", "x__", "ddx", "exp1", "dx_", "None")
    point = {"x": 0.1, "dx": 0.2, "x_": 0.3, "x__": 0.4, "ddx": 0.5, "exp1": 0.6, "dx_": 0.7}
    point["None"] = 0.8
    lam = point["x"] * point["dx"] + point["x_"]
    npv = lam * point["x__"] + point["ddx"]
    value = npv * point["exp1"] + point["dx_"] + math.exp(npv) - point["None"]
    d_np = point["exp1"] + math.exp(npv)
    d_lam = d_np * point["x__"]
    expected = {
        "x": d_lam * point["dx"],
        "dx": d_lam * point["x"],
        "x_": d_lam,
        "x__": d_np * lam,
        "ddx": d_np,
        "exp1": npv,
        "dx_": 1.0,
        "None": -1.0,
    }
    for mode_point in (point, {k: np.array([v, v]) for k, v in point.items()}):
        got_value, gradients = function(**mode_point)
        np.testing.assert_allclose(got_value, value, rtol=1e-12)
        assert list(gradients) == list(expected)
        for name, gradient in expected.items():
            np.testing.assert_allclose(gradients[name], gradient, rtol=1e-12)


# -- random text: never anything but a located SymbackpropError --------------------------------

_PIECES = [*"xyz12.eE+-*/^()=;#,\t \n$é\\", "exp(", "max(", "pi", "**", "\r\n", "1e-3"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=25).map("".join))
def test_random_text_compiles_or_raises_a_located_error(text: str) -> None:
    try:
        symbackprop.compile(text)
    except SymbackpropError as error:
        check_located(error, text)
        offset = error.span.start
        assert error.line == text.count("\n", 0, offset) + 1
        assert error.column == offset - (text.rfind("\n", 0, offset) + 1) + 1


def test_errors_in_a_very_long_line_show_a_window_around_the_problem() -> None:
    """A generated formula may be one 100 kB line: the error shows 100 columns around the
    problem, with ellipses, and the caret still under the offending character."""
    text = "y + " + "x+" * 50_000 + "$"
    with pytest.raises(ParseError) as caught:
        symbackprop.compile(text)
    message = str(caught.value)
    assert len(message) < 500
    picture_line, caret_line = message.split("\n")[1:3]
    assert picture_line.startswith("  1 | …") and picture_line.endswith("$")
    assert caret_line.index("^") == picture_line.index("$")
    assert caught.value.column == len(text)  # the error itself still has the true column


def test_a_long_failing_sub_expression_is_quoted_in_part() -> None:
    text = "log(-(" + "x+" * 5_000 + "x))"
    with pytest.raises(symbackprop.EvaluationError) as caught:
        symbackprop.compile(text)(0.5)
    assert "'log(-(x+x+" in caught.value.message and "…" in caught.value.message
    assert len(caught.value.message) < 200


def test_lark_is_imported_by_the_first_parse_not_by_import_symbackprop():
    # Lark is a third of NumPy's import time: `import symbackprop` alone must not pay it.
    check = (
        "import sys, symbackprop\n"
        "assert 'lark' not in sys.modules, 'imported with symbackprop'\n"
        "assert symbackprop.compile('x * y')(2.0, 3.0) == (6.0, {'x': 3.0, 'y': 2.0})\n"
        "assert 'lark' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", check], check=True, timeout=120)


@pytest.mark.parametrize("text", ["2 .T", "(2).T", "1e3 .T", "2. .T", "(-2).T + x"])
def test_to_text_of_a_transposed_number_parses_back(text: str) -> None:
    # `2.T` would lex as the number `2.` followed by the name `T`.
    canonical = symbackprop.to_text(text)
    assert symbackprop.to_text(canonical) == canonical
    point = {name: 1.5 for name in symbackprop.compile(text).inputs}
    assert symbackprop.compile(canonical).value(**point) == symbackprop.compile(text).value(**point)
