"""Where submissions are graded: one class at a time, in local processes or on a Dask cluster.

- ``batch``: a folder of submissions graded resumably (``grade``);
- ``task``: one submission, wherever it is graded;
- ``pool``: forked processes on this machine, with the progress bar;
- ``dask_cluster``: the coordinator's side of grading on a Dask cluster;
- ``dask_worker``: a Dask worker's side (not the student process: see ``autograder.sandbox``).
"""
