# Bug in staircase_network: W2 returned as a (1, 2n) row instead of a (2n, 1) column. [reaches callers: wrong shape]
def staircase_network(B, heights):
    heights = np.asarray(heights, dtype=np.float64)
    n = heights.shape[0]
    edges = np.linspace(-B, B, n + 1)
    b1 = np.empty(2 * n)
    b1[0::2], b1[1::2] = -edges[:-1], -edges[1:]
    W2 = np.empty(2 * n)
    W2[0::2], W2[1::2] = heights, -heights
    return {"W1": np.ones((1, 2 * n)), "b1": b1, "W2": W2[None, :], "b2": np.zeros(1)}
