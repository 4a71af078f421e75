# Correct gradCE: a copy of P with 1 subtracted at each row's true class, divided by N.
def gradCE(target, prediction):
    d = np.array(prediction, dtype=float)
    d[np.arange(len(d)), np.argmax(target, axis=1)] -= 1.0
    return d / len(d)
