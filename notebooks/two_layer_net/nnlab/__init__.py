"""Student-side helpers for the two-layer network assignment.

This package ships with the student release. It holds data loading, weight
initialisation, plotting and test helpers; it never contains reference
solutions or hidden tests.

Conventions used everywhere in the course (stated once, here):
  N  number of examples in a batch      X       (N, D) float, one example per row
  D  input features (784 for MNIST)     targets (N, K) one-hot
  H  hidden units (default 30)          params  {"W1": (D, H), "b1": (H,),
  K  classes (10)                                  "W2": (H, K), "b2": (K,)}
"""

from nnlab.utils import accuracy, init_params, one_hot

__all__ = ["accuracy", "init_params", "one_hot"]
