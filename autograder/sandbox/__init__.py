"""The sandbox: the student process and everything that confines it.

- ``launch``: starting the student process with its limits (bubblewrap, rlimits or none);
  ``spawn``: the process, what runs before exec, its command line; ``rlimits_files``: the
  host files it reads without bubblewrap;
- ``isolation``: which isolation works here (probed once), and what it protects;
- ``limits``: ``Limits``, what one submission's code may use;
- ``bubblewrap``, ``cgroups``, ``seccomp``, ``uids``: the confinement's parts;
- ``student_process``: the script that runs inside (a submission's cells, then calls);
- ``wire``: the plain-data frames between the grader and the student process.

Nothing here knows about tests, results or pages.
"""
