"""The command line: `python -m benchmarks [--quick] [--only NAME,...] [--repeats N] [--json FILE]`.

Runs the chosen workloads in this process, prints one table per workload and a summary of the
targets, optionally saves everything as JSON and plots compile time against program size.  Exits
with status 1 when a contender computed a wrong value or gradient (or a workload crashed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .core import Config, WorkloadResult, format_table, format_targets
from .peers import peer_versions


@dataclass(frozen=True)
class Workload:
    """A registered workload: its name for `--only`, what it measures, and how to run it."""

    name: str
    description: str
    module: str
    """The module (in this package) whose `run(config) -> WorkloadResult` runs it."""

    def runner(self) -> Callable[[Config], WorkloadResult]:
        """The workload's `run` function, imported on demand."""
        from importlib import import_module

        return import_module(f"{__package__}.{self.module}").run  # type: ignore[no-any-return]


WORKLOADS: tuple[Workload, ...] = (
    Workload("scalar", "sigmoid neuron on floats: hand-written, symbackprop, peers", "scalar"),
    Workload("arrays", "sigmoid neuron on float64 arrays: time, forward ratio, memory", "arrays"),
    Workload("compile", "compile time of let-chain programs and a 1 MB expression", "compile_time"),
    Workload("import", "import symbackprop vs import numpy, in fresh processes", "import_time"),
    Workload("matrix-norm", "‖W·x‖² with W 1000×1000 (vector language)", "matrix"),
    Workload("svm", "CS231n multiclass SVM loss, X 500×3073, W 3073×10 (vector language)", "svm"),
)
WORKLOAD_NAMES = tuple(workload.name for workload in WORKLOADS)


def machine() -> dict[str, Any]:
    """What the numbers were measured on: cores, CPU model, Python and library versions."""
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        model = platform.processor()
    return {
        "load_average": _load(),
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "versions": peer_versions(),
        "blas_env": {
            k: v
            for k, v in sorted(os.environ.items())
            if k.startswith("OPENBLAS_") or k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
        },
    }


def _load() -> list[float] | None:
    """The 1, 5 and 15-minute load averages: above the number of cores, others are running."""
    try:
        return [round(load, 2) for load in os.getloadavg()]
    except OSError:
        return None


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """The runner's options."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="symbackprop's benchmark suite (issue 6): generated code and compile speed "
        "against hand-written code and peers.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke mode: tiny sizes, few repeats (CI)"
    )
    parser.add_argument(
        "--only",
        metavar="NAME[,NAME]",
        help=f"run only these workloads: {', '.join(WORKLOAD_NAMES)}",
    )
    parser.add_argument(
        "--repeats", type=int, metavar="N", help="timed batches per measurement (median reported)"
    )
    parser.add_argument("--json", metavar="FILE", help="save the results as JSON")
    parser.add_argument(
        "--plot",
        metavar="FILE",
        help="plot compile time against program size to a PNG (needs matplotlib)",
    )
    parser.add_argument("--list", action="store_true", help="list the workloads and exit")
    arguments = parser.parse_args(argv)
    if arguments.repeats is not None and arguments.repeats < 1:
        parser.error("--repeats must be at least 1")
    if arguments.only:
        chosen = [name.strip() for name in arguments.only.split(",") if name.strip()]
        unknown = [name for name in chosen if name not in WORKLOAD_NAMES]
        if unknown or not chosen:
            parser.error(
                f"unknown workload {', '.join(unknown) or '(none given)'}; "
                f"choose from {', '.join(WORKLOAD_NAMES)}"
            )
        arguments.only = chosen
    return arguments


def run_workloads(names: Sequence[str], config: Config) -> list[WorkloadResult]:
    """Run the named workloads in registry order, printing each table as it is done."""
    results = []
    for workload in WORKLOADS:
        if workload.name not in names:
            continue
        start = time.perf_counter()
        try:
            result = workload.runner()(config)
        except Exception:
            result = WorkloadResult(workload.name, workload.description)
            result.errors.append("the workload crashed:\n" + traceback.format_exc())
        elapsed = time.perf_counter() - start
        result.notes.append(f"workload ran in {elapsed:.1f} s")
        print(format_table(result), flush=True)
        print(flush=True)
        results.append(result)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite; 0 when every contender was right, 1 otherwise."""
    arguments = parse_arguments(argv)
    if arguments.list:
        for workload in WORKLOADS:
            print(f"{workload.name:12} {workload.description}")
        return 0
    config = (
        Config.quick_mode(arguments.repeats) if arguments.quick else Config.full(arguments.repeats)
    )
    names = arguments.only or WORKLOAD_NAMES
    info = machine()
    mode = "quick (smoke) mode" if config.quick else "full mode"
    print(
        f"symbackprop benchmarks, {mode}: {info['nproc']} cores, {info['cpu']}, "
        f"Python {info['python']}, NumPy {info['versions']['numpy']}",
        flush=True,
    )
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "not set (all cores)")
    print("Medians of repeated batches; ratios are to the hand-written baseline, same process.")
    print(f"BLAS threads (OPENBLAS_NUM_THREADS): {threads}; load average {info['load_average']}")
    print(flush=True)
    results = run_workloads(names, config)
    print(format_targets(results))
    info["load_average_at_end"] = _load()
    print(f"load average at the end: {info['load_average_at_end']}")
    errors = [f"{result.name}: {error}" for result in results for error in result.errors]
    if arguments.json:
        payload = {
            "machine": info,
            "config": asdict(config),
            "workloads": [
                {
                    "name": result.name,
                    "title": result.title,
                    "rows": [row.as_json() for row in result.rows],
                    "notes": result.notes,
                    "errors": result.errors,
                }
                for result in results
            ],
        }
        Path(arguments.json).write_text(json.dumps(payload, indent=2), encoding="utf-8")
        print(f"\nresults saved to {arguments.json}")
    if arguments.plot:
        from .plot import plot_compile_times

        print(plot_compile_times(results, arguments.plot, config.sympy_timeout_seconds))
    if errors:
        print(
            f"\n{len(errors)} error(s): a contender is wrong or a workload failed", file=sys.stderr
        )
        for error in errors:
            print(f"  {error}", file=sys.stderr)
        return 1
    return 0
