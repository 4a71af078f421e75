"""Benchmark: each training cell of the notebooks, run with the reference's code (issue 19).

Every cell below is the notebook's demo cell as the student runs it, with the reference
(solutions/) in place of the student's functions, and with the cell's progress bar
(nnlab.progress.training_progress, which watches the reference module's own names here). It
prints each cell's wall time, the CPU time of this process, the load average around it, the
BLAS threads and the accuracy reached:

- two_layer_net "watch": 784-30-10 on the 4,000 embedded digits, 10 epochs, batch 64;
- two_layer_net "fashion": 784-64-10 on 10,000 Fashion-MNIST images, 3 epochs;
- deep_mlp "sigmoid" (Training 1): 784-32-32-10 sigmoid, one sample at a time, 3 epochs;
- deep_mlp "relu" (Training 2): 784-256-128-64-10 ReLU on 30,000 Fashion-MNIST images,
  5 epochs, batch 64;
- foundations "fit_l1": 2,000 subgradient steps on 40 points.

Fashion-MNIST is Debian's dataset-fashion-mnist (the cells that need it are skipped
without it). The cells' ``training_progress`` runs the BLAS on one thread; ``--threads 0``
leaves it as it is (as many threads as CPUs), ``--threads N`` sets N.

    .venv/bin/python benchmarks/training_cells.py [--cells watch fashion sigmoid relu fit_l1]
                                                  [--threads 0]
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nnlab.data import DataUnavailable, load_fashion_mnist, load_mnist  # noqa: E402
import nnlab.progress  # noqa: E402

THREADS = {"threads": 1}  # the BLAS threads the cells' training_progress sets (--threads)


def training_progress(namespace, **watch):
    return nnlab.progress.training_progress(namespace, **watch, **THREADS)

CELLS = ("watch", "fashion", "sigmoid", "relu", "fit_l1")


def watch():
    from solutions.two_layer_net import training
    X_train, Y_train, X_test, Y_test = load_mnist(source="embedded")
    with training_progress(vars(training), train="train", step="sgd_momentum_step",
                           loss="averageCE"):
        _, history = training.train(X_train, Y_train, X_test, Y_test, hidden=30, epochs=10,
                                    batch_size=64, lr=0.05, momentum=0.9, seed=0)
    return history["test_acc"][-1]


def fashion():
    from solutions.two_layer_net import training
    F_train, FY_train, F_test, FY_test = load_fashion_mnist()
    with training_progress(vars(training), train="train", step="sgd_momentum_step",
                           loss="averageCE"):
        _, history = training.train(F_train[:10000], FY_train[:10000], F_test, FY_test,
                                    hidden=64, epochs=3, batch_size=64, lr=0.05,
                                    momentum=0.9)
    return history["test_acc"][-1]


def sigmoid():
    from solutions.deep_mlp import training
    X_train, Y_train, X_test, Y_test = load_mnist(source="embedded")
    with training_progress(vars(training), train="train_mlp", step="mlp_backward",
                           loss="softmax_ce_loss"):
        _, history = training.train_mlp(X_train, Y_train, X_test, Y_test, [784, 32, 32, 10],
                                        ["sigmoid", "sigmoid"], "seed", epochs=3,
                                        batch_size=1, lr=0.1, momentum=0.0, seed=0)
    return history["test_acc"][-1]


def relu():
    from solutions.deep_mlp import training
    F_train, FY_train, F_test, FY_test = load_fashion_mnist()
    with training_progress(vars(training), train="train_mlp", step="mlp_backward",
                           loss="softmax_ce_loss"):
        _, history = training.train_mlp(F_train[:30000], FY_train[:30000], F_test, FY_test,
                                        [784, 256, 128, 64, 10], ["relu", "relu", "relu"],
                                        "he", epochs=5, batch_size=64, lr=0.05, momentum=0.9,
                                        seed=0)
    return history["test_acc"][-1]


def fit_l1():
    from nnlab.foundations.demos import line_with_outliers
    from solutions.foundations import fit_l1 as fit
    X_line, y_line = line_with_outliers(n=40, outliers=6, seed=0)
    fit(X_line, y_line, lr=0.5, steps=2000)
    return float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", nargs="+", choices=CELLS, default=list(CELLS))
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads while training (0: the BLAS's own; default 1, "
                             "as in the cells)")
    args = parser.parse_args()
    THREADS["threads"] = args.threads or None
    from threadpoolctl import threadpool_info
    threads = max((pool["num_threads"] for pool in threadpool_info()), default=None)
    print(f"{os.cpu_count()} CPUs, BLAS threads while training: "
          f"{args.threads or f'{threads} (its own)'}", flush=True)
    for name in args.cells:
        load, wall, cpu = os.getloadavg()[0], time.perf_counter(), time.process_time()
        try:
            accuracy = globals()[name]()
        except DataUnavailable as problem:
            print(f"{name}: skipped ({problem})", flush=True)
            continue
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"{name}: wall {wall:.1f} s, CPU {cpu:.1f} s, load average "
              f"{load:.1f} -> {os.getloadavg()[0]:.1f}, test accuracy {accuracy:.4f}",
              flush=True)


if __name__ == "__main__":
    main()
