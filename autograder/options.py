"""The command-line options that ``grade``, ``demo`` and ``serve`` share: the parallelism,
reuse, isolation and limits of grading (``add_grading_options``), and the ``Limits``
they ask for (``limits_from``).

Here, below ``autograder.cli`` and ``autograder.serve``, so that either can use them
without importing the other (issue 20: no import cycles); ``cli`` re-exports them.
"""

import argparse

from autograder.sandbox import isolation
from autograder.sandbox.launch import Limits

DEFAULTS = Limits()


def add_grading_options(parser: argparse.ArgumentParser) -> None:
    """The options of ``grade`` (also given to ``demo`` and ``serve``): parallelism,
    reuse, isolation and the limits (``limits_from``)."""
    parser.add_argument("--jobs", type=int, default=None,
                        help="submissions graded at once (default: number of CPUs)")
    parser.add_argument("--scheduler", metavar="tcp://HOST:8786",
                        help="grade on the workers of this Dask scheduler instead of local "
                             "processes (--jobs is then ignored); see "
                             "docs/tutorials/cluster-admin.md")
    parser.add_argument("--force", action="store_true",
                        help="regrade submissions whose results are up to date")
    parser.add_argument("--regrade", default="", metavar="STATUS[,STATUS]",
                        help="also regrade unchanged submissions whose row has one of these "
                             "statuses, e.g. timeout,kernel_died after a run on a busy machine")
    parser.add_argument("--isolation", choices=["auto", *isolation.BACKENDS], default="auto",
                        help="sandbox for student code (default: bubblewrap when it works)")
    parser.add_argument("--memory-mib", type=int, default=DEFAULTS.memory_bytes >> 20,
                        help="address-space limit of a student process (default: %(default)s)")
    parser.add_argument("--call-timeout", type=float, default=DEFAULTS.call_seconds,
                        help="seconds per call of a student function (default: %(default)s; "
                             "training tests allow more)")
    parser.add_argument("--cell-timeout", type=float, default=DEFAULTS.cell_seconds,
                        help="seconds to run one notebook cell (default: %(default)s)")
    parser.add_argument("--notebook-timeout", type=float, default=DEFAULTS.notebook_seconds,
                        help="seconds for a whole submission (default: %(default)s)")
    parser.add_argument("--cpu-seconds", type=int, default=DEFAULTS.cpu_seconds,
                        help="CPU seconds of one student process (default: %(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--no-gradebook", action="store_true",
                        help="do not record the grades in OUT/nbgrader (nbgrader's gradebook); "
                             "without it, exit code 3 means a submission is in grades.csv "
                             "but not recorded there (a warning names it)")


def limits_from(args: argparse.Namespace) -> Limits:
    """The ``Limits`` the options of ``add_grading_options`` ask for."""
    return Limits(memory_bytes=args.memory_mib << 20, cpu_seconds=args.cpu_seconds,
                  cell_seconds=args.cell_timeout, notebook_seconds=args.notebook_timeout,
                  call_seconds=args.call_timeout)
