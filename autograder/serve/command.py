"""``python -m autograder serve``: the command line of the feedback service.

  python -m autograder serve --exchange DIR --out OUT [--jobs N | --scheduler ADDR]
                             [--poll S] [limits...]
  python -m autograder serve --out OUT --status
  python -m autograder serve --out OUT --health [--max-silence S] [--max-wait S]
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from autograder import course, options
from autograder.execution import batch, dask_cluster
from autograder.outputs.out_folder import OutFolder
from autograder.sandbox import launch
from autograder.serve import policy, status
from autograder.execution.dask_executor import DaskExecutor
from autograder.execution.executor import Executor
from autograder.execution.pool import LocalPool
from autograder.serve.queue import Queue
from autograder.serve.service import EventLog, Service, Settings


def add_parser(commands: Any) -> None:
    """Add ``serve`` to the subcommands of ``python -m autograder``."""
    s = commands.add_parser("serve", help="grade submissions as they arrive in nbgrader's "
                                          "exchange and release their feedback pages")
    s.add_argument("--exchange", type=Path, default=Path("/usr/local/share/nbgrader/exchange"),
                   help="nbgrader's exchange root (c.Exchange.root; default: %(default)s)")
    s.add_argument("--out", type=Path, required=True,
                   help="the grading folder (as for grade: results, pages, grades.csv, the "
                        "gradebook in OUT/nbgrader); the queue is OUT/serve/queue.db")
    s.add_argument("--poll", type=float, default=0.5,
                   help="seconds between looks at the inbound folder (default: %(default)s)")
    s.add_argument("--log", type=Path, default=None,
                   help="append the JSON-lines log here (default: stderr)")
    s.add_argument("--until-idle", action="store_true",
                   help="stop once nothing is queued (for scripts and tests)")
    s.add_argument("--status", action="store_true", help="print the queue's state and exit")
    s.add_argument("--health", action="store_true",
                   help="exit 0 when the service is running and keeping up, else 1")
    s.add_argument("--max-silence", type=float, default=60.0,
                   help="--health: seconds since the service's last look (default: %(default)s)")
    s.add_argument("--max-wait", type=float, default=600.0,
                   help="--health: seconds a submission may wait (default: %(default)s)")
    options.add_grading_options(s)  # those of `grade`; --force and --regrade are refused


def run(args: argparse.Namespace) -> int:
    """Run ``serve`` (or its --status / --health)."""
    if args.status or args.health:
        database = OutFolder(args.out).serve / "queue.db"
        if not database.is_file():
            print(f"error: no service database at {database}", file=sys.stderr)
            return 1 if args.health else 2
        queue = Queue(database)
        try:
            found = status.report(queue)
        finally:
            queue.close()
        if args.status:
            print(status.text(found))
            return 0
        problems = status.health(found, args.max_silence, args.max_wait)
        print("; ".join(problems) if problems else "healthy")
        return 1 if problems else 0
    return _serve(args)


def _serve(args: argparse.Namespace) -> int:
    if args.force or args.regrade:
        print("error: serve grades each submission once: --force and --regrade are for "
              "`grade`", file=sys.stderr)
        return 2
    if args.jobs is not None and args.jobs < 1 or args.memory_mib < 64:
        print("error: --jobs must be at least 1 and --memory-mib at least 64", file=sys.stderr)
        return 2
    try:
        policies, owner_check = policy.load(), policy.owner_check()
    except policy.PolicyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    isolation, limits = launch.isolation_mode(args.isolation), options.limits_from(args)
    settings = Settings(exchange=args.exchange, out=args.out, course_id=course.current().course_id,
                        fingerprint=batch.grader_key(limits, isolation), poll=args.poll,
                        gradebook=not args.no_gradebook, owner_check=owner_check)
    if not settings.inbound.is_dir():
        print(f"error: {settings.inbound} does not exist: release an assignment to the exchange "
              f"first (nbgrader release_assignment) or check --exchange", file=sys.stderr)
        return 2
    stream = open(args.log, "a", encoding="utf-8") if args.log else sys.stderr
    log = EventLog(stream)
    try:
        return _run_service(args, settings, policies, log, limits, isolation)
    except dask_cluster.ClusterUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if args.log:
            stream.close()


def _run_service(args: argparse.Namespace, settings: Settings, policies: dict[str, policy.Policy],
                 log: EventLog, limits: launch.Limits, isolation: str) -> int:
    """Grade (on this machine, or on the workers of ``--scheduler``) until stopped."""
    grader: Executor
    if args.scheduler:
        dask_cluster.check_isolation(args.isolation, isolation)
        grader = DaskExecutor(args.scheduler, limits, isolation, settings.fingerprint, log)
    else:
        grader = LocalPool(args.jobs or os.cpu_count() or 1, limits, isolation)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    service = Service(settings, grader, policies, log=log)
    try:
        service.run(stop, until_idle=args.until_idle)
    finally:
        service.close()
    return 0
