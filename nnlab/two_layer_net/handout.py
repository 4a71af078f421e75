"""The handout's worked examples, as numbers (public: students see them too).

The handout writes its loss without the minus sign and calls the target entries
the "6th, 4th and 7th value"; the numbers it prints are at 0-based indices 6, 4, 7,
i.e. the targets are the classes [6, 4, 7]. Both are stated correctly here.
"""

import numpy as np

RELU_INPUT = np.array([
    [0.24254239, -0.0093585, 0.06251788],
    [0.29174967, 0.00640839, 0.0088702],
    [0.21299534, 0.01685097, -0.01915576],
    [0.28040822, 0.08560704, -0.20277768],
    [0.20900069, 0.05125724, -0.23243211],
])

SOFTMAX_LOGITS = np.array([-1.70250359, -4.2325084, -4.32629959, 5.89011416, -5.86517858,
                           10.57400549, -3.038615, -8.27508649, 6.23970273, 2.72117404])

# Softmax outputs for a batch of 3; row 0 is softmax(SOFTMAX_LOGITS).
BATCH_PROBABILITIES = np.array([
    [4.55628258e-06, 3.62947261e-07, 3.30453631e-07, 9.03738205e-03, 7.09224737e-08,
     9.77756708e-01, 1.19769115e-06, 6.37050950e-09, 1.28193803e-02, 3.80005111e-04],
    [1.02072520e-03, 2.07443268e-02, 1.36165460e-04, 1.31895168e-01, 7.33937145e-04,
     2.33243538e-01, 2.03292669e-03, 3.39410794e-04, 5.27287683e-01, 8.25661187e-02],
    [5.19327780e-02, 1.89228826e-03, 1.90638660e-02, 2.89810025e-01, 4.21878509e-02,
     4.39552262e-01, 1.67685711e-02, 5.51353408e-04, 1.38094898e-01, 1.46107555e-04],
])
SOFTMAX_PROBABILITIES = BATCH_PROBABILITIES[0]

BATCH_CLASSES = np.array([6, 4, 7])  # 0-based class indices
BATCH_TARGETS = np.eye(10)[BATCH_CLASSES]

# -(1/3) (log p[0, 6] + log p[1, 4] + log p[2, 7]); the handout rounds it to 9.45.
BATCH_LOSS = 9.451778874433794

# dJ/dz = (P - T) / 3, the handout's dJ/dx matrix.
BATCH_GRADIENT = np.array([
    [1.51876086e-06, 1.20982420e-07, 1.10151210e-07, 3.01246068e-03, 2.36408246e-08,
     3.25918903e-01, -3.33332934e-01, 2.12350317e-09, 4.27312677e-03, 1.26668370e-04],
    [3.40241732e-04, 6.91477560e-03, 4.53884867e-05, 4.39650558e-02, -3.33088688e-01,
     7.77478461e-02, 6.77642230e-04, 1.13136931e-04, 1.75762561e-01, 2.75220396e-02],
    [1.73109260e-02, 6.30762753e-04, 6.35462201e-03, 9.66033417e-02, 1.40626170e-02,
     1.46517421e-01, 5.58952372e-03, -3.33149549e-01, 4.60316327e-02, 4.87025185e-05],
])
