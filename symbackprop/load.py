"""Stage 5 — load: generated source → the functions it defines.

The only place symbackprop executes code, and the code is only ever what `emit` produced from the
gate registry — never the user's text.  The source is registered with `linecache` under a stable
file name, so tracebacks, `inspect.getsource` and debuggers show the generated lines.  Imports
only the standard library.
"""

from __future__ import annotations

import builtins
import hashlib
import linecache
from collections.abc import Callable
from typing import Any


def load(
    source: str, functions: tuple[str, ...], whole: str | None = None
) -> dict[str, Callable[..., Any]]:
    """Execute a generated module and return the named functions it defines.

    `source` may be the leading part of a generated module `whole`, so that only the functions
    needed now are compiled (Python's `compile` costs about 5 µs a line); tracebacks then name
    and show `whole`, whose first lines these are.

    >>> load("def twice(x):\\n    return 2.0 * x\\n", ("twice",))["twice"](4.0)
    8.0
    """
    shown = source if whole is None else whole
    filename = source_filename(shown)
    linecache.cache[filename] = (len(shown), None, shown.splitlines(keepends=True), filename)
    namespace: dict[str, Any] = {"__name__": "symbackprop.generated"}
    code = builtins.compile(source, filename, "exec")
    exec(code, namespace)
    return {name: namespace[name] for name in functions}


def source_filename(source: str) -> str:
    """A stable pseudo file name for generated source: the same text gets the same name."""
    data = source.encode("utf-8", errors="surrogatepass")
    digest = hashlib.sha1(data, usedforsecurity=False).hexdigest()[:12]
    return f"<symbackprop-{digest}>"
