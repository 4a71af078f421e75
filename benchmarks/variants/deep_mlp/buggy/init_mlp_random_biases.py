# Bug in init_mlp: the biases drawn from the same normal as the weights instead of zeros.
def init_mlp(sizes, scheme="he", seed=0):
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(sizes)):
        n_in, n_out = sizes[l - 1], sizes[l]
        variance = {"seed": 1.0 / max(n_in, n_out), "he": 2.0 / n_in,
                    "xavier": 2.0 / (n_in + n_out)}[scheme]
        params[f"W{l}"] = rng.normal(0.0, np.sqrt(variance), size=(n_in, n_out))
        params[f"b{l}"] = rng.normal(0.0, np.sqrt(variance), size=n_out)
    return params
