"""``python -m autograder export``, as ``autograder.cli`` imports it: the package
``autograder.outputs.exports`` (the formats' registry, the mapping, the cells) under its command's
name."""

from autograder.outputs.exports import *  # noqa: F403  (the package's __all__)
from autograder.outputs.exports import __all__ as __all__
