"""symbackprop's benchmark suite (issue 6): fast generated code and fast compiles, measured.

Run it with `python -m benchmarks` (`--quick` for a smoke run, `--only NAME,...` to choose
workloads, `--json FILE` to save, `--plot FILE` for the compile-time plot); docs/benchmarks.md
explains the workloads, the targets and the latest results.

Modules: `core` (configuration, timing, checks, tables), `peers` (optional JAX, PyTorch,
autograd, SymEngine), `programs` (the random programs of the compile workload and their
references), one module per workload (`scalar`, `arrays`, `compile_time`, `import_time`,
`matrix`, `svm`), `plot`, and `runner` (the command line).  Importing the package imports none
of them, so that `python -m benchmarks` can limit BLAS threads before NumPy loads.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite with command-line arguments `argv` (see `benchmarks.runner.main`)."""
    from .runner import main as run

    return run(argv)
