"""`compile()`: the pipeline's table of contents — parse, lower, rewrite, then a CompiledFunction.

The function runs the remaining stages per numeric mode — backprop, emit, load for Python floats;
specialize (to the inputs' shapes), backprop, emit, load for arrays.

Each stage is a function from one value to the next; this module calls them in order and caches
the result by text and options, so compiling the same formula twice costs a dictionary look-up.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from .errors import SymbackpropError
from .function import CompiledFunction
from .lower import lower
from .parse import parse
from .rewrite import rewrite as rewrite_stable
from .shapes import checked_shapes, index_inputs

_CACHE: dict[tuple[Any, ...], CompiledFunction] = {}
_CACHE_LIMIT = 512
_CACHE_LOCK = threading.Lock()


def compile(
    text: str,
    wrt: Iterable[str] | str | None = None,
    rewrite: bool = True,
    shapes: Mapping[str, tuple[int, ...]] | None = None,
) -> CompiledFunction:
    """Compile a formula into a function returning its value and gradients.

    `wrt` names the inputs whose gradients are wanted (default: all, in order of first
    appearance, except integer labels such as `pick`'s); gradients of other inputs are not
    computed at all.  With `rewrite` (the default), naive formulas such as `1/(1+exp(-t))` are
    computed by their stable gates (`sigmoid(t)`); `f.rewrites` lists what was replaced.
    `shapes` (name → shape) checks the inputs' array shapes now, with errors that point at the
    sub-expression, and generates the array-mode code for them ahead of the first call.

    >>> f = compile("1/(1+exp(-(w0*x0+w1*x1+w2)))", wrt=["w0", "w1", "w2"])
    >>> value, grads = f(w0=2, x0=-1, w1=-3, x1=-2, w2=-3)
    >>> round(value, 4), {name: round(g, 4) for name, g in grads.items()}
    (0.7311, {'w0': -0.1966, 'w1': -0.3932, 'w2': 0.1966})
    """
    if not isinstance(text, str):  # before the cache look-up, which would hash it
        raise TypeError(f"a program is text (str), not {type(text).__name__}")
    requested = None if wrt is None else _wrt_names(wrt)
    if shapes is not None:
        shapes = checked_shapes(shapes)
    shape_key = None if shapes is None else tuple(sorted(shapes.items()))
    key = (text, requested, bool(rewrite), shape_key)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    with _collector_paused():
        graph = lower(parse(text))  # the syntax tree is freed here, not kept to the end
        if rewrite:
            graph = rewrite_stable(graph)
        chosen = _check_wrt(requested, graph.inputs, index_inputs(graph))
        options = {"rewrite": bool(rewrite), "shapes": shapes}
        function = CompiledFunction(text, chosen, graph, options, shapes)
    with _CACHE_LOCK:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = function
    return function


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Run without Python's cycle collector, then switch it back on if it was on.

    Compiling allocates a few objects per character and gate, and keeps most of them (the graph,
    the backward pass); each full collection walks all of them again, which cost as much as
    the compilation itself for a 1 MB formula.  The stages make no reference cycles (a test
    checks it), so whatever they drop is freed at once all the same.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _wrt_names(wrt: Iterable[str] | str) -> tuple[str, ...]:
    """`wrt` as a tuple of names, refused with our message unless it holds strings only.

    Checked before the cache look-up hashes it, so `wrt=[["x"]]` or `wrt=5` is a TypeError
    that says what `wrt` takes, not Python's "unhashable type" or "not iterable".
    """
    if isinstance(wrt, str):
        return (wrt,)
    try:
        names = tuple(wrt)
    except TypeError:
        raise TypeError(f"wrt must be an input's name or a list of names, not {wrt!r}") from None
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"wrt must name inputs as strings, got {name!r}")
    return names


def _check_wrt(
    wrt: tuple[str, ...] | None, inputs: tuple[str, ...], indices: tuple[str, ...]
) -> tuple[str, ...]:
    if wrt is None:
        return tuple(name for name in inputs if name not in indices)
    for name in wrt:
        if name in indices:
            raise SymbackpropError(
                f"wrt names {name!r}, an integer index (as pick's labels): it has no gradient"
            )
        if name not in inputs:
            raise SymbackpropError(
                f"wrt names {name!r}, which is not an input of the formula; "
                f"its inputs are {', '.join(inputs) or 'none'}"
            )
    if len(set(wrt)) != len(wrt):
        raise SymbackpropError(f"wrt names an input more than once: {', '.join(wrt)}")
    return tuple(name for name in inputs if name in wrt)
