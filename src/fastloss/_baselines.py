"""What a NumPy user writes for each benchmarked op: plain vectorized NumPy, the
baselines of ``python -m fastloss bench`` and of the suites in bench/.

Each returns what fastloss returns (value, then gradients), in the input's dtype. They
are written as a NumPy user would, not for accuracy: float32 stays float32.
"""
import numpy as np

HUBER_DELTA = 1.0


def numpy_cross_entropy(x, y):
    """Mean softmax cross-entropy of logits x (N, C) and labels y (N,), and its gradient."""
    n = x.shape[0]
    rows = np.arange(n)
    m = x.max(axis=1, keepdims=True)
    e = np.exp(x - m)
    s = e.sum(axis=1)
    loss = np.mean(np.log(s) + m[:, 0] - x[rows, y])
    grad = e / s[:, None]
    grad[rows, y] -= 1
    grad /= n
    return loss, grad


def numpy_log_softmax(x):
    """log_softmax of the rows of x (N, C)."""
    z = x - x.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def numpy_mse(x, y):
    """Mean squared error and its gradient."""
    d = x - y
    return np.mean(d * d), d * np.float32(2.0 / d.size)


def numpy_huber(x, y, delta=HUBER_DELTA):
    """Mean Huber loss and its gradient."""
    d = x - y
    a = np.abs(d)
    loss = np.where(a <= delta, 0.5 * d * d, delta * (a - 0.5 * delta))
    return np.mean(loss), np.clip(d, -delta, delta) * np.float32(1.0 / d.size)


def numpy_bce_with_logits(x, y):
    """Mean binary cross-entropy of logits (the stable softplus form) and its gradient."""
    with np.errstate(over="ignore"):
        loss = np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))
        grad = (1 / (1 + np.exp(-x)) - y) * np.float32(1.0 / x.size)
    return np.mean(loss), grad


def numpy_multi_margin(x, y, margin=1.0):
    """Mean multiclass margin loss (PyTorch's normalization, p = 1) and its gradient."""
    n, c = x.shape
    rows = np.arange(n)
    z = margin - x[rows, y][:, None] + x
    z[rows, y] = 0.0
    active = z > 0
    loss = np.sum(z, where=active, dtype=np.float64) / (n * c)
    grad = active.astype(x.dtype) / x.dtype.type(n * c)
    grad[rows, y] = -grad.sum(axis=1)
    return x.dtype.type(loss), grad


def numpy_kl_div(logq, t):
    """KL divergence with reduction "batchmean" (t log t = 0 where t = 0) and its gradient."""
    n = logq.shape[0]
    log_t = np.log(t, where=t > 0, out=np.zeros_like(t))
    loss = np.sum(t * (log_t - logq), dtype=np.float64) / n
    return logq.dtype.type(loss), t / -logq.dtype.type(n)


def numpy_assign(x, c):
    """(labels, squared distances) by the BLAS expansion, as most NumPy code does."""
    d2 = (x * x).sum(axis=1)[:, None] - 2.0 * (x @ c.T) + (c * c).sum(axis=1)[None, :]
    labels = d2.argmin(axis=1)
    return labels, np.maximum(d2[np.arange(len(x)), labels], 0.0)


def numpy_wcss(x, c):
    labels, dist = numpy_assign(x, c)
    return dist.sum(dtype=np.float64), labels


def numpy_wcss_grad(x, c):
    """(value, d/dC, d/dX) with the labels held fixed."""
    labels, dist = numpy_assign(x, c)
    diff = x - c[labels]
    grad_c = np.zeros_like(c)
    np.add.at(grad_c, labels, -2.0 * diff)
    return dist.sum(dtype=np.float64), grad_c, 2.0 * diff


def numpy_kmeans_step(x, c):
    """(new centroids, labels): the means of the clusters; empty ones kept."""
    labels, _ = numpy_assign(x, c)
    sums = np.zeros_like(c)
    np.add.at(sums, labels, x)
    counts = np.bincount(labels, minlength=len(c))
    new = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], c)
    return new.astype(c.dtype), labels
