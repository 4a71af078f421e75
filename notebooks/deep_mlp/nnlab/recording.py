"""Recording the calls a function makes to other functions of its namespace.

``LocalStudent.record`` (nnlab.testing) and check("train") use it in the notebook; the
grader's student process (``autograder/worker.py``, which imports nnlab from the sandbox's
/grader/lib) uses it to answer a call request with ``track={"record": ...}``. Like
everything else reported from that process, a recording can be forged by student code
that rewrites this module there (see README, "what is protected").
"""

import collections

import numpy as np


RECORD_LIMIT = 64 << 20     # bytes a recording of calls keeps in all
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
    are only counted and the recording is marked truncated.
    """

    def __init__(self, namespace, track):
        watch = track.get("record") if isinstance(track, dict) else None
        self.watch = {name: keep for name, keep in watch.items()
                      if keep == "all" or (type(keep) is int and keep > 0)} \
            if isinstance(watch, dict) else {}
        self.namespace = namespace
        self.kept = {name: collections.deque() for name in self.watch}
        self.counts = {name: 0 for name in self.watch}
        self.order, self.kept_bytes, self.truncated, self.saved = 0, 0, False, {}

    def __enter__(self):
        for name in self.watch:
            original = self.namespace.get(name)
            if callable(original):
                self.saved[name] = original
                self.namespace[name] = self._watched(name, original)
        return self

    def __exit__(self, *exc_info):
        self.namespace.update(self.saved)
        self.saved = {}
        return False

    def recording(self):
        """The kept calls in the order they returned, the count of calls per name, and
        whether calls were left out for lack of room."""
        entries = sorted((entry for kept in self.kept.values() for entry in kept),
                         key=lambda entry: entry["order"])
        calls = [{key: entry[key] for key in ("name", "index", "args", "kwargs", "result")}
                 for entry in entries]
        return {"calls": calls, "counts": dict(self.counts), "truncated": self.truncated}

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
