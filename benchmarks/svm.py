"""Matrix workload — the CS231n multiclass SVM loss, X 500×3073, W 3073×10, gradient by W.

Needs the vector language (issue 5); see `matrix` for how the workload lights up by itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .core import Config, Result, WorkloadResult
from .matrix import MatrixSpec, run_spec

NAME = "svm"
REG = 0.1
CLASSES = 10


def svm_text(samples: int) -> str:
    """The loss in symbackprop's language: mean hinge loss over samples plus L2 regularization.

    Summing max(0, s_j − s_y + 1) over every class counts the correct class's term, always 1,
    once per sample; subtracting 1 after the mean removes it, as CS231n's loop skips j = y.
    """
    return (
        "S = X @ W\n"
        "correct = pick(S, y)\n"
        "margins = relu(S.T - correct + 1)\n"
        f"sum(margins) / {samples} - 1 + {REG} * sum(W * W)\n"
    )


def svm_hand_written(X: Any, W: Any, y: Any) -> Result:
    """CS231n's vectorized `svm_loss_vectorized`, written with in-place updates."""
    samples = X.shape[0]
    rows = np.arange(samples)
    scores = X @ W
    margins = scores - scores[rows, y][:, None]
    margins += 1.0
    np.maximum(margins, 0.0, out=margins)
    margins[rows, y] = 0.0
    loss = float(margins.sum()) / samples + REG * float(np.vdot(W, W))
    # backward: each positive margin adds x_i to column j and subtracts it from column y_i
    mask = margins  # reused as the 0/1 (and −count) matrix
    mask[mask > 0.0] = 1.0
    mask[rows, y] = -mask.sum(axis=1)
    dW = X.T @ mask
    dW /= samples
    dW += (2.0 * REG) * W
    return loss, {"W": dW}


def svm_autograd(autograd: Any) -> Callable[..., Result]:
    """The same loss differentiated by autograd (by W only)."""
    import autograd.numpy as anp

    def loss(W: Any, X: Any, y: Any) -> Any:
        samples = X.shape[0]
        scores = anp.dot(X, W)
        correct = scores[np.arange(samples), y]
        margins = anp.maximum(0.0, scores - correct[:, None] + 1.0)
        return anp.sum(margins) / samples - 1.0 + REG * anp.sum(W * W)

    function = autograd.value_and_grad(loss, argnum=0)

    def value_and_grad(X: Any, W: Any, y: Any) -> Result:
        value, dW = function(W, X, y)
        return value, {"W": dW}

    return value_and_grad


def svm_spec(config: Config) -> MatrixSpec:
    """CIFAR-10 sized in the full run: 500 samples of 3072 pixels plus a bias, 10 classes."""
    samples = max(2, round(500 * config.matrix_scale))
    features = max(2, round(3073 * config.matrix_scale))
    rng = np.random.default_rng(6)
    return MatrixSpec(
        name=NAME,
        title=f"CS231n SVM loss, X {samples}×{features}, W {features}×{CLASSES}, ∂/∂W",
        text=svm_text(samples),
        wrt=("W",),
        inputs={
            "X": rng.standard_normal((samples, features)),
            "W": 0.001 * rng.standard_normal((features, CLASSES)),
            "y": rng.integers(0, CLASSES, samples),
        },
        hand_written=svm_hand_written,
        autograd=svm_autograd,
        notes=[f"L2 regularization {REG}·ΣW²; labels are integers, so only ∂/∂W is computed"],
    )


def run(config: Config) -> WorkloadResult:
    """The SVM workload."""
    return run_spec(svm_spec(config), config)
