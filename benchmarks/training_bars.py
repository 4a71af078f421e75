"""Benchmark: the distribution of every graded outcome that a fixed bar thresholds after
random draws (issue 18, "no point lost to chance"), for the reference, correct variants that
draw in another valid order, and the known bugs, over many seeds.

The tests measured (their bars are in autograder/suite/calibration.py):
- deep_mlp train_mlp_sigmoid_one_sample: accuracy on the 1,000 test digits;
- deep_mlp train_mlp_relu_momentum: accuracy on the 1,000 test digits;
- two_layer_net train_reaches_accuracy: accuracy on the 1,000 test digits;
- deep_mlp init_mlp_scales: the worst |std / target - 1| and |mean| / target over its layers;
- foundations fit_l1_robust_to_outliers (its data is drawn from a seed): loss / least loss
  and the slope's error.

The seed each test passes (train's and train_mlp's ``seed``, the data seed of fit_l1's
test, init_mlp's seed) is the varying input: seeds 0 .. S-1 for every variant.

deep_mlp's trainings are run by a NumPy engine here that trains S networks at once (one per
seed, stacked on a first axis) with exactly the reference's arithmetic, draws and batch
order; ``--validate`` checks that it gives the accuracy the real code gives (solutions/ and
the demo students, through the test's own call) at a few seeds. The engine's variants:
correct: "reference" (init_mlp draws W_l as (n_in, n_out), layer order, default_rng(seed);
train_mlp permutes with rng.permutation(N) of another default_rng(seed)), "init_transposed"
(W_l drawn as (n_out, n_in), then transposed), "order_argsort" (each epoch's order is
argsort(rng.random(N))), "one_generator" (one Generator draws the weights, then the orders);
bugs: "ben_sigmoid_at_activation" (the demo's, and seed write-up 004's: the sigmoid's
derivative at the activation), "dan_cache_activation" (the activation cached as "Z"; in a
sigmoid net the same derivative as ben's, in a ReLU net the same mask as the correct one),
"eli_init_variance_as_std", "cat_hidden_bias" (the hidden layers' db left at zero), and one of
train_mlp's own: "targets_not_shuffled" (X_train[batch] with Y_train[start:end]).

    nice -n 10 .venv/bin/python benchmarks/training_bars.py [--seeds 100] [--validate] [--write]
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nnlab.data import load_mnist  # noqa: E402

CORRECT = ("reference", "init_transposed", "order_argsort", "one_generator")
BUGS = ("ben_sigmoid_at_activation", "dan_cache_activation", "eli_init_variance_as_std",
        "cat_hidden_bias", "targets_not_shuffled")

def engine_config(run):
    """A calibration run (autograder/suite/calibration.py) as the engine takes it."""
    return dict(run, train_rows=slice(None, None, run["train_every"]))


def variance(scheme, n_in, n_out):
    return {"seed": 1.0 / max(n_in, n_out), "he": 2.0 / n_in,
            "xavier": 2.0 / (n_in + n_out)}[scheme]


def initial_weights(variant, sizes, scheme, seeds):
    """Per layer, (S, n_in, n_out) weights, and the shuffling Generators, one per seed."""
    weights, rngs = [[] for _ in sizes[1:]], []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        draw = rng if variant == "one_generator" else np.random.default_rng(seed)
        for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            v = variance(scheme, n_in, n_out)
            scale = v if variant == "eli_init_variance_as_std" else np.sqrt(v)
            if variant == "init_transposed":
                W = draw.normal(0.0, scale, size=(n_out, n_in)).T
            else:
                W = draw.normal(0.0, scale, size=(n_in, n_out))
            weights[l].append(W)
        rngs.append(rng)
    return [np.ascontiguousarray(np.stack(W)) for W in weights], rngs


def sigmoid(Z):
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-Z))


def engine_accuracies(variant, config, data, seeds):
    """The test accuracy of train_mlp trained at each seed (the test's call), S at a time."""
    X_train, Y_train, X_test, Y_test = data
    X, Y = X_train[config["train_rows"]], Y_train[config["train_rows"]]
    sizes, acts = config["sizes"], config["activations"]
    B, lr, mom = config["batch_size"], config["lr"], config["momentum"]
    W, rngs = initial_weights(variant, sizes, config["scheme"], seeds)
    S, L, N = len(seeds), len(sizes) - 1, len(X)
    b = [np.zeros((S, 1, n)) for n in sizes[1:]]
    vW = [np.zeros_like(w) for w in W]
    vb = [np.zeros_like(v) for v in b]
    for _ in range(config["epochs"]):
        if variant == "order_argsort":
            orders = np.stack([np.argsort(rng.random(N)) for rng in rngs])
        else:
            orders = np.stack([rng.permutation(N) for rng in rngs])
        for start in range(0, N, B):
            batch = orders[:, start:start + B]
            A, cache = X[batch], []
            for l in range(L):
                Z = np.matmul(A, W[l]) + b[l]
                cache.append((A, Z))
                if l < L - 1:
                    A = sigmoid(Z) if acts[l] == "sigmoid" else np.maximum(Z, 0.0)
            P = np.exp(Z - Z.max(axis=2, keepdims=True))
            P /= P.sum(axis=2, keepdims=True)
            if variant == "targets_not_shuffled":  # Y_train[start:end] with X_train[batch]
                targets = np.broadcast_to(Y[start:start + B], P.shape)
            else:
                targets = Y[batch]
            dZ = (P - targets) / batch.shape[1]
            for l in range(L - 1, -1, -1):
                A_prev, Z = cache[l]
                dW = np.matmul(A_prev.transpose(0, 2, 1), dZ)
                db = dZ.sum(axis=1, keepdims=True)
                if l < L - 1 and variant == "cat_hidden_bias":
                    db = np.zeros_like(db)
                if l > 0:
                    dA = np.matmul(dZ, W[l].transpose(0, 2, 1))
                    Zb = cache[l - 1][1]
                    if acts[l - 1] == "relu":
                        dZ = dA * (Zb > 0)
                    else:
                        s = sigmoid(Zb)
                        if variant in ("ben_sigmoid_at_activation", "dan_cache_activation"):
                            s = sigmoid(s)
                        dZ = dA * s * (1.0 - s)
                if mom:
                    vW[l] *= mom
                    vW[l] -= lr * dW
                    vb[l] *= mom
                    vb[l] -= lr * db
                    W[l] += vW[l]
                    b[l] += vb[l]
                else:
                    W[l] -= lr * dW
                    b[l] -= lr * db
    A = np.broadcast_to(X_test, (S,) + X_test.shape)
    for l in range(L):
        Z = np.matmul(A, W[l]) + b[l]
        if l < L - 1:
            A = sigmoid(Z) if acts[l] == "sigmoid" else np.maximum(Z, 0.0)
    return (Z.argmax(axis=2) == Y_test.argmax(axis=1)).mean(axis=1)


def deep_mlp_accuracies(variant, config, data, seeds, chunk=10):
    return np.concatenate([engine_accuracies(variant, config, data, seeds[i:i + chunk])
                           for i in range(0, len(seeds), chunk)])


# ---------------------------------------------------------------- real code, for --validate
def demo_namespace(assignment, student):
    """A demo student's notebook globals: ada's functions, then the student's."""
    from autograder.demo import functions_in
    from nnlab.utils import accuracy, init_params
    namespace = {"np": np, "init_params": init_params, "accuracy": accuracy}
    students = ROOT / "demo" / assignment / "students"
    sources = functions_in(students / "ada_correct.py")
    sources.update(functions_in(students / f"{student}.py"))
    for source in sources.values():
        exec(source, namespace)
    return namespace


def real_deep_mlp_accuracy(train_mlp, config, data, seed):
    """The accuracy train_mlp.py's test measures, with the test's call of train_mlp."""
    from nnlab.deep_mlp.composition import layer_values
    X_train, Y_train, X_test, Y_test = data
    X, Y = X_train[config["train_rows"]], Y_train[config["train_rows"]]
    params, _ = train_mlp(X, Y, X_test, Y_test, config["sizes"],
                          config["activations"], config["scheme"], config["epochs"],
                          config["batch_size"], config["lr"], config["momentum"], seed)
    scores = layer_values(X_test, params, config["activations"])[-1][1]
    return float((scores.argmax(axis=1) == Y_test.argmax(axis=1)).mean())


def validate(data, seeds=(0, 1)):
    """The engine against the real code (solutions/ and the demo students) at a few seeds."""
    from autograder.suite.calibration import RELU_MOMENTUM_RUN, SIGMOID_ONE_SAMPLE_RUN
    from solutions.deep_mlp import train_mlp
    print("validation: engine vs real code (the test's call), deep_mlp")
    worst = 0.0
    for name, run in (("sigmoid", SIGMOID_ONE_SAMPLE_RUN), ("relu", RELU_MOMENTUM_RUN)):
        config = engine_config(run)
        for variant, function in [("reference", train_mlp)] + [
                (bug, demo_namespace("deep_mlp", bug)["train_mlp"]) for bug in BUGS[:4]]:
            fast = deep_mlp_accuracies(variant, config, data, list(seeds))
            real = [real_deep_mlp_accuracy(function, config, data, s) for s in seeds]
            worst = max(worst, float(np.max(np.abs(fast - real))))
            print(f"  {name:<8} {variant:<26} engine {' '.join(f'{a:.3f}' for a in fast)}"
                  f"  real {' '.join(f'{a:.3f}' for a in real)}", flush=True)
    print(f"  largest difference: {worst:.3f}")


# ---------------------------------------------------------------- two_layer_net train
def two_layer_variants():
    """Correct train functions drawn in other valid orders, and train's own bugs."""
    from nnlab.utils import accuracy, init_params
    from solutions.two_layer_net import averageCE, backprop, forward, sgd_momentum_step
    from solutions.two_layer_net import train as reference

    def make(order, init="shared", targets="aligned", splits=False):
        def train(X_train, Y_train, X_test, Y_test, hidden=30, epochs=10, batch_size=64,
                  lr=0.05, momentum=0.9, seed=0):
            rng = np.random.default_rng(seed)
            init_rng = rng if init == "shared" else np.random.default_rng(seed + 1)
            params = init_params(X_train.shape[1], hidden, Y_train.shape[1], init_rng)
            velocity = {k: np.zeros_like(v) for k, v in params.items()}
            history = {"train_loss": [], "train_acc": [], "test_loss": [], "test_acc": []}
            N = len(X_train)
            for _ in range(epochs):
                perm = order(rng, N)
                if splits:
                    batches = np.array_split(perm, int(np.ceil(N / batch_size)))
                else:
                    batches = [perm[i:i + batch_size] for i in range(0, N, batch_size)]
                for i, batch in enumerate(batches):
                    rows = batch if targets == "aligned" else \
                        np.arange(N)[i * batch_size:i * batch_size + len(batch)]
                    cache = forward(X_train[batch], params)
                    grads = backprop(X_train[batch], Y_train[rows], params, cache)
                    params, velocity = sgd_momentum_step(params, grads, velocity, lr,
                                                         momentum)
                for split, X, Y in (("train", X_train, Y_train), ("test", X_test, Y_test)):
                    P = forward(X, params)["P"]
                    history[f"{split}_loss"].append(averageCE(Y, P))
                    history[f"{split}_acc"].append(accuracy(Y, P))
            return params, history
        return train

    permutation = lambda rng, N: rng.permutation(N)  # noqa: E731
    correct = {
        "reference": reference,
        "ada_correct": demo_namespace("two_layer_net", "ada_correct")["train"],
        "order_choice": make(lambda rng, N: rng.choice(N, size=N, replace=False)),
        "order_argsort": make(lambda rng, N: np.argsort(rng.random(N))),
        "init_own_generator": make(permutation, init="own"),
    }
    bugs = {"targets_not_shuffled": make(permutation, targets="unshuffled")}
    return correct, bugs


def two_layer_accuracy(train, data, seed):
    """The accuracy train_reaches_accuracy measures (the test's call of train)."""
    from autograder.suite.calibration import TWO_LAYER_RUN as run
    from solutions.two_layer_net import forward
    X_train, Y_train, X_test, Y_test = data
    held_out = np.arange(len(X_train)) % run["held_out_every"] == 0
    params, _ = train(X_train[~held_out], Y_train[~held_out], X_train[held_out],
                      Y_train[held_out], hidden=run["hidden"], epochs=run["epochs"],
                      batch_size=run["batch_size"], lr=run["lr"], momentum=run["momentum"],
                      seed=seed)
    predicted = np.argmax(forward(X_test, params)["P"], axis=1)
    return float(np.mean(predicted == np.argmax(Y_test, axis=1)))


# ---------------------------------------------------------------- init_mlp and fit_l1
def init_scale_errors(init_mlp, seed):
    """init_mlp_scales' two measures, worst over schemes and layers, relative to the bar's unit."""
    sizes, worst_std, worst_mean = [700, 400, 100], 0.0, 0.0
    for scheme in ("seed", "he", "xavier"):
        params = init_mlp(sizes, scheme, seed)
        for l in (1, 2):
            W = params[f"W{l}"]
            target = float(np.sqrt(variance(scheme, sizes[l - 1], sizes[l])))
            worst_std = max(worst_std, abs(float(W.std()) / target - 1))
            worst_mean = max(worst_mean, abs(float(W.mean())) / target)
    return worst_std, worst_mean


def fit_l1_measures(fit_l1, seed):
    """fit_l1_robust_to_outliers' measures on the data its seed draws: loss / least, slope error."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-5.0, 5.0, size=45)
    y = 4.0 - 1.5 * x + rng.normal(scale=0.3, size=45)
    y[rng.choice(45, size=7, replace=False)] -= rng.uniform(10.0, 25.0, size=7)
    X = np.column_stack([np.ones(45), x])
    w, _ = fit_l1(X, y, 0.5, 2000)
    best = min(np.mean(np.abs(X @ np.linalg.solve(X[[i, j]], y[[i, j]]) - y))
               for i in range(45) for j in range(i + 1, 45))
    return float(np.mean(np.abs(X @ w - y))) / best, abs(float(w[1]) + 1.5)


# ---------------------------------------------------------------- report
def summary(values):
    values = np.asarray(values, dtype=float)
    return (f"{values.min():.3f} {np.percentile(values, 1):.3f} {np.median(values):.3f} "
            f"{values.max():.3f}")


def table(title, correct, bugs, bar, higher_is_better=True):
    """Print one test's distribution per variant; return (correct min or max, bug max or min)."""
    print(f"\n{title}  (bar {bar})")
    print(f"  {'variant':<28} {'runs':>4}  min   p1    median max    failing the bar")
    for kind, table_ in (("correct", correct), ("bug", bugs)):
        for name, values in table_.items():
            values = np.asarray(values)
            fails = int(np.sum(values < bar if higher_is_better else values > bar))
            print(f"  {kind[0]} {name:<26} {len(values):>4}  {summary(values)}  "
                  f"{fails}/{len(values)}")
    everything = np.concatenate([np.asarray(v) for v in correct.values()])
    print(f"  all correct                  {len(everything):>4}  {summary(everything)}")
    return everything


def record(key, run, seeds, correct, bugs):
    everything = np.concatenate([np.asarray(v, dtype=float) for v in correct.values()])
    return {"run": run, "seeds": len(seeds), "correct_runs": int(everything.size),
            "correct_min": float(everything.min()),
            "bugs_min": {n: float(np.min(v)) for n, v in bugs.items()},
            "bugs_max": {n: float(np.max(v)) for n, v in bugs.items()}}


def write_measured(measured):
    """Replace calibration.py's MEASURED (its last statement) with these figures."""
    import pprint
    path = ROOT / "autograder" / "suite" / "calibration.py"
    text = path.read_text()
    start = text.index("MEASURED = ")
    path.write_text(text[:start] + "MEASURED = "
                    + pprint.pformat(measured, width=90, sort_dicts=True) + "\n")
    print(f"wrote MEASURED in {path.relative_to(ROOT)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=100, help="seeds 0 .. S-1 (default 100)")
    parser.add_argument("--validate", action="store_true",
                        help="first check the engine against the real code at seeds 0, 1")
    parser.add_argument("--write", action="store_true",
                        help="write the figures into autograder/suite/calibration.py")
    parser.add_argument("--only", nargs="+", default=["sigmoid", "relu", "two_layer",
                                                      "init", "fit_l1"])
    parser.add_argument("--cache", type=Path, help="keep (and reuse) each deep_mlp "
                        "variant's accuracies here, to split a run over several processes")
    parser.add_argument("--variants", nargs="+", help="with --cache: compute only these "
                        "deep_mlp variants (the tables print once all are cached)")
    args = parser.parse_args()
    from autograder.suite import calibration
    data = load_mnist(source="embedded")
    seeds = list(range(args.seeds))
    if args.validate:
        validate(data)
    measured = dict(calibration.MEASURED)
    for name, key in (("sigmoid", "deep_mlp.train_mlp_sigmoid_one_sample"),
                      ("relu", "deep_mlp.train_mlp_relu_momentum")):
        if name not in args.only:
            continue
        run, started, results = calibration.RUNS[key], time.perf_counter(), {}
        for variant in CORRECT + BUGS:
            cached = args.cache / f"{key}.{variant}.{len(seeds)}.npy" if args.cache else None
            if cached and cached.exists():
                results[variant] = np.load(cached)
                continue
            if args.variants and variant not in args.variants:
                continue
            results[variant] = deep_mlp_accuracies(variant, engine_config(run), data, seeds)
            if cached:
                np.save(cached, results[variant])
            print(f"  {key} {variant}: done", flush=True)
        if len(results) < len(CORRECT + BUGS):
            continue
        correct = {v: results[v] for v in CORRECT}
        bugs = {v: results[v] for v in BUGS}
        table(f"{key}: test accuracy ({time.perf_counter() - started:.0f} s)", correct, bugs,
              calibration.BARS[key])
        measured[key] = record(key, run, seeds, correct, bugs)
    if "two_layer" in args.only:
        key, started = "two_layer_net.train_reaches_accuracy", time.perf_counter()
        correct_f, bugs_f = two_layer_variants()
        results = {name: [two_layer_accuracy(f, data, s) for s in seeds]
                   for name, f in {**correct_f, **bugs_f}.items()}
        correct = {n: results[n] for n in correct_f}
        bugs = {n: results[n] for n in bugs_f}
        table(f"{key}: test accuracy ({time.perf_counter() - started:.0f} s)", correct, bugs,
              calibration.BARS[key])
        measured[key] = record(key, calibration.RUNS[key], seeds, correct, bugs)
    if "init" in args.only:
        from solutions.deep_mlp import init_mlp
        variants = {"reference": init_mlp,
                    "ada_correct": demo_namespace("deep_mlp", "ada_correct")["init_mlp"]}
        bug = demo_namespace("deep_mlp", "eli_init_variance_as_std")["init_mlp"]
        runs = {n: [init_scale_errors(f, s) for s in seeds] for n, f in variants.items()}
        bug_runs = [init_scale_errors(bug, s) for s in seeds]
        for i, what in enumerate(("|std / target - 1|", "|mean| / target")):
            table(f"deep_mlp.init_mlp_scales: worst {what} over schemes and layers",
                  {n: [r[i] for r in v] for n, v in runs.items()},
                  {"eli_init_variance_as_std": [r[i] for r in bug_runs]},
                  (0.05, 0.2)[i], higher_is_better=False)
    if "fit_l1" in args.only:
        from solutions.foundations import fit_l1
        ada = demo_namespace("foundations", "ada_correct")["fit_l1"]
        runs = {"reference": [fit_l1_measures(fit_l1, s) for s in seeds],
                "ada_correct": [fit_l1_measures(ada, s) for s in seeds]}
        for i, (what, bar) in enumerate((("loss / least loss", 1.005),
                                         ("|slope + 1.5|", 0.2))):
            table(f"foundations.fit_l1_robust_to_outliers (data seed varied): {what}",
                  {n: [r[i] for r in v] for n, v in runs.items()}, {}, bar,
                  higher_is_better=False)
    if args.write:
        write_measured(measured)


if __name__ == "__main__":
    main()
