"""The optional plot: compile time against program size, symbackprop and SymPy (`--plot FILE`).

Needs matplotlib; without it the runner prints a message and carries on.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .compile_time import SYMBACKPROP, SYMPY
from .core import TOO_SLOW, WorkloadResult


def plot_compile_times(
    results: Sequence[WorkloadResult], path: str | Path, timeout_seconds: float
) -> str:
    """Write the plot to `path` (PNG) and say so; or say why it was not written."""
    rows = [row for result in results if result.name == "compile" for row in result.rows]
    if not any(row.contender == SYMBACKPROP and row.value for row in rows):
        return "plot skipped: no compile times were measured (run the compile workload)"
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "plot skipped: matplotlib is not installed (pip install matplotlib)"

    figure, axes = plt.subplots(figsize=(7.5, 4.8), dpi=120)
    chains = [row for row in rows if row.case.startswith("let-chain") and row.x is not None]
    ours = [(row.x, row.value) for row in chains if row.contender == SYMBACKPROP and row.value]
    sympy = [(row.x, row.value) for row in chains if row.contender == SYMPY and row.value]
    stopped = [
        row.x
        for row in chains
        if row.contender == SYMPY and row.status == TOO_SLOW and row.note.startswith("stopped")
    ]
    if ours:
        xs, ys = zip(*sorted(ours), strict=True)
        axes.plot(xs, ys, "o-", color="tab:blue", label="symbackprop compile(), let-chains")
    if sympy:
        xs, ys = zip(*sorted(sympy), strict=True)
        axes.plot(xs, ys, "s-", color="tab:orange", label="SymPy build + diff + lambdify(cse)")
    if stopped:
        axes.plot(
            stopped,
            [timeout_seconds] * len(stopped),
            "^",
            color="tab:orange",
            markersize=9,
            label=f"SymPy stopped after {timeout_seconds:g} s",
        )
    for row in rows:
        if row.contender == SYMBACKPROP and not row.case.startswith("let-chain") and row.value:
            axes.plot([row.x], [row.value], "D", color="tab:purple", label=row.case)
    targets = [
        (row.x, row.target.limit)
        for row in rows
        if row.contender == SYMBACKPROP and row.target is not None and row.x is not None
    ]
    if targets:
        xs, ys = zip(*targets, strict=True)
        axes.plot(xs, ys, "_", color="tab:red", markersize=22, markeredgewidth=2.5)
        axes.plot([], [], "_", color="tab:red", markersize=12, markeredgewidth=2.5, label="target")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("program size (gates)")
    axes.set_ylabel("compile time, text → callable (s, median)")
    axes.set_title("Compile time against program size")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8, loc="lower right")
    figure.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return f"plot written to {path}"
