"""Train a linear apple/banana/pear classifier with each of symbackprop's optimizers.

The lecture's setting, made small: each fruit is described by two features, its yellowness (0 to
1) and its length (in cm); a linear classifier gives each class a score, w_yellow·yellowness +
w_length·length + b, and the loss (softmax cross-entropy or the multiclass SVM hinge loss, plus L2
regularisation) is written in symbackprop's scalar language.  The 9 weights and biases are scalar
parameters; the features and the one-hot labels are NumPy arrays, so the formula runs in array
mode, computes one loss per sample, and its gradient is that of their sum (the formula divides by
n to make it the mean).

Run it:

    python examples/fruit_classifier.py                 # 300 steps, plot to docs/img/
    python examples/fruit_classifier.py --steps 100 --no-plot --loss svm

It prints each optimizer's final loss and held-out accuracy, exits with status 1 if one is below
95 %, and draws the loss curves (a PNG) when matplotlib is installed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import symbackprop as sb
from symbackprop import optim

CLASSES = ("apple", "banana", "pear")
FEATURES = ("yellow", "length")
# (mean yellowness, its spread, mean length in cm, its spread) of each fruit.
FRUIT = {
    "apple": (0.25, 0.08, 8.0, 1.0),
    "banana": (0.85, 0.07, 19.0, 2.0),
    "pear": (0.55, 0.08, 11.0, 1.2),
}
DEFAULT_PLOT = Path(__file__).resolve().parent.parent / "docs" / "img" / "fruit_loss_curves.png"
ACCURACY_GOAL = 0.95

# The scores of the three classes, for all samples at once (yellow, length and the labels y_* are
# arrays with one element per sample).
SCORES = """\
s_apple  = w_apple_yellow*yellow  + w_apple_length*length  + b_apple
s_banana = w_banana_yellow*yellow + w_banana_length*length + b_banana
s_pear   = w_pear_yellow*yellow   + w_pear_length*length   + b_pear
s_y = y_apple*s_apple + y_banana*s_banana + y_pear*s_pear
"""
# L2 regularisation of the weights (not the biases).
REGULARISATION = """\
reg = lam*(w_apple_yellow**2 + w_apple_length**2 + w_banana_yellow**2
           + w_banana_length**2 + w_pear_yellow**2 + w_pear_length**2)
"""
DATA_LOSSES = {
    # -log of the softmax probability of the correct class.
    "softmax": "data_loss = logaddexp(logaddexp(s_apple, s_banana), s_pear) - s_y\n",
    # Σ_j max(0, s_j − s_y + 1) over all classes j, minus the correct class's own term, 1.
    "svm": (
        "data_loss = max(0, s_apple - s_y + 1) + max(0, s_banana - s_y + 1)"
        " + max(0, s_pear - s_y + 1) - 1\n"
    ),
}
# The output has one element per sample and the gradient is that of the sum: dividing by n makes
# it the mean loss; reg is divided by n too, since it is added to each of the n elements.
OUTPUT = "(data_loss + reg) / n\n"


def loss_formula(loss: str) -> str:
    """The whole program for `loss` ("softmax" or "svm")."""
    return SCORES + REGULARISATION + DATA_LOSSES[loss] + OUTPUT


PARAMETERS = tuple(
    [f"w_{fruit}_{feature}" for fruit in CLASSES for feature in FEATURES]
    + [f"b_{fruit}" for fruit in CLASSES]
)


def optimizers() -> dict[str, optim.Optimizer]:
    """Each optimizer with hyper-parameters tuned on this problem (standardised features)."""
    return {
        "SGD": optim.SGD(lr=1.0),
        "Momentum": optim.Momentum(lr=0.2, momentum=0.9),
        "Nesterov": optim.Nesterov(lr=0.2, momentum=0.9),
        "AdaGrad": optim.AdaGrad(lr=1.0),
        "RMSProp": optim.RMSProp(lr=0.05, decay=0.9),
        "Adam": optim.Adam(lr=0.1),
    }


@dataclass(frozen=True)
class DataSet:
    """Standardised features and one-hot labels, as arrays with one element per sample."""

    features: dict[str, np.ndarray]
    labels: np.ndarray  # class indices

    def inputs(self) -> dict[str, Any]:
        """The formula's data inputs: features, one-hot labels and the sample count n."""
        one_hot = {
            f"y_{fruit}": (self.labels == k).astype(float) for k, fruit in enumerate(CLASSES)
        }
        return {**self.features, **one_hot, "n": float(len(self.labels))}


def make_fruit(train: int, test: int, seed: int) -> tuple[DataSet, DataSet]:
    """A seeded synthetic data set: features drawn around each fruit's typical values.

    Features are standardised with the training set's mean and spread, so that one learning rate
    suits both (yellowness is about 0.1 wide, length a few cm).
    """
    rng = np.random.default_rng(seed)
    total = train + test
    labels = rng.integers(0, len(CLASSES), size=total)
    yellow = np.empty(total)
    length = np.empty(total)
    for k, fruit in enumerate(CLASSES):
        mean_yellow, spread_yellow, mean_length, spread_length = FRUIT[fruit]
        chosen = labels == k
        yellow[chosen] = rng.normal(mean_yellow, spread_yellow, chosen.sum())
        length[chosen] = rng.normal(mean_length, spread_length, chosen.sum())
    raw = {"yellow": yellow, "length": length}
    scaled = {
        name: (values - values[:train].mean()) / values[:train].std()
        for name, values in raw.items()
    }
    return (
        DataSet({name: values[:train] for name, values in scaled.items()}, labels[:train]),
        DataSet({name: values[train:] for name, values in scaled.items()}, labels[train:]),
    )


def accuracy(params: dict[str, float], data: DataSet) -> float:
    """The fraction of samples whose highest score is their class's."""
    scores = np.stack(
        [
            sum(params[f"w_{fruit}_{feature}"] * data.features[feature] for feature in FEATURES)
            + params[f"b_{fruit}"]
            for fruit in CLASSES
        ]
    )
    return float(np.mean(scores.argmax(axis=0) == data.labels))


@dataclass(frozen=True)
class Outcome:
    """One optimizer's run: its name and settings, the loss history and held-out accuracy."""

    name: str
    optimizer: str
    lr: float
    history: list[float]
    accuracy: float


def run(
    steps: int = 300,
    seed: int = 0,
    loss: str = "softmax",
    lam: float = 1e-3,
    train: int = 300,
    test: int = 150,
) -> list[Outcome]:
    """Train the classifier once with each optimizer, from zero weights, on the same data.

    Zero is a fine start: the loss is convex in the weights of a linear classifier, so there is no
    symmetry to break as in a network with hidden units.
    """
    training, held_out = make_fruit(train, test, seed)
    function = sb.compile(loss_formula(loss), wrt=list(PARAMETERS))
    data = {**training.inputs(), "lam": lam}
    outcomes = []
    for name, optimizer in optimizers().items():
        result = sb.minimize(
            function,
            params=dict.fromkeys(PARAMETERS, 0.0),
            data=data,
            optimizer=optimizer,
            steps=steps,
        )
        outcomes.append(
            Outcome(
                name,
                repr(optimizer),
                optimizer.lr,
                result.history,
                accuracy(result.params, held_out),
            )
        )
    return outcomes


def plot(outcomes: list[Outcome], path: Path, title: str) -> bool:
    """Draw the loss curves to a PNG; False (and a message) when matplotlib is missing."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        print("matplotlib is not installed: no plot (pip install matplotlib)")
        return False
    figure = Figure(figsize=(7, 4.5), layout="constrained")
    axes = figure.subplots()
    for outcome in outcomes:
        axes.plot(outcome.history, label=f"{outcome.name} (lr={outcome.lr:g})", linewidth=1.5)
    axes.set_yscale("log")
    axes.set_xlabel("step")
    axes.set_ylabel("mean training loss")
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize="small")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    print(f"loss curves written to {path}")
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """Train with each optimizer, print the results; status 1 if an accuracy is below 95 %."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=300, help="updates per optimizer (300)")
    parser.add_argument("--seed", type=int, default=0, help="the data set's random seed (0)")
    parser.add_argument("--loss", choices=tuple(DATA_LOSSES), default="softmax")
    parser.add_argument("--lam", type=float, default=1e-3, help="L2 strength (1e-3)")
    parser.add_argument("--train", type=int, default=300, help="training samples (300)")
    parser.add_argument("--test", type=int, default=150, help="held-out samples (150)")
    parser.add_argument("--plot", type=Path, default=DEFAULT_PLOT, help="the PNG to write")
    parser.add_argument("--no-plot", action="store_true", help="do not draw the loss curves")
    arguments = parser.parse_args(argv)
    if arguments.steps < 1 or arguments.train < 3 or arguments.test < 1:
        parser.error("--steps, --train and --test must be positive (--train at least 3)")

    outcomes = run(
        arguments.steps,
        arguments.seed,
        arguments.loss,
        arguments.lam,
        arguments.train,
        arguments.test,
    )
    print(
        f"{arguments.loss} loss, {arguments.train} training and {arguments.test} held-out "
        f"samples, {arguments.steps} steps"
    )
    width = max(len("optimizer"), *(len(outcome.name) for outcome in outcomes))
    print(f"{'optimizer':<{width}}  final loss  held-out accuracy  hyper-parameters")
    for outcome in outcomes:
        accuracy_text = f"{100 * outcome.accuracy:.1f} %"
        print(
            f"{outcome.name:<{width}}  {outcome.history[-1]:>10.4f}  {accuracy_text:>17}  "
            f"{outcome.optimizer}"
        )
    if not arguments.no_plot:
        title = f"{arguments.loss} loss on apples, bananas and pears"
        plot(outcomes, arguments.plot, title)
    failed = [outcome.name for outcome in outcomes if outcome.accuracy < ACCURACY_GOAL]
    if failed:
        print(f"below {100 * ACCURACY_GOAL:.0f} % held-out accuracy: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
