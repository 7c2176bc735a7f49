"""The benchmark suite (benchmarks/, issue 6): it runs, it checks its contenders, it prints tables.

The quick run goes through `benchmarks.runner.main(["--quick", ...])` in this process.  No test
asserts a timing: the machine is shared and timings are noise here; only completion, the
correctness checks and the shape of the output are tested.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

# The suite lives at the top of the checkout, beside the package; plain `pytest` does not put
# the checkout on sys.path.
REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import symbackprop  # noqa: E402
from benchmarks import core, matrix, programs, runner, scalar, svm  # noqa: E402
from benchmarks.compile_time import sympy_route  # noqa: E402
from benchmarks.core import (  # noqa: E402
    NEEDS_VECTOR_LANGUAGE,
    Config,
    ContenderMismatch,
    Row,
    WorkloadResult,
    check_result,
)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, dict]:
    """One quick run of the whole suite: its exit status, what it printed, its JSON."""
    import contextlib
    import io

    path = tmp_path_factory.mktemp("bench") / "results.json"
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        status = runner.main(["--quick", "--json", str(path)])
    text = output.getvalue()
    print(text)  # shown by pytest -s or on failure
    return status, text, json.loads(path.read_text(encoding="utf-8"))


def test_quick_run_completes_with_every_contender_right(quick_run: tuple[int, str, dict]) -> None:
    status, text, data = quick_run
    assert status == 0, text
    assert [workload["name"] for workload in data["workloads"]] == list(runner.WORKLOAD_NAMES)
    for workload in data["workloads"]:
        assert workload["errors"] == [], workload["errors"]
        for row in workload["rows"]:
            assert not row["status"].startswith("WRONG"), row
    assert data["machine"]["nproc"] >= 1
    assert data["machine"]["versions"]["numpy"] == np.__version__


def test_quick_run_prints_a_table_per_workload_and_the_targets(
    quick_run: tuple[int, str, dict],
) -> None:
    _, text, _ = quick_run
    for name in runner.WORKLOAD_NAMES:
        assert f"== {name}: " in text
    assert "== targets (issue 6; informational) ==" in text
    assert "hand-written staged Python (math)" in text
    assert "1.00 (base)" in text
    assert "✓" in text or "✗" in text
    assert " met, " in text


def test_quick_run_measures_symbackprop_in_each_workload(quick_run: tuple[int, str, dict]) -> None:
    _, _, data = quick_run
    rows = {
        (w["name"], r["contender"]): r
        for w in data["workloads"]
        for r in w["rows"]
        if r["unit"] == "s"  # timings, not the memory rows of the same contenders
    }
    for key in [
        ("scalar", "symbackprop f(w0=..., ...) keyword"),
        ("scalar", "symbackprop f(*args) positional"),
        ("scalar", "symbackprop raw generated function"),
        ("scalar", "SymPy lambdify(math, cse=True)"),
        ("arrays", "symbackprop f(*arrays)"),
        ("import", "import symbackprop"),
    ]:
        row = rows[key]
        assert row["status"] == "ok" and row["value"] > 0, row
        assert row["samples"], row
    compiled = [
        r
        for w in data["workloads"]
        if w["name"] == "compile"
        for r in w["rows"]
        if r["contender"] == "symbackprop compile()"
    ]
    assert [r["x"] for r in compiled] == list(Config.quick_mode().compile_gates)
    # Optional peers are either measured or reported as absent, never silently dropped.
    for peer in ("JAX jit(value_and_grad)", "PyTorch eager autograd"):
        assert rows[("scalar", peer)]["status"] in ("ok", "not installed")


# -- correctness checks ------------------------------------------------------------------------


def test_check_result_refuses_a_wrong_gradient() -> None:
    good = (0.5, {"x": 1.0, "y": np.array([1.0, 2.0])})
    check_result("same", (0.5, {"x": 1.0, "y": np.array([1.0, 2.0])}), good)
    with pytest.raises(ContenderMismatch, match=r"wrong: ∂/∂y differs"):
        check_result("bad", (0.5, {"x": 1.0, "y": np.array([1.0, 2.1])}), good)
    with pytest.raises(ContenderMismatch, match="gradients for"):
        check_result("missing", (0.5, {"x": 1.0}), good)
    with pytest.raises(ContenderMismatch, match="shape"):
        check_result("shape", (0.5, {"x": 1.0, "y": np.array([1.0])}), good)
    with pytest.raises(ContenderMismatch, match="the value"):
        check_result("value", (math.nan, {"x": 1.0, "y": np.array([1.0, 2.0])}), good)


def test_a_wrong_contender_fails_the_run_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    def wrong(w0: float, x0: float, w1: float, x1: float, w2: float) -> core.Result:
        value, gradients = scalar.hand_written(w0, x0, w1, x1, w2)
        return value, {**gradients, "w2": gradients["w2"] + 1e-3}

    monkeypatch.setattr(scalar, "hand_written_stable", wrong)
    result = scalar.run(Config.quick_mode(repeats=1))
    assert any("hand-written, stable sigmoid is wrong" in error for error in result.errors)
    row = next(row for row in result.rows if row.contender == "hand-written, stable sigmoid")
    assert row.status == "WRONG (not timed)" and row.value is None
    assert "ERROR: hand-written, stable sigmoid is wrong" in core.format_table(result)


# -- the programs of the compile workload -------------------------------------------------------


def test_let_chains_are_deterministic_and_have_one_gate_per_binding() -> None:
    first, again = programs.let_chain(100), programs.let_chain(100)
    assert first.text == again.text
    assert first.gates == 100
    assert first.text.count("\n") == 101  # 100 bindings and the output
    assert first.inputs == ("x0", "x1", "x2", "x3")
    assert programs.let_chain(100, seed=7).text != first.text


@pytest.mark.parametrize("gates", [3, 10, 200])
def test_let_chain_reference_agrees_with_symbackprop_and_straight_line(gates: int) -> None:
    program = programs.let_chain(gates)
    reference = program.reference()
    compiled = symbackprop.compile(program.text)
    assert compiled.inputs == program.inputs
    check_result("symbackprop", compiled(*program.point), reference, rtol=1e-9)
    check_result("straight line", programs.straight_line(program)(*program.point), reference)


def test_expression_program_is_one_expression_of_the_asked_size() -> None:
    program = programs.expression(3_000)
    assert 3_000 <= len(program.text) < 3_200
    assert "=" not in program.text and "\n" not in program.text.rstrip("\n")
    compiled = symbackprop.compile(program.text)
    check_result(
        "symbackprop",
        compiled(*program.arguments(compiled.inputs)),
        program.reference(),
        rtol=1e-9,
    )
    check_result(
        "straight line", programs.straight_line(program)(*program.point), program.reference()
    )


def test_sympy_route_agrees_and_gives_up_when_too_slow() -> None:
    config = Config.quick_mode(repeats=1)
    program = programs.let_chain(5)
    outcome = sympy_route(program, config)
    assert outcome is not None
    timing, outputs, call = outcome
    assert timing.median > 0 and call.median > 0
    value, gradients = program.reference()
    check_result(
        "SymPy",
        (outputs[0], dict(zip(program.inputs, outputs[1:], strict=True))),
        (value, gradients),
    )
    hopeless = dataclasses.replace(config, sympy_timeout_seconds=0.2)
    assert sympy_route(programs.let_chain(200), hopeless) is None


# -- matrix workloads ---------------------------------------------------------------------------


def _numerical_gradient(function, inputs: dict, name: str, index: tuple) -> float:  # type: ignore[no-untyped-def]
    step = 1e-6
    plus = {key: value.copy() for key, value in inputs.items()}
    minus = {key: value.copy() for key, value in inputs.items()}
    plus[name][index] += step
    minus[name][index] -= step
    return (function(**plus)[0] - function(**minus)[0]) / (2 * step)


@pytest.mark.parametrize("make_spec", [matrix.norm_spec, svm.svm_spec])
def test_matrix_baselines_match_finite_differences(make_spec) -> None:  # type: ignore[no-untyped-def]
    spec = make_spec(Config.quick_mode())
    value, gradients = spec.hand_written(**{k: v.copy() for k, v in spec.inputs.items()})
    assert np.isfinite(value)
    rng = np.random.default_rng(0)
    for name, gradient in gradients.items():
        for _ in range(3):
            index = tuple(int(rng.integers(0, size)) for size in gradient.shape)
            expected = _numerical_gradient(spec.hand_written, spec.inputs, name, index)
            assert gradient[index] == pytest.approx(expected, rel=1e-5, abs=1e-6)


def test_matrix_workload_waits_for_the_vector_language(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matrix, "vector_language", lambda: "unexpected character '@'")
    result = matrix.run(Config.quick_mode(repeats=1))
    rows = {row.contender: row for row in result.rows if row.case == "value + gradients"}
    assert rows["hand-written NumPy"].value is not None
    assert rows["symbackprop f(**inputs)"].status == NEEDS_VECTOR_LANGUAGE
    assert NEEDS_VECTOR_LANGUAGE in core.format_table(result)
    assert result.errors == []


# -- the command line and the plot --------------------------------------------------------------


def test_only_rejects_unknown_workloads(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        runner.main(["--quick", "--only", "scalar,nope"])
    assert "unknown workload nope" in capsys.readouterr().err
    assert runner.parse_arguments(["--only", "scalar, import"]).only == ["scalar", "import"]


def test_plot_is_optional(tmp_path: Path) -> None:
    result = WorkloadResult("compile", "compile time")
    for gates, seconds in [(10, 0.004), (100, 0.02), (1000, 0.2)]:
        result.add(
            Row("compile", f"let-chain {gates} gates", "symbackprop compile()", seconds, x=gates)
        )
    result.add(
        Row("compile", "let-chain 10 gates", "SymPy build + diff + lambdify(cse)", 0.1, x=10)
    )
    from benchmarks.plot import plot_compile_times

    path = tmp_path / "compile_time.png"
    message = plot_compile_times([result], path, 20.0)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in message
    else:
        assert path.read_bytes().startswith(b"\x89PNG")
    assert "no compile times" in plot_compile_times([], path, 20.0)
