"""``python -m autograder export``, as ``autograder.cli`` imports it: the package
``autograder.exports`` (the formats' registry, the mapping, the cells) under its command's
name."""

from autograder.exports import *  # noqa: F403  (the package's __all__)
from autograder.exports import __all__ as __all__
