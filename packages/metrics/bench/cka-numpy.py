"""numpy reference timings for bench/cka-bench.mjs (not a test): the same CKA computations at the same sizes.

Linear CKA is the google-research `feature_space_linear_cka` (centre columns, then ||Y^T X||_F^2 /
(||X^T X||_F ||Y^T Y||_F)); minibatch CKA forms each layer's Gram X X^T per batch, centres it with the unbiased
double centring and takes all layer-pair HSIC_1 values with one product of the flattened Grams. float64 on
numpy's BLAS with its default threads. Prints one JSON line.
"""

import json
import sys
import time

import numpy as np


def best(fn, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), times


def linear_cka(x, y):
    x = x - x.mean(0, keepdims=True)
    y = y - y.mean(0, keepdims=True)
    xty = np.linalg.norm(x.T @ y) ** 2
    return xty / (np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y))


def center_gram_unbiased(g):
    n = g.shape[0]
    g = g.copy()
    np.fill_diagonal(g, 0)
    means = g.sum(0) / (n - 2)
    means -= means.sum() / (2 * (n - 1))
    g -= means[:, None]
    g -= means[None, :]
    np.fill_diagonal(g, 0)
    return g


def minibatch_cka(batches):
    layers = len(batches[0])
    cross = np.zeros((layers, layers))
    for batch in batches:
        grams = np.stack([center_gram_unbiased(x @ x.T).ravel() for x in batch])
        cross += grams @ grams.T
    d = np.sqrt(np.diag(cross))
    return cross / d[:, None] / d[None, :]


def blas():
    try:
        config = np.show_config(mode="dicts")
        info = config["Build Dependencies"]["blas"]
        return f"{info.get('name')} {info.get('version')}"
    except Exception:  # numpy < 1.26 has no dict mode
        return "unknown BLAS"


def main():
    n, d, layers, batch, batches = (int(v) for v in sys.argv[1:6])
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, d))
    y = rng.standard_normal((n, d))
    linear, linear_times = best(lambda: linear_cka(x, y), 3)
    data = [[rng.standard_normal((batch, d)) for _ in range(layers)] for _ in range(batches)]
    mini, mini_times = best(lambda: minibatch_cka(data), 3)
    print(
        json.dumps(
            {
                "numpy": np.__version__,
                "blas": blas(),
                "linearSeconds": linear,
                "linearTimes": linear_times,
                "minibatchSeconds": mini,
                "minibatchTimes": mini_times,
            }
        )
    )


main()
