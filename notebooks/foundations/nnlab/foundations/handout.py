"""The foundations notebook's worked values, as numbers (public: students see them too).

The scalar graph's example comes from the course's homework, whose printed numbers were
garbled; these are the consistent ones (x0 = 1.0, w0 = 0.3, b0 = 0.1, w1 = -0.2,
b1 = -0.3). The other examples are the notebook's own, small enough to redo by hand.
"""

import numpy as np

# 1. z = relu(w1 * relu(w0 * x0 + b0) + b1 + x0)
GRAPH_X0 = 1.0
GRAPH_PARAMS = {"w0": 0.3, "b0": 0.1, "w1": -0.2, "b1": -0.3}
GRAPH_CACHE = {"p0": 0.3, "s0": 0.4, "x1": 0.4, "p1": -0.08, "s1": -0.38, "y": 0.62,
               "z": 0.62}
GRAPH_GRADS = {"w0": -0.2, "b0": -0.2, "w1": 0.4, "b1": 1.0, "x0": 0.94}

# 2. 30 -> 1024 -> 512 -> 1: (30*1024 + 1024) + (1024*512 + 512) + (512*1 + 1)
MLP_LAYER_SIZES = (30, 1024, 512, 1)
MLP_PARAMETERS = 557057
MLP_WEIGHTS = 555520  # the same network's weights alone, without its 1537 biases

# (n, kernel, stride, padding, output size): floor((n + 2 padding - kernel) / stride) + 1
CONV_EXAMPLES = (
    (32, 5, 1, 0, 28),    # a 5x5 convolution on a 32x32 image
    (28, 3, 2, 1, 14),    # 3x3, stride 2, padding 1: (28 + 2 - 3) / 2 = 13.5, floor 13
    (14, 2, 2, 0, 7),     # a 2x2 max-pool with stride 2
    (224, 7, 2, 3, 112),  # the first layer of a ResNet: (224 + 6 - 7) / 2 = 111.5, floor 111
    (5, 2, 2, 0, 2),      # the last column is never covered: (5 - 2) / 2 = 1.5, floor 1
)

# 3. The Jacobian of softmax at y = [0.5, 0.3, 0.2]: diag(y) - y y^T
JACOBIAN_PROBABILITIES = np.array([0.5, 0.3, 0.2])
JACOBIAN = np.array([
    [0.25, -0.15, -0.10],
    [-0.15, 0.21, -0.06],
    [-0.10, -0.06, 0.16],
])

# 4. An L1 linear model y ~ w0 + w1 x on four points, the last one an outlier.
L1_X = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0], [1.0, 3.0]])  # a column of ones, then x
L1_Y = np.array([1.0, 2.0, 2.0, 10.0])
L1_W = np.array([1.0, 1.0])
L1_RESIDUALS = np.array([0.0, 0.0, 1.0, -6.0])  # X w - y
L1_LOSS = 1.75                                  # (0 + 0 + 1 + 6) / 4
L1_SUBGRADIENT = np.array([0.0, -0.25])         # X^T [0, 0, 1, -1] / 4, with sign(0) = 0

# Three subgradient steps on X = ones((3, 1)), y = [0, 1, 5] with lr = 1.2, from w = 0:
# w moves 0 -> 0.8 -> 1.0828 -> 0.8519 (step sizes 1.2, 1.2/sqrt(2), 1.2/sqrt(3)); the
# best iterate is the second, not the last.
FIT_X = np.ones((3, 1))
FIT_Y = np.array([0.0, 1.0, 5.0])
FIT_LR, FIT_STEPS = 1.2, 3
FIT_ITERATES = np.array([[0.0], [0.8], [1.0828427124746191], [0.8519026003835467]])
FIT_HISTORY = np.array([2.0, 1.7333333333333334, 1.6942809041582063, 1.7160324650670773])
FIT_W = FIT_ITERATES[2]

# 5. A box of height 3 on [-1, 2) from two step units.
BOX_A, BOX_B, BOX_H = -1.0, 2.0, 3.0
