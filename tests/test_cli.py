"""The command line `symbackprop grad EXPR --at NAME=VALUE,... [--wrt a,b] [--json]`.

Mostly through `symbackprop.cli.main([...])` with pytest's capsys; a few runs go through a real
`python -m symbackprop` process.  Bad input must print `symbackprop: error: ...` on stderr and
exit with status 2, never a Python traceback.
"""

from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

import symbackprop
from symbackprop.cli import EXAMPLE, STAGED_EXAMPLE, main

REPO = Path(symbackprop.__file__).resolve().parent.parent

NEURON = "1/(1+exp(-(w0*x0+w1*x1+w2)))"
NEURON_AT = "w0=2,x0=-1,w1=-3,x1=-2,w2=-3"
# The lecture's numbers, to 6 significant digits.
NEURON_LINES = [
    "value = 0.731059",
    "∂/∂w0 = -0.196612",
    "∂/∂x0 = 0.393224",
    "∂/∂w1 = -0.393224",
    "∂/∂x1 = -0.589836",
    "∂/∂w2 = 0.196612",
]
SIGMA = 1.0 / (1.0 + math.exp(-1.0))  # the neuron's value: w·x = 1 at the lecture's point

STAGED_PROGRAM = """\
# The lecture's first example, one gate per line.
q = x + y      # the add gate

f = q * z      # the mul gate
f
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def run_process(
    *argv: str, stdin: bytes | None = None, environment: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    child = {key: value for key, value in os.environ.items() if key != "PYTHONIOENCODING"}
    child["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [child.get("PYTHONPATH")])])
    child.update(environment or {"PYTHONIOENCODING": "utf-8"})
    return subprocess.run(
        [sys.executable, "-m", "symbackprop", *argv],
        input=stdin if stdin is not None else b"",
        capture_output=True,
        env=child,
        timeout=60,
        check=False,
    )


def assert_clean_error(status: int, out: str, err: str) -> None:
    assert status == 2, err
    assert err.startswith("symbackprop: error:"), err
    assert "Traceback" not in err
    assert out == ""


# -- grad -----------------------------------------------------------------------------------------


def test_sigmoid_neuron(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "grad", NEURON, "--at", NEURON_AT)
    assert status == 0
    assert err == ""
    assert out.splitlines() == NEURON_LINES


def test_sigmoid_neuron_through_python_dash_m() -> None:
    process = run_process("grad", NEURON, "--at", NEURON_AT)
    assert process.returncode == 0, process.stderr.decode()
    assert process.stderr == b""
    assert process.stdout.decode("utf-8").splitlines() == NEURON_LINES


def test_json_has_value_and_gradient_in_full_precision(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "grad", NEURON, "--at", NEURON_AT, "--json")
    assert status == 0, err
    data = json.loads(out)
    assert set(data) == {"value", "gradient"}
    assert list(data["gradient"]) == ["w0", "x0", "w1", "x1", "w2"]
    assert data["value"] == pytest.approx(SIGMA, rel=1e-15)
    local = SIGMA * (1.0 - SIGMA)
    expected = {"w0": -local, "x0": 2 * local, "w1": -2 * local, "x1": -3 * local, "w2": local}
    for name, gradient in expected.items():
        assert data["gradient"][name] == pytest.approx(gradient, rel=1e-14)
    # Full precision: the same floats as the Python API, far more than 6 digits.
    value, gradients = symbackprop.compile(NEURON)(w0=2, x0=-1, w1=-3, x1=-2, w2=-3)
    assert data == {"value": value, "gradient": gradients}
    assert str(value) in out
    assert abs(data["value"] - 0.731059) > 1e-8


def test_json_is_a_single_line(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "grad", "x*y", "--at", "x=2,y=3", "--json")
    assert status == 0
    assert out == '{"value": 6.0, "gradient": {"x": 3.0, "y": 2.0}}\n'


def test_json_stays_standard_json_for_infinite_values(capsys: pytest.CaptureFixture[str]) -> None:
    """`--json` output must parse with a strict JSON parser (no NaN/Infinity tokens)."""

    def reject(token: str) -> None:
        raise ValueError(f"not JSON: {token}")

    for expression, at in (("x*x", "x=1e200"), ("x", "x=nan")):
        status, out, err = run(capsys, "grad", expression, "--at", at, "--json")
        if status == 0:
            json.loads(out, parse_constant=reject)
        else:
            assert_clean_error(status, out, err)


def test_wrt_restricts_the_gradients(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "grad", NEURON, "--at", NEURON_AT, "--wrt", "w2,w0")
    assert status == 0, err
    assert out.splitlines() == [NEURON_LINES[0], NEURON_LINES[1], NEURON_LINES[5]]

    status, out, err = run(capsys, "grad", NEURON, "--at", NEURON_AT, "--wrt", " x1 ", "--json")
    assert status == 0, err
    data = json.loads(out)
    assert list(data["gradient"]) == ["x1"]
    assert data["gradient"]["x1"] == pytest.approx(-3 * SIGMA * (1 - SIGMA), rel=1e-14)


def test_documented_staged_example(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["grad", "q = x + y; f = q * z; f", "--at", "x=-2,y=5,z=-4", "--wrt", "x,z", "--json"]
    status, out, err = run(capsys, *argv)
    assert status == 0, err
    assert out == '{"value": -12.0, "gradient": {"x": -4.0, "z": 3.0}}\n'


def test_integers_print_without_a_decimal_point_and_names_align(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, err = run(capsys, "grad", "a * bcd", "--at", "a=2, bcd = 3")
    assert status == 0, err
    assert out.splitlines() == ["value = 6", "∂/∂a   = 3", "∂/∂bcd = 2"]


def test_a_formula_without_inputs(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "grad", "cos(pi)", "--at", "")
    assert status == 0, err
    assert out.splitlines() == ["value = -1"]


def test_python_keyword_as_an_input_name(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "grad", "lambda * None", "--at", "lambda=2,None=5", "--json")
    assert status == 0, err
    assert json.loads(out) == {"value": 10.0, "gradient": {"lambda": 5.0, "None": 2.0}}


def test_expression_from_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(STAGED_PROGRAM))
    status, out, err = run(capsys, "grad", "-", "--at", "x=-2,y=5,z=-4", "--json")
    assert status == 0, err
    assert json.loads(out) == {"value": -12.0, "gradient": {"x": -4.0, "y": -4.0, "z": 3.0}}


def test_expression_from_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "neuron.sbp"
    path.write_text(
        "# the lecture's neuron\n"
        "dot = w0*x0 + w1*x1 + w2   # weighted sum\n"
        "\n"
        "f = 1 / (1 +\n"
        "         exp(-dot))        # parentheses continue the line\n"
        "f\n",
        encoding="utf-8",
    )
    status, out, err = run(capsys, "grad", f"@{path}", "--at", NEURON_AT)
    assert status == 0, err
    assert out.splitlines() == NEURON_LINES


def test_expression_from_a_file_with_crlf(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "staged.sbp"
    path.write_bytes(STAGED_PROGRAM.replace("\n", "\r\n").encode("utf-8"))
    status, out, err = run(capsys, "grad", f"@{path}", "--at", "x=-2,y=5,z=-4")
    assert status == 0, err
    assert out.splitlines() == ["value = -12", "∂/∂x = -4", "∂/∂y = -4", "∂/∂z = 3"]


# -- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["grad", "x + * y", "--at", "x=1,y=2"], "unexpected '*'"),
        (["grad", "2x", "--at", "x=1"], "write * for a product"),
        (["grad", "expp(x)", "--at", "x=1"], "did you mean 'exp'"),
        (["grad", "exp(x, y)", "--at", "x=1,y=2"], "takes 1 argument"),
        (["grad", "", "--at", "x=1"], "empty"),
        (["grad", "x + y", "--at", "x=1"], "missing input: 'y'"),
        (["grad", "x + y", "--at", "x=1,y=2,z=3"], "unexpected input 'z'"),
        (["grad", "x", "--at", "x=abc"], "'abc' is not a number"),
        (["grad", "x", "--at", "x"], "NAME=VALUE"),
        (["grad", "x", "--at", "=1"], "NAME=VALUE"),
        (["grad", "x", "--at", "x=1;y=2"], "not a number"),
        (["grad", "x + y", "--at", "x=1,y=2", "--wrt", "z"], "wrt names 'z'"),
        (["grad", "x + y", "--at", "x=1,y=2", "--wrt", "x,x"], "more than once"),
        (["grad", "1/x", "--at", "x=0"], "division by zero"),
        (["grad", "exp(x)", "--at", "x=1000"], "overflow"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
def test_bad_input_is_a_clean_error(
    capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str
) -> None:
    status, out, err = run(capsys, *argv)
    assert_clean_error(status, out, err)
    assert fragment in err


def test_syntax_error_shows_the_caret_picture(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "grad", "x + * y", "--at", "x=1,y=2")
    assert_clean_error(status, out, err)
    assert "(at line 1, column 5)" in err
    assert "  1 | x + * y\n    |     ^\n" in err


def test_math_domain_error_shows_the_caret_picture(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "grad", "log(x)", "--at", "x=-1")
    assert_clean_error(status, out, err)
    assert err == (
        "symbackprop: error: math domain error while computing 'log(x)' with float inputs "
        "(NumPy arrays give inf/nan with a warning instead) (at line 1, column 1)\n"
        "  1 | log(x)\n"
        "    | ^^^^^^\n"
    )


def test_error_in_a_multi_line_file_points_at_its_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "bad.sbp"
    path.write_text("# comment\nq = x + y\nf = q $ z\nf\n", encoding="utf-8")
    status, out, err = run(capsys, "grad", f"@{path}", "--at", "x=1,y=2,z=3")
    assert_clean_error(status, out, err)
    assert "(at line 3, column 7)" in err
    assert "  3 | f = q $ z\n    |       ^\n" in err


def test_error_from_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("   # nothing here\n"))
    status, out, err = run(capsys, "grad", "-", "--at", "x=1")
    assert_clean_error(status, out, err)
    assert "empty" in err


def test_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "missing.sbp"
    status, out, err = run(capsys, "grad", f"@{missing}", "--at", "x=1")
    assert_clean_error(status, out, err)
    assert f"cannot read {missing}" in err


def test_directory_instead_of_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, out, err = run(capsys, "grad", f"@{tmp_path}", "--at", "x=1")
    assert_clean_error(status, out, err)
    assert "cannot read" in err


def test_file_that_is_not_utf8(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "latin1.sbp"
    path.write_bytes("x * 2  # café\n".encode("latin-1"))
    status, out, err = run(capsys, "grad", f"@{path}", "--at", "x=1")
    assert_clean_error(status, out, err)


def test_nul_byte_in_a_comment_of_a_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "nul.sbp"
    path.write_bytes(b"x * 2  # \x00\n")
    status, out, err = run(capsys, "grad", f"@{path}", "--at", "x=1")
    if status == 0:
        assert out.splitlines() == ["value = 2", "∂/∂x = 2"]
    else:
        assert_clean_error(status, out, err)


def test_undecodable_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(b"x * 2  # \xff\n"), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    status, out, err = run(capsys, "grad", "-", "--at", "x=1")
    assert_clean_error(status, out, err)


def test_lone_surrogate_from_stdin_in_a_comment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # What Python's stdin gives for the byte 0xff under surrogateescape (UTF-8 mode).
    monkeypatch.setattr(sys, "stdin", io.StringIO("x * 2  # \udcff\n"))
    status, out, err = run(capsys, "grad", "-", "--at", "x=1")
    if status == 0:
        assert out.splitlines() == ["value = 2", "∂/∂x = 2"]
    else:
        assert_clean_error(status, out, err)


def test_undecodable_stdin_byte_in_a_comment_through_python_dash_m() -> None:
    # In UTF-8 mode Python reads an undecodable stdin byte as a lone surrogate.
    process = run_process(
        "grad", "-", "--at", "x=1", stdin=b"x * 2  # \xff\n", environment={"PYTHONUTF8": "1"}
    )
    err = process.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err
    if process.returncode == 0:
        assert process.stdout.decode("utf-8").splitlines() == ["value = 2", "∂/∂x = 2"]
    else:
        assert process.returncode == 2
        assert err.startswith("symbackprop: error:")


def test_clean_error_through_python_dash_m() -> None:
    process = run_process("grad", "log(x)", "--at", "x=-1")
    err = process.stderr.decode("utf-8")
    assert process.returncode == 2
    assert err.startswith("symbackprop: error: math domain error")
    assert "  1 | log(x)\n    | ^^^^^^\n" in err
    assert "Traceback" not in err
    assert process.stdout == b""


# -- argparse -------------------------------------------------------------------------------------


def test_program_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "usage: symbackprop" in out
    assert "grad" in out
    assert "example" in out
    assert EXAMPLE in out


def test_grad_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["grad", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "--at" in out
    assert "--wrt" in out
    assert "--json" in out
    assert EXAMPLE in out
    assert STAGED_EXAMPLE in out


@pytest.mark.parametrize(
    "argv",
    [[], ["grad"], ["grad", "x"], ["frobnicate", "x"], ["grad", "x", "--at"]],
    ids=["nothing", "no-expr", "no-at", "unknown-command", "at-without-value"],
)
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "usage: symbackprop" in err
    assert "Traceback" not in err


def test_source_of_an_array_formula_takes_shapes(capsys: pytest.CaptureFixture[str]) -> None:
    """Array code depends on the inputs' shapes: --shapes gives them, and without them the
    error says how (every input is otherwise taken as a number, where @ has no meaning)."""
    text = "q = W @ x; sum(q*q)"
    assert main(["source", text, "--shapes", "W=3x4,x=4"]) == 0
    out = capsys.readouterr().out
    assert "dW = np.outer(dq, x)" in out and "import numpy as np" in out
    assert out == symbackprop.compile(text).source_for("array", {"W": (3, 4), "x": (4,)})
    assert main(["source", text]) == 2
    err = capsys.readouterr().err
    assert "--shapes W=3x4,x=4" in err and "Traceback" not in err
    for bad in ["z=3", "x=3xa", "x=4,x=4", "x", "x=-1"]:
        assert main(["source", text, "--shapes", bad]) == 2, bad
        assert capsys.readouterr().err.startswith("symbackprop: error: --shapes")


def test_source_picks_array_mode_for_array_operations(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["source", "sum(exp(x))"]) == 0
    assert "np.sum(exp1)" in capsys.readouterr().out
    assert main(["source", "x * y"]) == 0
    assert "import numpy" not in capsys.readouterr().out  # float mode: plain Python


@pytest.mark.parametrize("command", [["explain", NEURON, "--at", NEURON_AT], ["source", NEURON]])
def test_a_closed_pipe_ends_quietly(command: list[str]) -> None:
    """`symbackprop ... | head -1`: the reader has gone; exit 1, and no traceback on stderr.

    Here the pipe has no reader at all, so the first write fails, every time.
    """
    reader, writer = os.pipe()
    os.close(reader)
    child = dict(os.environ)
    child["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [child.get("PYTHONPATH")])])
    try:
        process = subprocess.run(
            [sys.executable, "-m", "symbackprop", *command],
            stdout=writer,
            stderr=subprocess.PIPE,
            env=child,
            timeout=60,
            check=False,
        )
    finally:
        os.close(writer)
    assert process.stderr == b""
    assert process.returncode == 1


def test_shapes_with_float_mode_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["source", "x * y", "--mode", "float", "--shapes", "x=3"]) == 2
    assert "--shapes is for array code" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["check", "sum(x)"], "elementwise formulas only"),
        (["check", "x + sum(W @ v)"], "elementwise formulas only"),
        (["diff", "sin(" * 400 + "x" + ")" * 400], "too deeply for SymPy"),
        (["check", "sin(" * 400 + "x" + ")" * 400], "too deeply for SymPy"),
        (["diff", "x" + "**x" * 1000, "--format", "latex"], "too deeply for SymPy"),
    ],
    ids=["check-sum", "check-matmul", "diff-deep", "check-deep", "diff-tower-latex"],
)
def test_what_check_and_diff_cannot_do_is_a_clean_error_with_a_caret(
    capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str
) -> None:
    status, out, err = run(capsys, *argv)
    assert_clean_error(status, out, err)
    assert fragment in err
    assert "(at line 1, column" in err and "^" in err


def test_graph_into_a_missing_directory_is_a_clean_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "missing" / "circuit.dot"
    status, out, err = run(capsys, "graph", "x*y", "--at", "x=1,y=2", "-o", str(target))
    assert_clean_error(status, out, err)
    assert "cannot write" in err and "No such file or directory" in err


def test_minimize_refuses_a_bad_tol_before_printing(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "minimize", "(x-3)**2", "--at", "x=0", "--tol", "-1")
    assert_clean_error(status, out, err)
    assert "--tol must be positive" in err


@pytest.mark.parametrize("text", ["sum(W @ x)", "q = x.T; sum(q)", "norm(x)", "pick(S, y)"])
def test_diff_refuses_array_formulas_as_check_does(
    capsys: pytest.CaptureFixture[str], text: str
) -> None:
    # SymPy would see numbers: `diff 'sum(W @ x)'` printed ∂f/∂W = x, not the matrix gradient.
    status, out, err = run(capsys, "diff", text)
    assert_clean_error(status, out, err)
    assert "array operation" in err and "^" in err
