"""A progress bar for the notebooks' training cells, around the student's own train.

The training functions are yours (``train``, ``train_mlp``), with the arguments the grader
calls them with, and they call the notebook's other functions by name when they run. For the
time of a ``with`` block, ``training_progress`` puts watchers in front of three of those names
in the notebook's namespace, and puts the functions back when the block ends, however it ends
(an error, the stop button)::

    with training_progress(globals(), train="train_mlp", step="mlp_backward",
                           loss="softmax_ce_loss"):
        params, history = train_mlp(X_train, Y_train, X_test, Y_test, ...)

- each call of ``train`` opens a bar (``tqdm.auto``: a widget in JupyterLab, a line of text
  on stderr elsewhere) of epochs x mini-batches, read from that call's own ``X_train``,
  ``epochs`` and ``batch_size`` (defaults included), and closes it when train returns;
- each call of ``step`` (one per mini-batch) moves the bar on by one;
- each call of ``loss`` on the whole training set or the whole test set (recognised by its
  targets: equal to the ``Y_train`` or ``Y_test`` that train was given) shows that set's loss
  and accuracy next to the bar, so every epoch's figures appear as soon as they are known.

Nothing here changes what your functions compute or return. If your train calls no ``step``
the bar stays empty and is removed at the end; the training runs exactly as without it.

Inside the block NumPy's matrix products run on one thread (``threads=1``, through
threadpoolctl, which scikit-learn brings with mlxtend; without it nothing is limited): the
products of a mini-batch are small, and a BLAS that spreads them over several threads spends
more time coordinating them than computing, many times more on a busy machine (measured in
BENCHMARKS.md, "Training cells"). The results are the same numbers.
"""

import contextlib
import inspect
import math
import sys
from typing import Any, Callable, ContextManager, Iterator

import numpy as np
from tqdm.auto import tqdm

TERMINAL_REFRESH = 0.1       # seconds between redraws on a terminal or in a notebook
PLAIN_REFRESH = 5.0          # ... in a file or pipe (a log, nbgrader validate): few redraws
# One training's state, shared by the wrappers: its bar, targets, figures, epochs.
Run = dict[str, Any]


@contextlib.contextmanager
def training_progress(namespace: dict[str, Any], train: str = "train",
                      step: str = "sgd_momentum_step", loss: str | None = None,
                      desc: str | None = None,
                      threads: int | None = 1) -> Iterator[None]:
    """Show a progress bar for every call of ``namespace[train]`` inside the block.

    Inputs:
    - namespace: the notebook's globals(), where train looks up the functions it calls
    - train: the name of the training function
    - step: the name of the function train calls once per mini-batch
    - loss: the name of the loss function train evaluates each epoch (None: no figures)
    - desc: the bar's label (default: the name of the training function)
    - threads: the BLAS threads inside the block (None: as they are)
    """
    run = {"bar": None}
    wrappers = {step: lambda original: _stepping(original, run),
                train: lambda original: _training(original, run, desc or train)}
    if loss:
        wrappers[loss] = lambda original: _evaluating(original, run)
    replaced = {}
    try:
        for name, wrap in wrappers.items():
            if callable(namespace.get(name)):
                replaced[name] = namespace[name]
                namespace[name] = wrap(replaced[name])
        with _blas_threads(threads):
            yield
    finally:
        namespace.update(replaced)


def _blas_threads(threads: int | None) -> ContextManager[Any]:
    """At most ``threads`` BLAS threads inside the block (threadpoolctl), when it can be done."""
    if threads is None:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
        return threadpool_limits(limits=threads, user_api="blas")
    except Exception:
        return contextlib.nullcontext()


def _quietly(action: Callable[[], object]) -> None:
    """Run bookkeeping that must never stop a training: any error in it is ignored."""
    try:
        action()
    except Exception:
        pass


def _training(original: Callable[..., Any], run: Run, label: str) -> Callable[..., Any]:
    def training(*args: Any, **kwargs: Any) -> Any:
        if run["bar"] is not None:  # train calling itself: one bar is enough
            return original(*args, **kwargs)
        bar = _open_bar(original, args, kwargs, label, run)
        run["bar"] = bar
        try:
            return original(*args, **kwargs)
        finally:
            run["bar"] = None
            if bar is not None:
                if bar.n == 0:
                    bar.leave = False  # train never called step: no bar left behind
                _quietly(bar.close)
                _quietly(lambda: _final(bar, run))

    _like(training, original)
    return training


def _stepping(original: Callable[..., Any], run: Run) -> Callable[..., Any]:
    def stepping(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if run["bar"] is not None:
            _quietly(lambda: _tick(run))
        return result

    _like(stepping, original)
    return stepping


def _evaluating(original: Callable[..., Any], run: Run) -> Callable[..., Any]:
    def evaluating(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if run["bar"] is not None:
            _quietly(lambda: _post(run, args, kwargs, result))
        return result

    _like(evaluating, original)
    return evaluating


def _like(wrapper: Callable[..., Any], original: Callable[..., Any]) -> None:
    wrapper.__name__ = getattr(original, "__name__", "watched")
    wrapper.__qualname__ = getattr(original, "__qualname__", wrapper.__name__)
    wrapper.__doc__ = getattr(original, "__doc__", None)
    wrapper.__wrapped__ = original  # type: ignore[attr-defined]  # as functools.wraps sets it


def _open_bar(original: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
              label: str, run: Run) -> Any:
    """The bar of one training: total = epochs x ceil(N / batch_size) when they can be read."""
    run.update(targets={}, per_epoch=None, epochs=None, figures={})
    total = None
    try:
        call = inspect.signature(original).bind(*args, **kwargs)
        call.apply_defaults()
        given = call.arguments
        epochs, batch_size = int(given["epochs"]), int(given["batch_size"])
        per_epoch = math.ceil(len(given["X_train"]) / batch_size)
        if epochs > 0 and per_epoch > 0:
            total, run["per_epoch"], run["epochs"] = epochs * per_epoch, per_epoch, epochs
        run["targets"] = {split: given[key] for split, key in (("test", "Y_test"),
                                                                 ("train", "Y_train"))
                          if isinstance(given.get(key), np.ndarray)}
    except Exception:
        pass  # another signature: a bar without a total, no figures
    settings: dict[str, Any] = dict(total=total, desc=label, unit="batch", dynamic_ncols=True,
                    mininterval=TERMINAL_REFRESH if _interactive() else PLAIN_REFRESH)
    try:
        if not any(kind.__module__ == "tqdm.notebook" for kind in tqdm.__mro__):
            return tqdm(**settings)
        bar = tqdm(**settings, display=False)
    except Exception:
        return None
    _quietly(lambda: _display(bar, run))
    return bar


def _display(bar: Any, run: Run) -> None:
    """Show the widget with a handle, to leave the final line as its text (see _final)."""
    from IPython.display import display
    run["display"] = display(bar.container, display_id=True)
    bar.displayed = True


def _final(bar: Any, run: Run) -> None:
    """The widget's text shows the finished bar, not the empty one it was shown with: what a
    saved notebook, nbconvert or a page made from it show where no widget runs."""
    handle = run.pop("display", None)
    if handle is not None and bar.n > 0:
        bundle = dict(bar.container._repr_mimebundle_())
        bundle["text/plain"] = bar.format_meter(**dict(bar.format_dict, ncols=None))
        handle.update(bundle, raw=True)


def _interactive() -> bool:
    """True in a notebook kernel or on a terminal; False when stderr is a file or a pipe."""
    if "ipykernel" in sys.modules:
        return True
    try:
        return sys.stderr.isatty()
    except Exception:
        return False


def _tick(run: Run) -> None:
    bar = run["bar"]
    if bar is not None:
        bar.update(1)


def _post(run: Run, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
    """A loss computed on a whole set: show its loss and accuracy next to the bar."""
    arrays = [value for value in (*args, *kwargs.values()) if isinstance(value, np.ndarray)]
    for split, targets in run["targets"].items():
        match = next((value for value in arrays if value.shape == targets.shape
                      and (value is targets or np.array_equal(value, targets))), None)
        if match is None:
            continue
        predictions = next((value for value in arrays
                            if value is not match and value.shape == targets.shape), None)
        value = result[0] if isinstance(result, (tuple, list)) else result
        figures = {"loss": float(value)}
        if predictions is not None and targets.ndim == 2:
            figures["acc"] = float(np.mean(predictions.argmax(axis=1) == targets.argmax(axis=1)))
        run["figures"][split] = figures
        _show(run)
        return


def _show(run: Run) -> None:
    bar = run["bar"]
    parts = []
    if run["per_epoch"]:
        done = min(math.ceil(bar.n / run["per_epoch"]), run["epochs"])
        parts.append(f"epoch {done}")
    for split in ("train", "test"):
        figures = run["figures"].get(split)
        if figures:
            text = f"{split} loss {figures['loss']:.3f}"
            if "acc" in figures:
                text += f" acc {figures['acc']:.3f}"
            parts.append(text)
    bar.set_postfix_str(", ".join(parts), refresh=False)
