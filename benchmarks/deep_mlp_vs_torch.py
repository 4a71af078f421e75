"""Benchmark: the reference deep MLP (solutions/deep_mlp) against the same network in PyTorch.

Both train D -> 256 -> 128 -> 64 -> K (ReLU, softmax cross-entropy averaged over the
batch), in one process, with the same initial weights (``init_mlp(sizes, "he", 0)``,
copied into torch's ``nn.Linear``), dtype, batch size, learning rate and momentum, and the
same shuffled order in every epoch. Only the training steps are timed (gather the
mini-batch, forward, backward, momentum update; no evaluation). Epochs of the two
alternate, and so does which goes first; a short sleep before each timed epoch lets the
other library's idle BLAS/OpenMP threads stop spinning. Prints each epoch's time, the
medians and the ratio reference / torch (below 1: the reference is faster). A check at
start-up runs a few steps of both in float64 and requires the same parameters.

The reference's parameters are cast to the data's dtype (init_mlp draws float64): with
float64 parameters and float32 data, every product would be computed in float64.

    .venv/bin/python benchmarks/deep_mlp_vs_torch.py [--data fashion|digits]
        [--dtype float32|float64] [--epochs 3] [--batch-size 64] [--threads 2]

torch is a benchmark-only dependency: .venv/bin/pip install torch==2.13.0
Fashion-MNIST on Debian/Ubuntu: apt-get install dataset-fashion-mnist.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nnlab.data import load_fashion_mnist, load_mnist  # noqa: E402
from solutions.deep_mlp import (init_mlp, mlp_backward, mlp_forward,  # noqa: E402
                                softmax_ce_loss)

SIZES_HIDDEN = (256, 128, 64)


def reference_epoch(params, velocity, X, Y, order, batch_size, lr, momentum, activations):
    """train_mlp's inner loop (without its bookkeeping): one epoch of momentum SGD."""
    for start in range(0, len(order), batch_size):
        batch = order[start:start + batch_size]
        scores, caches = mlp_forward(X[batch], params, activations)
        _, dscores = softmax_ce_loss(scores, Y[batch])
        grads = mlp_backward(dscores, caches, params, activations)
        for name in params:
            velocity[name] = momentum * velocity[name] - lr * grads[name]
            params[name] = params[name] + velocity[name]


def torch_model(torch, params, dtype):
    """nn.Sequential of Linear/ReLU with the reference's initial weights (W transposed)."""
    layers, L = [], len(params) // 2
    for l in range(1, L + 1):
        W = params[f"W{l}"]
        linear = torch.nn.Linear(W.shape[0], W.shape[1]).to(dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
            linear.bias.copy_(torch.from_numpy(params[f"b{l}"]))
        layers += [linear] + ([torch.nn.ReLU()] if l < L else [])
    return torch.nn.Sequential(*layers)


def torch_epoch(torch, model, optimizer, X, labels, order, batch_size):
    for start in range(0, len(order), batch_size):
        batch = order[start:start + batch_size]
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(X[batch]), labels[batch])
        loss.backward()
        optimizer.step()


def setup(torch, X, Y, dtype, lr, momentum):
    sizes = [X.shape[1], *SIZES_HIDDEN, Y.shape[1]]
    params = {k: v.astype(dtype) for k, v in init_mlp(sizes, "he", 0).items()}
    model = torch_model(torch, params, getattr(torch, np.dtype(dtype).name))
    # torch's SGD keeps b <- m b + g, theta <- theta - lr b: the same iterates as v = -lr b
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    return params, velocity, model, optimizer


def same_iterates(torch, X, Y, lr, momentum):
    """A few float64 steps of both give the same parameters (the comparison is fair)."""
    X, Y = X[:256].astype(np.float64), Y[:256].astype(np.float64)
    params, velocity, model, optimizer = setup(torch, X, Y, np.float64, lr, momentum)
    order = np.arange(256)
    reference_epoch(params, velocity, X, Y, order, 64, lr, momentum, ["relu"] * 3)
    torch_epoch(torch, model, optimizer, torch.from_numpy(X),
                torch.from_numpy(Y.argmax(axis=1)), torch.from_numpy(order), 64)
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    for l, linear in enumerate(linears, start=1):
        assert np.allclose(linear.weight.detach().numpy().T, params[f"W{l}"], atol=1e-10), (
            f"W{l} differs between the reference and torch after 4 steps")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=("fashion", "digits"), default="fashion")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    import torch
    torch.set_num_threads(args.threads)
    X, Y, _, _ = (load_fashion_mnist() if args.data == "fashion"
                  else load_mnist(source="embedded"))
    same_iterates(torch, X, Y, args.lr, args.momentum)
    X = np.ascontiguousarray(X, dtype=args.dtype)
    Y = Y.astype(args.dtype)
    params, velocity, model, optimizer = setup(torch, X, Y, args.dtype, args.lr,
                                               args.momentum)
    X_t, labels_t = torch.from_numpy(X), torch.from_numpy(Y.argmax(axis=1))
    rng = np.random.default_rng(0)
    times = {"reference": [], "torch": []}
    print(f"{args.data} {X.shape} {args.dtype}, batch {args.batch_size}, "
          f"{args.threads} torch threads, torch {torch.__version__}")
    for epoch in range(args.epochs):
        order = rng.permutation(len(X))
        runs = [("reference", lambda: reference_epoch(params, velocity, X, Y, order,
                                                      args.batch_size, args.lr,
                                                      args.momentum, ["relu"] * 3)),
                ("torch", lambda: torch_epoch(torch, model, optimizer, X_t, labels_t,
                                              torch.from_numpy(order), args.batch_size))]
        for name, run in (runs if epoch % 2 == 0 else runs[::-1]):
            time.sleep(0.5)
            started = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - started)
        print(f"epoch {epoch + 1}: reference {times['reference'][-1]:.3f} s, "
              f"torch {times['torch'][-1]:.3f} s", flush=True)
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"median epoch: reference {medians['reference']:.3f} s, torch "
          f"{medians['torch']:.3f} s, ratio reference / torch "
          f"{medians['reference'] / medians['torch']:.2f}")


if __name__ == "__main__":
    main()
