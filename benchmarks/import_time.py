"""Workload 4 — import time: `import symbackprop` in a fresh process vs `import numpy` alone.

Each measurement is the median over several fresh interpreters of the cumulative time Python's
`-X importtime` reports for the module.  The notes say which imports the time goes to.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import symbackprop

from .core import BASELINE, Config, Row, Target, WorkloadResult

NAME = "import"
TITLE = "import time in a fresh interpreter (-X importtime, cumulative)"
IMPORT_TARGET = Target("≤ 2× numpy", 2.0)
FIRST_CALL = (
    "import time; start = time.perf_counter(); import symbackprop; "
    "f = symbackprop.compile('1/(1+exp(-(w0*x0+w1*x1+w2)))'); f(2.0, -1.0, -3.0, -2.0, -3.0); "
    "print(time.perf_counter() - start)"
)


def _environment() -> dict[str, str]:
    """The environment for the child interpreters: they import this process's symbackprop.

    The BLAS thread limits that `python -m benchmarks` set for its own timings are removed
    (with one thread, NumPy imports faster than it does for a user), and so is
    PYTHONDONTWRITEBYTECODE: a user's Python keeps compiled modules in `__pycache__` (pip writes
    them for installed packages), so an import does not compile symbackprop's source each time.
    """
    root = str(Path(symbackprop.__file__).resolve().parent.parent)
    environment = dict(os.environ)
    for variable in environment.pop("BENCHMARKS_DEFAULTED_ENV", "").split(","):
        environment.pop(variable, None)
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    paths = [root, *filter(None, environment.get("PYTHONPATH", "").split(os.pathsep))]
    environment["PYTHONPATH"] = os.pathsep.join(paths)
    return environment


def importtime(module: str) -> tuple[float, list[tuple[int, str, float, float]]]:
    """Import `module` in a fresh interpreter: its cumulative seconds and every import line.

    The lines are `(depth, name, self seconds, cumulative seconds)` in the order Python prints
    them (an import after the imports it caused).
    """
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        env=_environment(),
        check=True,
        timeout=120,
    )
    lines = []
    for line in completed.stderr.splitlines():
        if not line.startswith("import time:") or "[us]" in line:
            continue
        self_field, cumulative_field, name_field = line.removeprefix("import time:").split("|", 2)
        depth = (len(name_field) - len(name_field.lstrip()) - 1) // 2
        lines.append(
            (depth, name_field.strip(), float(self_field) / 1e6, float(cumulative_field) / 1e6)
        )
    for depth, name, _, cumulative in lines:
        if depth == 0 and name == module:
            return cumulative, lines
    raise RuntimeError(f"-X importtime printed no line for {module}")


def heavy_imports(
    lines: list[tuple[int, str, float, float]], package: str
) -> list[tuple[str, str, float]]:
    """Outside packages imported directly by `package`'s modules: (name, importer, seconds)."""
    stack: dict[int, str] = {}
    found = []
    for depth, name, _, cumulative in reversed(lines):
        stack[depth] = name
        parent = stack.get(depth - 1, "") if depth > 0 else ""
        is_ours = name == package or name.startswith(package + ".")
        if not is_ours and (parent == package or parent.startswith(package + ".")):
            found.append((name, parent, cumulative))
    return sorted(found, key=lambda item: -item[2])


def run(config: Config) -> WorkloadResult:
    """Median import times over `config.import_runs` fresh interpreters each."""
    result = WorkloadResult(NAME, TITLE)
    runs = config.import_runs
    case = f"import in a fresh process (median of {runs})"
    numpy_times = []
    symbackprop_times = []
    sympy_times = []
    first_call_times = []
    heavy: dict[tuple[str, str], list[float]] = defaultdict(list)
    importtime("symbackprop")  # writes the bytecode caches, as a user's first import does
    for _ in range(runs):  # interleaved, so the machine's load falls on all alike
        numpy_times.append(importtime("numpy")[0])
        seconds, lines = importtime("symbackprop")
        symbackprop_times.append(seconds)
        for name, importer, cumulative in heavy_imports(lines, "symbackprop"):
            heavy[(name, importer)].append(cumulative)
        if not config.quick:
            sympy_times.append(importtime("sympy")[0])
        completed = subprocess.run(
            [sys.executable, "-c", FIRST_CALL],
            capture_output=True,
            text=True,
            env=_environment(),
            check=True,
            timeout=120,
        )
        first_call_times.append(float(completed.stdout.strip()))
    numpy_median = statistics.median(numpy_times)
    result.add(Row(NAME, case, "import numpy", numpy_median, status=BASELINE, samples=numpy_times))
    sb_median = statistics.median(symbackprop_times)
    result.add(
        Row(
            NAME,
            case,
            "import symbackprop",
            sb_median,
            ratio=sb_median / numpy_median,
            target=IMPORT_TARGET,
            samples=symbackprop_times,
            note="includes numpy",
        )
    )
    if sympy_times:
        sympy_median = statistics.median(sympy_times)
        result.add(
            Row(
                NAME,
                case,
                "import sympy (for reference)",
                sympy_median,
                ratio=sympy_median / numpy_median,
                samples=sympy_times,
            )
        )
    first_median = statistics.median(first_call_times)
    result.add(
        Row(
            NAME,
            case,
            "import symbackprop + first compile + call",
            first_median,
            ratio=first_median / numpy_median,
            samples=first_call_times,
            note="wall clock inside the child: the neuron compiled and called once",
        )
    )
    top = sorted(
        ((statistics.median(times), name, importer) for (name, importer), times in heavy.items()),
        reverse=True,
    )[:6]
    if top:
        parts = [
            f"{name} {seconds * 1e3:.0f} ms (by {importer})" for seconds, name, importer in top
        ]
        result.notes.append("import symbackprop spends its time in: " + ", ".join(parts))
    return result
