"""`python -m benchmarks`: run the benchmark suite (see `benchmarks.runner`).

BLAS runs on one thread unless the environment says otherwise: on a small shared machine a
second BLAS thread waits for a busy core, and a 1000×1000 matrix-vector product then swings
between 0.1 and 15 ms.  The variables must be set before NumPy is imported, hence here, before
the runner (which imports NumPy) is.
"""

import os

_defaulted = [
    variable
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    if variable not in os.environ
]
for _variable in _defaulted:
    os.environ[_variable] = "1"
# The import-time workload starts its interpreters without these, as a user's would be.
os.environ["BENCHMARKS_DEFAULTED_ENV"] = ",".join(_defaulted)

from .runner import main  # noqa: E402

if __name__ == "__main__":  # not when a spawned worker process imports this module
    raise SystemExit(main())
