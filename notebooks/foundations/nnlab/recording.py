"""Recording the calls a function makes to other functions of its namespace.

``LocalStudent.record`` (nnlab.testing) and check("train") use it in the notebook; the
grader's student process (``autograder/sandbox/student_process.py``, which imports nnlab from the sandbox's
/grader/lib) uses it to answer a call request with ``track={"record": ...}``. Like
everything else reported from that process, a recording can be forged by student code
that rewrites this module there (see README, "what is protected").
"""

import collections
import contextlib
import warnings

import numpy as np

from nnlab.stand_ins import STAND_IN, stand_in


RECORD_LIMIT = 64 << 20     # bytes a recording of calls keeps in all
# Watched under this name (never a function's), a recording counts the RuntimeWarnings the
# whole call raised (NumPy's overflow, invalid value, division by zero: always warned, as
# check() does), e.g. a sigmoid's exp(-Z) overflowing: ``counts[RUNTIME_WARNINGS]``.
RUNTIME_WARNINGS = "<RuntimeWarning>"
_PLAIN_DEPTH = 24           # nesting copied; deeper items become "<type>"
_ARRAY_KINDS = "biufc"


class CallRecorder:
    """Records the calls that a function makes to other functions of its namespace.

    ``track`` is ``{"record": {name: keep}}``: it names the functions to watch (e.g.
    train's calls of ``sgd_momentum_step``) and which calls to keep ("all", or n for the
    last n); anything else watches nothing. Inside ``with recorder:`` each watched name is
    bound to a wrapper that copies the arguments before the call and the result after
    it, as plain data (arrays of numbers, lists, tuples, dicts with string keys, numbers,
    strings; anything else becomes "<its type>"); on leaving, the names are restored
    however the call ended. A kept call is ``{"name", "index" (0 for the first call of
    that name), "args", "kwargs", "result"}``. Calls that raise are not kept. The kept
    copies hold at most RECORD_LIMIT bytes: from the first call that does not fit, calls
    are only counted and the recording is marked truncated. Watching RUNTIME_WARNINGS
    counts the RuntimeWarnings raised inside ``with recorder:`` instead; a name watched
    with the keep value STAND_IN is bound to the notebook's formula for it
    (``nnlab.stand_ins``), its calls counted, none kept.
    """

    def __init__(self, namespace, track):
        watch = track.get("record") if isinstance(track, dict) else None
        self.watch = {name: keep for name, keep in watch.items()
                      if keep in ("all", STAND_IN) or (type(keep) is int and keep > 0)} \
            if isinstance(watch, dict) else {}
        self.namespace = namespace
        self.kept = {name: collections.deque() for name in self.watch}
        self.counts = {name: 0 for name in self.watch}
        self.order, self.kept_bytes, self.truncated, self.saved = 0, 0, False, {}
        self._warnings = None

    def __enter__(self):
        if RUNTIME_WARNINGS in self.watch:
            self._warnings = contextlib.ExitStack()
            self._caught = self._warnings.enter_context(warnings.catch_warnings(record=True))
            warnings.simplefilter("always")
            self._warnings.enter_context(np.errstate(over="warn", invalid="warn",
                                                     divide="warn"))
        for name, keep in self.watch.items():
            if name == RUNTIME_WARNINGS:
                continue
            if keep == STAND_IN:
                formula = stand_in(name)
                if formula is not None:
                    self.saved[name] = self.namespace.get(name)
                    self.namespace[name] = self._counted(name, formula)
                continue
            original = self.namespace.get(name)
            if callable(original):
                self.saved[name] = original
                self.namespace[name] = self._watched(name, original)
        return self

    def __exit__(self, *exc_info):
        for name, value in self.saved.items():
            if value is None:  # a stand-in for a name the namespace did not define
                self.namespace.pop(name, None)
            else:
                self.namespace[name] = value
        self.saved = {}
        if self._warnings is not None:
            self._warnings.close()
            self.counts[RUNTIME_WARNINGS] = sum(
                1 for caught in self._caught if issubclass(caught.category, RuntimeWarning))
            self._warnings = None
        return False

    def recording(self):
        """The kept calls in the order they returned, the count of calls per name, and
        whether calls were left out for lack of room."""
        entries = sorted((entry for kept in self.kept.values() for entry in kept),
                         key=lambda entry: entry["order"])
        calls = [{key: entry[key] for key in ("name", "index", "args", "kwargs", "result")}
                 for entry in entries]
        return {"calls": calls, "counts": dict(self.counts), "truncated": self.truncated}

    def _counted(self, name, formula):
        def counted(*args, **kwargs):
            self.counts[name] += 1
            return formula(*args, **kwargs)

        counted.__name__ = counted.__qualname__ = name
        return counted

    def _watched(self, name, original):
        def watched(*args, **kwargs):
            entry = self._copy({"args": args, "kwargs": kwargs}, name)
            result = original(*args, **kwargs)
            index = self.counts[name]
            self.counts[name] += 1
            if entry is not None:
                entry.update(self._copy({"result": result}, name, entry["size"]) or {})
                if "result" in entry:
                    self._keep(name, dict(entry, name=name, index=index))
            return result

        watched.__name__ = watched.__qualname__ = name
        watched.__wrapped__ = original
        return watched

    def _room(self, name):
        """Bytes free for one more call of ``name`` (counting the call it would push out)."""
        keep, kept = self.watch[name], self.kept[name]
        freed = kept[0]["size"] if keep != "all" and len(kept) >= keep else 0
        return RECORD_LIMIT - self.kept_bytes + freed

    def _copy(self, parts, name, used=0):
        """Copies of ``parts`` (with their total "size"), or None when they do not fit."""
        if self.truncated:
            return None
        size = used + sum(_plain_size(value) for value in parts.values())
        if size > self._room(name):
            self.truncated = True
            return None
        copied = {key: _plain_copy(value) for key, value in parts.items()}
        copied["size"] = size
        return copied

    def _keep(self, name, entry):
        keep, kept = self.watch[name], self.kept[name]
        if keep != "all" and len(kept) >= keep:
            self.kept_bytes -= kept.popleft()["size"]
        entry["order"] = self.order
        self.order += 1
        kept.append(entry)
        self.kept_bytes += entry["size"]


def _plain_size(value, depth=0):
    """Bytes a copy of ``value`` keeps (arrays by their size, other items 16 bytes each)."""
    try:
        if isinstance(value, (np.ndarray, np.generic)):
            return int(value.nbytes) + 16
        if isinstance(value, str):
            return len(value) + 16
        if depth < _PLAIN_DEPTH and isinstance(value, (list, tuple)):
            return 16 + sum(_plain_size(item, depth + 1) for item in value)
        if depth < _PLAIN_DEPTH and isinstance(value, dict):
            return 16 + sum(_plain_size(item, depth + 1) for item in value.values())
    except Exception:  # student objects may raise anywhere: they are not copied anyway
        return 16
    return 16


def _plain_copy(value, depth=0):
    """A copy of ``value`` as plain data; what is not plain becomes "<its type>"."""
    try:
        if value is None or type(value) in (bool, int, float, str):
            return value
        if isinstance(value, (np.ndarray, np.generic)):
            array = np.array(value)  # a copy, and a plain ndarray even for subclasses
            if array.dtype.kind not in _ARRAY_KINDS:
                return f"<array of dtype {array.dtype}>"
            return array if isinstance(value, np.ndarray) else array[()]
        if isinstance(value, (int, float)):
            return float(value) if isinstance(value, float) else int(value)
        if depth < _PLAIN_DEPTH and isinstance(value, (list, tuple)):
            items = [_plain_copy(item, depth + 1) for item in value]
            return tuple(items) if isinstance(value, tuple) else items
        if depth < _PLAIN_DEPTH and isinstance(value, dict) \
                and all(isinstance(key, str) for key in value):
            return {str(key): _plain_copy(item, depth + 1) for key, item in value.items()}
    except Exception:  # an object that cannot be read: described, not copied
        pass
    return f"<{type(value).__name__}>"
