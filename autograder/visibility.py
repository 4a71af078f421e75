"""Whether the results of hidden tests are shown on the feedback pages of an OUT folder.

OUT/release.json holds ``{"hidden_released": true|false}``. Without the file, hidden
results are released (the pages show every test, as they always did). While they are
withheld, a page shows the visible tests' results and, for the hidden ones, only how many
there are and their points (``autograder.feedback.render(..., withhold_hidden=True)``).
``grade --withhold-hidden`` withholds them; ``feedback --release-hidden`` releases them and
``feedback --withhold-hidden`` withholds them again (both re-render every page).

A file that exists but cannot be read as such a setting counts as withheld: a broken
setting must not show students what the instructor meant to keep back.
"""

import json
from pathlib import Path

from autograder.storage import write_atomic

SETTING_FILE = "release.json"


def setting_path(out):
    return Path(out) / SETTING_FILE


def hidden_released(out):
    """True when the pages of OUT may show hidden tests' results (the default)."""
    path = setting_path(out)
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return True
    except (OSError, ValueError, RecursionError):
        return False
    value = data.get("hidden_released") if isinstance(data, dict) else None
    return value if isinstance(value, bool) else False


def set_hidden_released(out, released):
    """Record in OUT/release.json whether hidden results are released; returns the path."""
    path = setting_path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps({"hidden_released": bool(released)}, indent=1) + "\n")
    return path
