"""Demo student: l1_subgradient takes the sign with np.where(r > 0, 1, -1), which is -1 where
a residual is exactly 0. Loses the l1_subgradient tests only: fit_l1 is graded on composition
with the student's own l1_subgradient, so its three-step test (which starts at a zero
residual) is not charged again."""

import numpy as np


def l1_subgradient(X, y, w):
    r = X @ w - y
    return X.T @ np.where(r > 0, 1.0, -1.0) / X.shape[0]
