# Bug in init_mlp: uniform draws of the right variance (bound sqrt(3 var)) instead of normal ones.
def init_mlp(sizes, scheme="he", seed=0):
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(sizes)):
        n_in, n_out = sizes[l - 1], sizes[l]
        variance = {"seed": 1.0 / max(n_in, n_out), "he": 2.0 / n_in,
                    "xavier": 2.0 / (n_in + n_out)}[scheme]
        bound = np.sqrt(3.0 * variance)
        params[f"W{l}"] = rng.uniform(-bound, bound, size=(n_in, n_out))
        params[f"b{l}"] = np.zeros(n_out)
    return params
