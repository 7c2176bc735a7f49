"""Workload 3 — compile time: text → callable, for random let-chains and a ~1 MB expression.

For each program: symbackprop's cold compile (a new text each run, so the cache never answers),
the SymPy route for comparison (build the expression node by node, `diff` by every input,
`lambdify(modules="math", cse=True)`) in a worker process that is stopped when it is too slow,
a second compile of the same text (a cache hit), and the call time of the compiled function
against the program written out as staged Python.
"""

from __future__ import annotations

import gc
import multiprocessing
import time
from dataclasses import replace
from multiprocessing.connection import Connection
from typing import Any

import symbackprop

from .core import (
    TOO_SLOW,
    Config,
    ContenderMismatch,
    Row,
    Target,
    Timing,
    WorkloadResult,
    baseline_row,
    check_result,
    measure,
    measure_many,
    measure_once_each,
    timed_row,
)
from .peers import raw_float_function
from .programs import Program, expression, let_chain, straight_line, to_sympy

NAME = "compile"
TITLE = "compile time (text → callable), cache hits, and call time by program size"
SYMBACKPROP = "symbackprop compile()"
SYMPY = "SymPy build + diff + lambdify(cse)"
CACHE_HIT = "symbackprop compile(), same text again"
STRAIGHT_LINE = "straight-line Python (hand-written equivalent)"
STARTUP_SECONDS = 120.0
"""How long the SymPy worker may take to start, import SymPy and warm up (not timed)."""
CHECK_RTOL = 1e-8
"""Long chains accumulate rounding differently from the reference interpreter."""

COMPILE_TARGETS = {
    100: Target("≤ 10 ms", 0.010),
    10_000: Target("≤ 1.5 s", 1.5),
}
EXPRESSION_TARGET = Target("≤ 5 s (1 MB)", 5.0)
CACHE_TARGET = Target("≤ 10 µs", 10e-6)


def programs(config: Config) -> list[tuple[str, Program]]:
    """The let-chains of `config.compile_gates` gates, then the one-expression program."""
    cases = [(f"let-chain {gates:,} gates", let_chain(gates)) for gates in config.compile_gates]
    if config.big_expression_chars:
        chars = config.big_expression_chars
        program = expression(chars)
        size = f"{chars / 1e6:g} MB" if chars >= 1e6 else f"{chars / 1e3:g} kB"
        cases.append((f"{size} expression ({program.gates:,} gates)", program))
    return cases


def run(config: Config) -> WorkloadResult:
    """Every program: check, compile (cold and cached), SymPy route, call times."""
    result = WorkloadResult(NAME, TITLE)
    cases = programs(config)
    # Warm up the one-time costs (the parser's tables, the first exec) on a different program.
    symbackprop.compile(let_chain(5, seed=1).text)
    # Once SymPy was too slow for a program, larger ones are not tried; this says why.
    sympy_stopped: str | None = None
    for label, program in cases:
        gates = program.gates
        sympy_call: Row | None = None
        compiled = symbackprop.compile(program.text)
        arguments = program.arguments(compiled.inputs)
        reference = program.reference()
        try:
            check_result(f"symbackprop on {label}", compiled(*arguments), reference, CHECK_RTOL)
            baseline_function = straight_line(program)
            check_result(
                f"straight-line Python on {label}",
                baseline_function(*program.point),
                reference,
                CHECK_RTOL,
            )
        except ContenderMismatch as error:
            result.errors.append(str(error))
            result.add(Row(NAME, label, SYMBACKPROP, None, status="WRONG (not timed)"))
            continue
        text = program.text
        timing = measure_once_each(
            lambda index, text=text: lambda: symbackprop.compile(f"# run {index}\n{text}"),
            config,
        )
        target = COMPILE_TARGETS.get(gates) if program.kind == "let-chain" else None
        if program.kind == "expression" and len(text) >= 1_000_000:
            target = EXPRESSION_TARGET
        sb_median = timing.median
        result.add(_compile_row(label, SYMBACKPROP, timing, target, gates, len(text)))

        if program.kind != "let-chain":
            result.add(_skipped(label, gates, "not attempted for the one-expression program"))
        elif sympy_stopped is not None:
            result.add(_skipped(label, gates, sympy_stopped))
        elif gates > config.sympy_max_gates:
            note = f"not attempted above {config.sympy_max_gates:,} gates in this mode"
            result.add(_skipped(label, gates, note))
        else:
            sympy_call, stopped = _sympy_rows(result, label, program, reference, sb_median, config)
            if stopped:
                sympy_stopped = f"took > {config.sympy_timeout_seconds:g} s at {gates:,} gates"

        cached = measure("compile(text)", config, {"compile": symbackprop.compile, "text": text})
        result.add(
            Row(
                NAME,
                label,
                CACHE_HIT,
                cached.median,
                target=CACHE_TARGET,
                target_on="value",
                samples=list(cached.samples),
                loops=cached.loops,
                x=gates,
            )
        )
        baseline = _call_rows(
            result, label, program, compiled, baseline_function, arguments, config
        )
        if sympy_call is not None and sympy_call.value is not None:
            sympy_call.ratio = sympy_call.value / baseline
            result.add(sympy_call)
        _forget(compiled)
    result.notes.append(
        "compile() generates float-mode code only; array-mode code is generated on the first "
        "call with arrays and is not included"
    )
    result.notes.append(
        "the SymPy route starts from the program's nodes (no parsing); each run clears SymPy's "
        "cache; it runs in a worker process that is stopped past the timeout"
    )
    return result


def _sympy_rows(
    result: WorkloadResult,
    label: str,
    program: Program,
    reference: tuple[float, dict[str, float]],
    sb_median: float,
    config: Config,
) -> tuple[Row | None, bool]:
    """Run the SymPy route and add its compile row; return its call row and whether it was
    stopped for taking too long."""
    gates = program.gates
    try:
        outcome = sympy_route(program, config)
    except Exception as error:  # the worker could not start or crashed: not a measurement
        result.add(Row(NAME, label, SYMPY, None, status="worker failed", x=gates, note=repr(error)))
        result.notes.append(f"the SymPy worker failed at {label}: {error!r}")
        return None, False
    if outcome is None:
        note = f"stopped after {config.sympy_timeout_seconds:g} s"
        result.add(_skipped(label, gates, note))
        return None, True
    sympy_timing, outputs, call_timing = outcome
    got = (outputs[0], dict(zip(program.inputs, outputs[1:], strict=True)))
    try:
        check_result(f"SymPy on {label}", got, reference, CHECK_RTOL)
    except ContenderMismatch as error:
        result.errors.append(str(error))
        result.add(Row(NAME, label, SYMPY, None, status="WRONG", x=gates))
        return None, False
    row = _compile_row(label, SYMPY, sympy_timing, None, gates, len(program.text))
    row.note = f"{sympy_timing.median / sb_median:.0f}× symbackprop; " + row.note
    result.add(row)
    call = Row(
        NAME,
        f"{label}: call",
        "SymPy lambdified (measured in its worker)",
        call_timing.median,
        samples=list(call_timing.samples),
        loops=call_timing.loops,
        x=gates,
        note="ratio to the straight-line baseline timed in this process",
    )
    return call, False


def _compile_row(
    label: str, contender: str, timing: Timing, target: Target | None, gates: int, chars: int
) -> Row:
    runs = len(timing.samples)
    return Row(
        NAME,
        label,
        contender,
        timing.median,
        target=target,
        target_on="value",
        samples=list(timing.samples),
        loops=1,
        x=gates,
        note=f"{runs} run{'s' if runs != 1 else ''}, {chars / 1e3:,.1f} kB of text",
    )


def _skipped(label: str, gates: int, note: str) -> Row:
    return Row(NAME, label, SYMPY, None, status=TOO_SLOW, x=gates, note=note)


def _call_rows(
    result: WorkloadResult,
    label: str,
    program: Program,
    compiled: Any,
    baseline_function: Any,
    arguments: tuple[float, ...],
    config: Config,
) -> float:
    """Call times at this size: the straight-line baseline, symbackprop by position, raw.

    Returns the baseline's median.
    """
    raw, where = raw_float_function(compiled)
    point = {f"p{index}": value for index, value in enumerate(program.point)}
    ordered = {f"q{index}": value for index, value in enumerate(arguments)}
    by_point = ", ".join(point)
    by_inputs = ", ".join(ordered)
    timings = measure_many(
        {
            STRAIGHT_LINE: (f"f({by_point})", {"f": baseline_function, **point}),
            "symbackprop f(*args)": (f"f({by_inputs})", {"f": compiled, **ordered}),
            "symbackprop raw generated function": (f"f({by_inputs})", {"f": raw, **ordered}),
        },
        config,
    )
    baseline = timings[STRAIGHT_LINE].median
    case = f"{label}: call"
    base = timings[STRAIGHT_LINE]
    note = "the program written out, no sharing of repeated sub-terms"
    result.add(baseline_row(NAME, case, STRAIGHT_LINE, base, note, x=program.gates))
    for name in ("symbackprop f(*args)", "symbackprop raw generated function"):
        note = where if name.endswith("raw generated function") else ""
        result.add(timed_row(NAME, case, name, timings[name], baseline, note=note, x=program.gates))
    return baseline


def _forget(compiled: Any) -> None:
    """Drop the timing runs' compiled programs from symbackprop's cache, if it has one."""
    del compiled
    try:
        from symbackprop import pipeline

        cache = getattr(pipeline, "_CACHE", None)
        if isinstance(cache, dict):
            cache.clear()
    except Exception:
        pass
    gc.collect()


# -- the SymPy route, in a worker process ----------------------------------------------------------


def sympy_route(program: Program, config: Config) -> tuple[Timing, list[float], Timing] | None:
    """Time the SymPy route in a worker: (compile timing, outputs at the point, call timing).

    None when the first timed run takes longer than `config.sympy_timeout_seconds`: the worker
    is stopped, so a blow-up never hangs the suite.
    """
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    gates = program.gates
    worker = context.Process(
        target=_sympy_worker, args=(sender, gates, config), daemon=True, name="sympy-route"
    )
    worker.start()
    sender.close()
    try:
        # Starting the worker, importing SymPy and warming it up: not part of the timeout.
        if not receiver.poll(STARTUP_SECONDS):
            raise RuntimeError("the SymPy worker did not start")
        _expect(receiver.recv(), "ready")
        if not receiver.poll(config.sympy_timeout_seconds):
            return None
        first = _expect(receiver.recv(), "first")
        if not receiver.poll(config.case_budget_seconds + 2 * first + STARTUP_SECONDS):
            return None
        samples, outputs, call_samples, call_loops = _expect(receiver.recv(), "done")
        return Timing(tuple(samples), 1), outputs, Timing(tuple(call_samples), call_loops)
    finally:
        if worker.is_alive():
            worker.terminate()
        worker.join(5.0)
        receiver.close()


def _expect(message: tuple[str, Any], kind: str) -> Any:
    received, payload = message
    if received != kind:
        raise RuntimeError(f"the SymPy worker failed: {payload}")
    return payload


def _sympy_worker(connection: Connection, gates: int, config: Config) -> None:
    """In the worker: warm up SymPy, time the route, report outputs and call time."""
    try:
        import sympy
        from sympy.core.cache import clear_cache

        program = let_chain(gates)

        def route(program: Program) -> Any:
            symbols, output = to_sympy(program)
            partials = [sympy.diff(output, symbol) for symbol in symbols]
            return sympy.lambdify(symbols, [output, *partials], modules="math", cse=True)

        route(let_chain(3, seed=1))  # imports and first-use costs, not timed
        connection.send(("ready", None))
        samples: list[float] = []
        spent = 0.0
        function = None
        while True:
            clear_cache()
            gc.collect()
            start = time.perf_counter()
            function = route(program)
            elapsed = time.perf_counter() - start
            samples.append(elapsed)
            spent += elapsed
            if len(samples) == 1:
                connection.send(("first", elapsed))
            # SymPy is the comparison, not the target: no minimum number of runs.
            if len(samples) >= config.repeats or spent + elapsed > config.case_budget_seconds:
                break
        outputs = [float(value) for value in function(*program.point)]
        names = ", ".join(f"p{index}" for index in range(len(program.point)))
        namespace = {"f": function, **{f"p{i}": v for i, v in enumerate(program.point)}}
        call = measure(f"f({names})", replace(config), namespace)
        connection.send(("done", (samples, outputs, list(call.samples), call.loops)))
    except Exception as error:  # reported by the parent
        connection.send(("error", repr(error)))
    finally:
        connection.close()


__all__ = ["run", "sympy_route"]
