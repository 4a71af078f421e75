# Correct softmax: atleast_2d, a loop over the rows with each row's own max, reshaped back.
def softmax(x):
    x = np.asarray(x, dtype=float)
    rows = np.atleast_2d(x)
    out = np.empty_like(rows)
    for i, row in enumerate(rows):
        e = np.exp(row - row.max())
        out[i] = e / e.sum()
    return out.reshape(x.shape)
