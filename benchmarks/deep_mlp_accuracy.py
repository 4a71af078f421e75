"""Benchmark: test accuracy and wall time of the deep_mlp reference's two trainings.

(a) The seed homework's 784-32-32-10 sigmoid network, one sample at a time, 3 epochs,
    initial weights of variance 1/max(n_in, n_out), on the embedded MNIST digits (4,000
    train, 1,000 test): with the sigmoid's derivative taken at the pre-activation (right)
    and at the activation (the seed's bug), at the seed's learning rate and at 0.1.
(b) A 784-256-128-64-10 ReLU network, He initialisation, mini-batches of 64, momentum 0.9,
    lr 0.05, on Fashion-MNIST (Debian's dataset-fashion-mnist; skipped without it).

    .venv/bin/python benchmarks/deep_mlp_accuracy.py [--seeds 0 1] [--fashion-epochs 15]
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import solutions.deep_mlp.network as network  # noqa: E402
from nnlab.data import DataUnavailable, load_fashion_mnist, load_mnist  # noqa: E402
from solutions.deep_mlp import train_mlp  # noqa: E402
from solutions.deep_mlp.layers import sigmoid_forward  # noqa: E402

RIGHT = network.sigmoid_backward


def at_the_activation(dA, cache):
    """The seed's bug: the derivative s(1 - s) evaluated at the activation s, not at Z."""
    s, _ = sigmoid_forward(cache["Z"])
    t, _ = sigmoid_forward(s)
    return dA * t * (1 - t)


def timed_training(*args, **kwargs):
    started = time.perf_counter()
    _, history = train_mlp(*args, **kwargs)
    return history["test_acc"], time.perf_counter() - started


def sigmoid_net(seeds):
    data = load_mnist(source="embedded")
    print("(a) 784-32-32-10 sigmoid, batch 1, 3 epochs, 'seed' init, embedded MNIST")
    for derivative, label in ((RIGHT, "derivative at Z (right)"),
                              (at_the_activation, "derivative at the activation (seed's bug)")):
        network.sigmoid_backward = derivative
        try:
            for lr in (0.003, 0.1):
                for seed in seeds:
                    accuracy, seconds = timed_training(
                        *data, [784, 32, 32, 10], ["sigmoid", "sigmoid"], "seed", epochs=3,
                        batch_size=1, lr=lr, momentum=0.0, seed=seed)
                    print(f"  {label:<42} lr {lr:<6g} seed {seed}: test accuracy "
                          f"{accuracy[-1]:.1%}  ({seconds:.1f} s)", flush=True)
        finally:
            network.sigmoid_backward = RIGHT


def relu_net(seeds, epochs):
    try:
        data = load_fashion_mnist()
    except DataUnavailable as exc:
        print(f"(b) skipped: {exc}")
        return
    print(f"(b) 784-256-128-64-10 ReLU, He init, batch 64, lr 0.05, momentum 0.9, "
          f"{epochs} epochs, Fashion-MNIST ({data[0].shape[0]} train, {data[2].shape[0]} test)")
    for seed in seeds:
        accuracy, seconds = timed_training(*data, [784, 256, 128, 64, 10], ["relu"] * 3, "he",
                                           epochs=epochs, batch_size=64, lr=0.05,
                                           momentum=0.9, seed=seed)
        print(f"  seed {seed}: test accuracy per epoch "
              f"{' '.join(f'{a:.3f}' for a in accuracy)}; final {accuracy[-1]:.2%} "
              f"({seconds:.0f} s, {seconds / epochs:.1f} s per epoch with evaluation)",
              flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--fashion-epochs", type=int, default=15)
    args = parser.parse_args()
    sigmoid_net(args.seeds)
    relu_net(args.seeds, args.fashion_epochs)


if __name__ == "__main__":
    main()
