# Correct relu: x multiplied by its positive mask (negatives give -0.0, which equals 0).
def relu(x):
    return x * (x > 0)
