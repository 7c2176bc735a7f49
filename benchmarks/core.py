"""The benchmark framework: configuration, timing, correctness checks, results and tables.

Every workload module builds `Row`s with the helpers here.  Timings are medians of repeated
batches (`measure`), each contender's value and gradients are checked against the hand-written
reference before it is timed (`check_result`), and `format_table` prints the medians, the ratios
to the baseline and the targets.
"""

from __future__ import annotations

import gc
import math
import statistics
import time
import timeit
import tracemalloc
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

# -- configuration -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """How hard to run: sizes, repeats, time budgets; the presets are `quick_mode()`, `full()`."""

    quick: bool
    repeats: int
    """Timed batches per measurement; the median of their per-call times is reported."""
    min_batch_seconds: float
    """A batch loops a fast call until it lasts this long (as `timeit.Timer.autorange`)."""
    case_budget_seconds: float
    """Slow measurements (a compile of a large program) stop repeating past this much time."""
    min_slow_runs: int
    """...but run at least this many times (the median of 3 needs 3)."""
    array_size: int
    compile_gates: tuple[int, ...]
    big_expression_chars: int | None
    """Size of the one-expression program in characters; None skips it."""
    sympy_max_gates: int
    """The SymPy compile route runs up to this many gates and is reported too slow above."""
    sympy_timeout_seconds: float
    """A SymPy compile that takes longer than this is stopped and reported too slow."""
    import_runs: int
    matrix_scale: float
    """Matrix workloads use their full sizes times this (1.0 in the full run)."""

    @staticmethod
    def full(repeats: int | None = None) -> Config:
        """The full suite: the issue's sizes, enough repeats for a noisy shared machine."""
        return Config(
            quick=False,
            repeats=repeats or 15,
            min_batch_seconds=0.05,
            case_budget_seconds=25.0,
            min_slow_runs=3,
            array_size=1_000_000,
            compile_gates=(10, 30, 100, 1_000, 10_000),
            big_expression_chars=1_000_000,
            sympy_max_gates=1_000,
            sympy_timeout_seconds=20.0,
            import_runs=repeats or 15,
            matrix_scale=1.0,
        )

    @staticmethod
    def quick_mode(repeats: int | None = None) -> Config:
        """Smoke mode for CI: tiny sizes, few repeats, a few seconds in all."""
        return Config(
            quick=True,
            repeats=repeats or 3,
            min_batch_seconds=0.002,
            case_budget_seconds=1.0,
            min_slow_runs=1,
            array_size=10_000,
            compile_gates=(10, 100, 1_000),
            big_expression_chars=None,
            sympy_max_gates=10,
            sympy_timeout_seconds=20.0,
            import_runs=repeats or 2,
            matrix_scale=0.1,
        )


# -- results -------------------------------------------------------------------------------------

SECONDS = "s"
BYTES = "B"
RATIO = "×"

BASELINE = "baseline"
OK = "ok"
NOT_INSTALLED = "not installed"
TOO_SLOW = "skipped (too slow)"
NEEDS_VECTOR_LANGUAGE = "needs the vector language (issue 5)"


@dataclass(frozen=True)
class Target:
    """A goal from issue 6: the measurement (in its unit, or a ratio) must be ≤ `limit`."""

    text: str
    limit: float

    def met(self, measured: float | None) -> bool | None:
        """Whether `measured` meets the target; None when there is no measurement."""
        if measured is None or math.isnan(measured):
            return None
        return measured <= self.limit


@dataclass
class Row:
    """One line of a results table: a contender's median (or memory, or ratio) for one case."""

    workload: str
    case: str
    contender: str
    value: float | None
    unit: str = SECONDS
    ratio: float | None = None
    """The value divided by the baseline's, measured in the same process."""
    status: str = OK
    target: Target | None = None
    target_on: str = "ratio"
    """What the target is checked against: "ratio" (to the baseline) or "value" (absolute)."""
    samples: list[float] = field(default_factory=list)
    loops: int = 0
    x: float | None = None
    """A numeric size for plots (the number of gates of a compiled program)."""
    note: str = ""

    @property
    def target_value(self) -> float | None:
        """The number the target is checked against."""
        if self.status not in (OK, BASELINE):
            return None
        return self.value if self.target_on == "value" else self.ratio

    @property
    def met(self) -> bool | None:
        """✓/✗ against the target; None without a target or a measurement."""
        if self.target is None:
            return None
        return self.target.met(self.target_value)

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict of the row, with the target's verdict."""
        data = asdict(self)
        data["target"] = None if self.target is None else asdict(self.target)
        data["met"] = self.met
        data["target_value"] = self.target_value
        return data


@dataclass
class WorkloadResult:
    """The rows of one workload, notes to print under its table, and errors that fail the run."""

    name: str
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add(self, row: Row) -> Row:
        """Append a row and return it."""
        self.rows.append(row)
        return row


class ContenderMismatch(AssertionError):
    """A contender computed a wrong value or gradient: the benchmark refuses to time it."""


# -- timing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """Per-call seconds of each timed batch, the loops per batch, and their median."""

    samples: tuple[float, ...]
    loops: int

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


Call = str | Callable[[], object]
"""A statement (run in a namespace) or a zero-argument callable."""


def _timer(call: Call, namespace: Mapping[str, Any] | None) -> timeit.Timer:
    if isinstance(call, str):
        return timeit.Timer(call, globals=dict(namespace or {}))
    return timeit.Timer(call)


def _calibrate(timer: timeit.Timer, config: Config) -> tuple[int, float]:
    """Loops per batch so that a batch lasts `min_batch_seconds` (as autorange); also warms up."""
    loops = 1
    while True:
        elapsed = timer.timeit(loops)
        if elapsed >= config.min_batch_seconds or loops >= 10**7:
            return loops, elapsed
        # Aim straight for the batch length, at most ×10 per step.
        factor = config.min_batch_seconds / max(elapsed, 1e-9)
        loops = int(loops * min(10.0, max(2.0, factor * 1.2)))


def measure_many(
    calls: Mapping[str, tuple[Call, Mapping[str, Any] | None]],
    config: Config,
    repeats: int | None = None,
) -> dict[str, Timing]:
    """Median-of-batches timings of several calls, interleaved round-robin.

    Each call is a statement run in its namespace, or a callable.  A statement is compiled into
    timeit's loop as written, so `f(a, b)` costs exactly a call of `f`; a callable costs one
    call more.  Each call is first calibrated (the number of loops per batch, as `autorange`),
    which also warms it up.  Then each round times one batch of every call in turn, so that the
    load of a shared machine falls on all of them alike; `repeats` rounds, fewer if they would
    take longer than the case budget.  Garbage collection is off while timing, as in timeit.
    """
    timers = {name: _timer(call, namespace) for name, (call, namespace) in calls.items()}
    loops: dict[str, int] = {}
    round_seconds = 0.0
    for name, timer in timers.items():
        loops[name], elapsed = _calibrate(timer, config)
        round_seconds += elapsed
    wanted = repeats or config.repeats
    rounds = min(wanted, max(1, int(config.case_budget_seconds / max(round_seconds, 1e-9))))
    samples: dict[str, list[float]] = {name: [] for name in timers}
    for _ in range(rounds):
        for name, timer in timers.items():
            samples[name].append(timer.timeit(loops[name]) / loops[name])
    return {name: Timing(tuple(samples[name]), loops[name]) for name in timers}


def measure(
    call: Call,
    config: Config,
    namespace: Mapping[str, Any] | None = None,
    repeats: int | None = None,
) -> Timing:
    """Median-of-batches timing of one call (see `measure_many`)."""
    return measure_many({"call": (call, namespace)}, config, repeats)["call"]


def measure_once_each(
    make_call: Callable[[int], Callable[[], object]],
    config: Config,
    repeats: int | None = None,
) -> Timing:
    """Time calls that must not be repeated as such (a compile of a new text each time).

    `make_call(i)` returns the i-th call (made outside the timing); each is timed once with
    `time.perf_counter`, after a garbage collection.  Runs at least `min_slow_runs` times (but
    not more than `repeats`) and repeats while the case budget allows.
    """
    wanted = repeats or config.repeats
    samples: list[float] = []
    spent = 0.0
    index = 0
    while len(samples) < wanted:
        call = make_call(index)
        index += 1
        gc.collect()
        start = time.perf_counter()
        call()
        elapsed = time.perf_counter() - start
        samples.append(elapsed)
        spent += elapsed
        if len(samples) >= config.min_slow_runs and spent + elapsed > config.case_budget_seconds:
            break
    return Timing(tuple(samples), 1)


MEMORY_SLACK = 4096
"""Bytes of Python objects (an arguments tuple, a result dict) a call may add to its arrays."""


def memory_target(base_memory: int) -> Target:
    """Peak memory no more than the baseline's arrays: within `MEMORY_SLACK` bytes of it."""
    return Target("≤ hand-written (+4 kB)", 1.0 + MEMORY_SLACK / max(base_memory, 1))


def peak_memory(call: Callable[[], object]) -> int:
    """Peak bytes allocated while `call()` runs, above what was allocated before (tracemalloc).

    NumPy reports its array buffers to tracemalloc, so this counts the arrays a call creates,
    including those it returns.  Call it warm: code generated on first use is not counted.
    """
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        result = call()
        _, peak = tracemalloc.get_traced_memory()
        del result
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return max(0, peak - before)


# -- correctness ---------------------------------------------------------------------------------

Result = tuple[Any, Mapping[str, Any]]


def check_result(
    contender: str,
    got: Result,
    expected: Result,
    rtol: float = 1e-9,
    atol: float = 1e-12,
) -> None:
    """Raise `ContenderMismatch` unless `got` has the reference's value and gradients.

    Both are `(value, {name: gradient})`; values may be floats or arrays of the same shape.
    """
    value, gradients = got
    expected_value, expected_gradients = expected
    problems: list[str] = []
    _compare("the value", value, expected_value, rtol, atol, problems)
    if set(gradients) != set(expected_gradients):
        problems.append(f"gradients for {sorted(gradients)}, expected {sorted(expected_gradients)}")
    else:
        for name, expected_gradient in expected_gradients.items():
            _compare(f"∂/∂{name}", gradients[name], expected_gradient, rtol, atol, problems)
    if problems:
        raise ContenderMismatch(f"{contender} is wrong: " + "; ".join(problems))


def _compare(
    what: str, got: Any, expected: Any, rtol: float, atol: float, problems: list[str]
) -> None:
    got_array = np.asarray(got, dtype=np.float64)
    expected_array = np.asarray(expected, dtype=np.float64)
    if got_array.shape != expected_array.shape:
        problems.append(f"{what} has shape {got_array.shape}, expected {expected_array.shape}")
        return
    # The scale makes the tolerance relative to the largest entry, for sums of many terms.
    scale = float(np.max(np.abs(expected_array), initial=0.0))
    close = np.isclose(got_array, expected_array, rtol=rtol, atol=atol + rtol * scale)
    if not np.all(close):
        error = float(np.max(np.abs(got_array - expected_array)))
        problems.append(f"{what} differs by up to {error:.3g} (expected scale {scale:.3g})")


# -- formatting ----------------------------------------------------------------------------------


def format_seconds(seconds: float) -> str:
    """Seconds with the unit that keeps three significant digits: ns, µs, ms or s."""
    if seconds < 1e-6:
        return f"{seconds * 1e9:.0f} ns"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3g} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


def format_bytes(count: float) -> str:
    """Bytes in kB/MB (powers of 1000, as the sizes of the workloads are stated)."""
    if count < 1e3:
        return f"{count:.0f} B"
    if count < 1e6:
        return f"{count / 1e3:.3g} kB"
    return f"{count / 1e6:.3g} MB"


def format_value(value: float | None, unit: str) -> str:
    """A measurement for the table, by unit."""
    if value is None:
        return "—"
    if unit == SECONDS:
        return format_seconds(value)
    if unit == BYTES:
        return format_bytes(value)
    return f"{value:.2f}×"


def _verdict(row: Row) -> str:
    met = row.met
    if met is None:
        return ""
    return "✓" if met else "✗"


def _ratio_text(row: Row) -> str:
    if row.status == BASELINE:
        return "1.00 (base)"
    if row.ratio is None:
        return ""
    return _ratio(row.ratio)


def _ratio(ratio: float) -> str:
    """Two decimals, or three where two would print 1.00 for a ratio that is not 1."""
    text = f"{ratio:.2f}"
    return f"{ratio:.3f}" if text == "1.00" and ratio != 1.0 else text


def format_table(result: WorkloadResult) -> str:
    """The workload's rows as an aligned text table, with its notes and errors below."""
    header = ("case", "contender", "median", "× baseline", "target", "met", "status / note")
    lines: list[tuple[str, ...]] = [header]
    for row in result.rows:
        status = "" if row.status in (OK, BASELINE) else row.status
        text = "; ".join(part for part in (status, row.note) if part)
        lines.append(
            (
                row.case,
                row.contender,
                format_value(row.value, row.unit) if row.status in (OK, BASELINE) else "—",
                _ratio_text(row),
                "" if row.target is None else row.target.text,
                _verdict(row),
                text,
            )
        )
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]
    out = [f"== {result.name}: {result.title} =="]
    for index, line in enumerate(lines):
        cells = [cell.ljust(width) for cell, width in zip(line, widths, strict=True)]
        out.append("  ".join(cells).rstrip())
        if index == 0:
            out.append("  ".join("-" * width for width in widths))
    out += [f"  note: {note}" for note in result.notes]
    out += [f"  ERROR: {error}" for error in result.errors]
    return "\n".join(out)


def format_targets(results: Iterable[WorkloadResult]) -> str:
    """Every row that has a target: the summary of which of issue 6's targets are met."""
    out = ["== targets (issue 6; informational) =="]
    rows = [row for result in results for row in result.rows if row.target is not None]
    if not rows:
        return "\n".join([*out, "(no targets measured)"])
    lines = [("workload", "measurement", "measured", "target", "met")]
    for row in rows:
        if row.target_value is None:
            measured = row.status
        elif row.target_on == "value":
            measured = format_value(row.value, row.unit)
        else:
            measured = f"{_ratio(row.target_value)}×"
        lines.append(
            (row.workload, f"{row.case}: {row.contender}", measured, row.target.text, _verdict(row))
        )
    widths = [max(len(line[column]) for line in lines) for column in range(5)]
    for index, line in enumerate(lines):
        out.append("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
        if index == 0:
            out.append("  ".join("-" * width for width in widths))
    met = sum(1 for row in rows if row.met)
    missed = sum(1 for row in rows if row.met is False)
    out.append(f"{met} met, {missed} not met, {len(rows) - met - missed} not measured")
    return "\n".join(out)


def baseline_row(
    workload: str, case: str, contender: str, timing: Timing, note: str = "", x: float | None = None
) -> Row:
    """The row of the baseline that a case's ratios are measured against."""
    return Row(
        workload,
        case,
        contender,
        timing.median,
        status=BASELINE,
        samples=list(timing.samples),
        loops=timing.loops,
        x=x,
        note=note,
    )


def timed_row(
    workload: str,
    case: str,
    contender: str,
    timing: Timing,
    baseline: float | None,
    target: Target | None = None,
    note: str = "",
    x: float | None = None,
) -> Row:
    """A row for a timing, with its ratio to `baseline` (seconds) and a ratio target."""
    ratio = None if baseline is None else timing.median / baseline
    return Row(
        workload,
        case,
        contender,
        timing.median,
        SECONDS,
        ratio=ratio,
        target=target,
        samples=list(timing.samples),
        loops=timing.loops,
        note=note,
        x=x,
    )
