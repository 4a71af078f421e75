"""The training cells' progress bar (nnlab.progress, issue 19): it follows the student's own
train through the names train looks up in the notebook, changes nothing it computes, and
leaves the notebook's namespace as it found it, however the training ends."""

import inspect
import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from course_under_test import DMLP, TLN
from tqdm.std import tqdm as plain_tqdm

import nnlab.progress
from nnlab.progress import training_progress

TWO_LAYER = dict(train="train", step="sgd_momentum_step", loss="averageCE")
DEEP = dict(train="train_mlp", step="mlp_backward", loss="softmax_ce_loss")


def notebook(assignment):
    """A namespace like the notebook's once its setup cell and the reference's cells ran."""
    namespace = {}
    for source in [assignment.setup_code,
                   *(textwrap.dedent(inspect.getsource(f)) for f in assignment.reference)]:
        exec(compile(source, "<cell>", "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def two_layer():
    return notebook(TLN)


@pytest.fixture(scope="module")
def deep():
    return notebook(DMLP)


def tiny(n=50, n_test=20, d=6, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X, X_test = rng.normal(size=(n, d)), rng.normal(size=(n_test, d))
    Y = np.eye(k)[np.arange(n) % k]
    Y_test = np.eye(k)[np.arange(n_test) % k]
    return X, Y, X_test, Y_test


@pytest.fixture
def bars(monkeypatch):
    """Every bar the module opens, as plain tqdm bars writing to a string."""
    import io
    opened = []

    class Recorded(plain_tqdm):
        def __init__(self, *args, **kwargs):
            kwargs["file"] = io.StringIO()
            super().__init__(*args, **kwargs)
            self.postfixes = []
            self.closed = False
            opened.append(self)

        def set_postfix_str(self, s="", refresh=True):
            self.postfixes.append(s)
            super().set_postfix_str(s, refresh)

        def close(self):
            self.closed = True
            super().close()

    monkeypatch.setattr(nnlab.progress, "tqdm", Recorded)
    return opened


def names(namespace, which):
    return {name: namespace[name] for name in which.values()}


def test_two_layer_train_ticks_once_per_mini_batch_and_shows_each_epoch(two_layer, bars):
    X, Y, X_test, Y_test = tiny()
    before = names(two_layer, TWO_LAYER)
    with training_progress(two_layer, **TWO_LAYER, desc="tiny"):
        _, history = two_layer["train"](X, Y, X_test, Y_test, hidden=4, epochs=3,
                                        batch_size=16, lr=0.1, momentum=0.9, seed=0)
    assert names(two_layer, TWO_LAYER) == before
    [bar] = bars
    assert bar.total == 3 * math.ceil(50 / 16) == bar.n and bar.closed
    assert bar.desc.startswith("tiny")
    assert len(bar.postfixes) == 6  # train then test, each epoch
    last = bar.postfixes[-1]
    assert last.startswith("epoch 3") and "train loss" in last and "test loss" in last
    assert f"test loss {history['test_loss'][-1]:.3f} acc {history['test_acc'][-1]:.3f}" in last
    assert f"train loss {history['train_loss'][-1]:.3f} acc {history['train_acc'][-1]:.3f}" in last


def test_deep_mlp_train_ticks_on_mlp_backward_and_changes_no_number(deep, bars):
    X, Y, X_test, Y_test = tiny(seed=1)
    arguments = dict(sizes=[6, 5, 4, 3], activations=["relu", "relu"], scheme="he",
                     epochs=2, batch_size=8, lr=0.05, momentum=0.9, seed=3)
    plain_params, plain_history = deep["train_mlp"](X, Y, X_test, Y_test, **arguments)
    with training_progress(deep, **DEEP):
        params, history = deep["train_mlp"](X, Y, X_test, Y_test, **arguments)
    assert history == plain_history
    assert all(np.array_equal(params[name], plain_params[name]) for name in params)
    [bar] = bars
    assert bar.total == 2 * math.ceil(50 / 8) == bar.n
    assert bar.postfixes[-1].startswith("epoch 2")
    assert f"test loss {history['test_loss'][-1]:.3f} acc {history['test_acc'][-1]:.3f}" \
        in bar.postfixes[-1]


def test_one_bar_per_training_in_one_cell(two_layer, bars):
    X, Y, X_test, Y_test = tiny()
    with training_progress(two_layer, **TWO_LAYER):
        for epochs in (1, 2):
            two_layer["train"](X, Y, X_test, Y_test, hidden=3, epochs=epochs, batch_size=25)
    assert [(bar.total, bar.n, bar.closed) for bar in bars] == [(2, 2, True), (4, 4, True)]


@pytest.mark.parametrize("stop", [ValueError, KeyboardInterrupt])
def test_namespace_restored_and_bar_closed_when_training_stops(two_layer, bars, stop):
    X, Y, X_test, Y_test = tiny()
    step = two_layer["sgd_momentum_step"]
    before = names(two_layer, TWO_LAYER)
    calls = []

    def stopping_step(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise stop("stopped")
        return step(*args, **kwargs)

    two_layer["sgd_momentum_step"] = stopping_step
    try:
        with pytest.raises(stop):
            with training_progress(two_layer, **TWO_LAYER):
                two_layer["train"](X, Y, X_test, Y_test, hidden=3, epochs=2, batch_size=10)
        assert two_layer["sgd_momentum_step"] is stopping_step
        assert {name: two_layer[name] for name in ("train", "averageCE")} == \
            {name: before[name] for name in ("train", "averageCE")}
    finally:
        two_layer["sgd_momentum_step"] = step
    [bar] = bars
    assert bar.n == 2 and bar.closed


def test_error_outside_train_restores_too(two_layer, bars):
    before = names(two_layer, TWO_LAYER)
    with pytest.raises(ZeroDivisionError):
        with training_progress(two_layer, **TWO_LAYER):
            assert two_layer["sgd_momentum_step"] is not before["sgd_momentum_step"]
            1 / 0
    assert names(two_layer, TWO_LAYER) == before and not bars


def test_a_train_that_never_calls_the_step_still_runs(bars):
    def sgd_momentum_step(params, grads, velocity, lr, momentum):
        raise AssertionError("not called")

    def train(X_train, Y_train, X_test, Y_test, hidden=30, epochs=10, batch_size=64,
              lr=0.05, momentum=0.9, seed=0, progress=False):
        return {"W1": X_train.sum()}, {"test_acc": [0.5] * epochs}

    namespace = {"train": train, "sgd_momentum_step": sgd_momentum_step}
    X, Y, X_test, Y_test = tiny()
    with training_progress(namespace, **TWO_LAYER):  # no averageCE in this namespace
        params, history = namespace["train"](X, Y, X_test, Y_test, epochs=2)
    assert params == {"W1": X.sum()} and history == {"test_acc": [0.5, 0.5]}
    assert namespace == {"train": train, "sgd_momentum_step": sgd_momentum_step}
    [bar] = bars
    assert bar.n == 0 and bar.closed and not bar.leave


def test_a_train_of_another_signature_gets_a_bar_without_total(bars):
    namespace = {"sgd_momentum_step": lambda: None}

    def train(*data, **settings):
        for _ in range(5):
            namespace["sgd_momentum_step"]()
        return "done"

    namespace["train"] = train
    with training_progress(namespace):
        assert namespace["train"](1, 2, epochs="many") == "done"
    [bar] = bars
    assert bar.total is None and bar.n == 5


def test_without_the_names_nothing_is_added(bars):
    namespace = {}
    with training_progress(namespace, **DEEP):
        assert namespace == {}
    assert namespace == {}


def test_output_in_a_file_or_pipe_is_short():
    """tqdm writes to stderr; in a pipe (not a notebook, not a terminal) a training of
    hundreds of steps leaves one line, a few hundred characters, and nothing on stdout."""
    script = textwrap.dedent("""
        import time
        import numpy as np
        from nnlab.progress import training_progress
        from solutions.deep_mlp import training

        rng = np.random.default_rng(0)
        X, X_test = rng.normal(size=(600, 20)), rng.normal(size=(100, 20))
        Y, Y_test = np.eye(4)[np.arange(600) % 4], np.eye(4)[np.arange(100) % 4]
        backward = training.mlp_backward

        def slow_backward(*args):
            time.sleep(0.002)
            return backward(*args)

        training.mlp_backward = slow_backward
        with training_progress(vars(training), train="train_mlp", step="mlp_backward",
                               loss="softmax_ce_loss", desc="pipe"):
            training.train_mlp(X, Y, X_test, Y_test, [20, 16, 4], ["relu"], epochs=8,
                               batch_size=8)
        assert training.mlp_backward is slow_backward
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=300)
    err = done.stderr.decode()  # as bytes: universal newlines would turn tqdm's \r into \n
    assert done.returncode == 0, err
    assert done.stdout == b""
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert len(err) < 1500, err
    final = err.rsplit("\r", 1)[-1]
    assert final.startswith("pipe: 100%") and "600/600" in final and "epoch 8" in final, final


def test_blas_on_one_thread_inside_the_block_only(two_layer, bars):
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas_threads():
        return [pool["num_threads"] for pool in threadpoolctl.threadpool_info()
                if pool["user_api"] == "blas"]

    before = blas_threads()
    with training_progress(two_layer, **TWO_LAYER):
        assert set(blas_threads()) <= {1}
    assert blas_threads() == before
    with training_progress(two_layer, **TWO_LAYER, threads=None):
        assert blas_threads() == before


def test_in_a_notebook_the_widget_keeps_the_finished_bar_as_its_text(tmp_path):
    """In a kernel the bar is tqdm's widget; a saved notebook (and any page made from it,
    where no widget runs) shows the finished bar with the last epoch's figures, not the
    empty bar it started as."""
    import nbformat
    from nbclient import NotebookClient

    training = textwrap.dedent("""
        from nnlab.progress import training_progress
        rng = np.random.default_rng(0)
        X, X_test = rng.normal(size=(50, 6)), rng.normal(size=(20, 6))
        Y, Y_test = np.eye(3)[np.arange(50) % 3], np.eye(3)[np.arange(20) % 3]
        step = sgd_momentum_step
        with training_progress(globals(), train="train", step="sgd_momentum_step",
                               loss="averageCE", desc="tiny"):
            params, history = train(X, Y, X_test, Y_test, hidden=4, epochs=3, batch_size=16)
        assert sgd_momentum_step is step
        print(f"test accuracy {history['test_acc'][-1]:.3f}")
    """)
    sources = [TLN.setup_code, *(textwrap.dedent(inspect.getsource(f)) for f in TLN.reference),
               training]
    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    NotebookClient(book, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = book.cells[-1].outputs
    widgets = [output for output in outputs
               if "application/vnd.jupyter.widget-view+json" in output.get("data", {})]
    assert len(widgets) == 1, outputs
    text = widgets[0].data["text/plain"]
    accuracy = next(o.text for o in outputs if o.output_type == "stream").split()[-1]
    assert text.startswith("tiny: 100%") and "12/12" in text, text
    assert "epoch 3, train loss" in text and "test loss" in text, text
    assert text.endswith(f"acc {accuracy}]"), text
