"""Which isolation student code gets: the choice among the registered sandbox backends
(``autograder.sandbox.backend``: bubblewrap, then rlimits), and the words for what is in
force (``describe``, ``isolation_key``). The backends' self-checks are in
``autograder.sandbox.probes``; the modes are described in ``autograder.sandbox.launch``."""

from autograder.sandbox import bubblewrap_backend, cgroups, probes, rlimits_backend  # noqa: F401  (registered)
from autograder.sandbox.backend import BACKENDS, Backend
from autograder.sandbox.limits import Limits


def bubblewrap_works() -> bool:
    """True when bwrap exists and can start the worker's self-check here."""
    return probes.bubblewrap_mode() is not None


def backend(isolation: str) -> Backend:
    """The registered backend ``isolation``; ValueError when there is none."""
    try:
        return BACKENDS[isolation]
    except KeyError:
        raise ValueError(f"unknown isolation {isolation!r} (known: "
                         f"{', '.join(BACKENDS)})") from None


def isolation_mode(requested: str = "auto") -> str:
    """The backend's name to grade with: ``requested``, or for "auto" the first registered
    backend that works here (bubblewrap, else rlimits). ValueError for an unknown name,
    RuntimeError for one that does not work here."""
    if requested == "auto":
        for name, found in BACKENDS.items():
            if found.problem() is None:
                return name
        raise RuntimeError("no sandbox backend works here")
    problem = backend(requested).problem()
    if problem is not None:
        hint = " (install the 'bubblewrap' package)" if requested == "bubblewrap" else ""
        raise RuntimeError(f"{requested} was requested but does not work here{hint}: {problem}")
    return requested


def isolation_key(isolation: str) -> str:
    """A short string naming what is really in force (e.g. "bubblewrap/setuid/cgroup-v1"),
    for keys that must change when the protection does."""
    found = cgroups.hierarchy()
    group = "no-cgroup" if isinstance(found, str) else f"cgroup-v{found.version}"
    return f"{isolation}/{backend(isolation).variant()}/{group}"


def describe(isolation: str, limits: Limits = Limits()) -> tuple[str, list[str]]:
    """(one line saying how student code is isolated and limited, [warnings])."""
    line, warnings = backend(isolation).describe()
    found = cgroups.hierarchy()
    if isinstance(found, str):
        line += f"; memory {limits.memory_bytes >> 20} MiB per process"
        warnings.append(f"no cgroup: {found}. Memory is limited per process only (a "
                        f"submission that forks can use {limits.memory_bytes >> 20} MiB "
                        f"in each process), and the number of processes "
                        + ("by RLIMIT_NPROC" if backend(isolation).counts_processes()
                           else "not at all"))
    else:
        line += (f"; {found.describe()}: {limits.memory_bytes >> 20} MiB in all"
                 + (f" and {limits.processes} processes" if len(found.folders) > 1 else "")
                 + " per student process")
    return line, warnings
