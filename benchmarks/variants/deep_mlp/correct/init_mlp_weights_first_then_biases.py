# Correct init_mlp: the weights drawn in order in a first loop (scale times a standard normal), the biases in a second.
def init_mlp(sizes, scheme="he", seed=0):
    rules = {"seed": lambda i, o: 1.0 / max(i, o), "he": lambda i, o: 2.0 / i,
             "xavier": lambda i, o: 2.0 / (i + o)}
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(sizes)):
        n_in, n_out = sizes[l - 1], sizes[l]
        params["W%d" % l] = np.sqrt(rules[scheme](n_in, n_out)) * rng.normal(size=(n_in, n_out))
    for l in range(1, len(sizes)):
        params["b%d" % l] = np.zeros(sizes[l])
    return params
