"""Demo student: averageCE takes the mean over all N*K entries, a loss 10x too small
(seed write-up 001). Loses the averageCE tests."""

import numpy as np


def averageCE(target, prediction):
    return -np.mean(target * np.log(prediction))
