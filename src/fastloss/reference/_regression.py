"""Twins of the regression losses of csrc/elementwise.c.

Each ``<loss>_terms(x, y, ...)`` returns the per-entry loss and its derivative in
float64; `elementwise_value_and_grad` weights and reduces them as the kernels do
("mean" divides the weighted sum by the number of entries).
"""
import numpy as np

__all__ = ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "log_cosh_loss",
           "quantile_loss", "elementwise_value_and_grad"]


def mse_terms(x, y):
    d = x - y
    return d * d, 2.0 * d


def l1_terms(x, y):
    d = x - y
    return np.abs(d), np.sign(d)


def huber_terms(x, y, delta=1.0):
    d = x - y
    a = np.abs(d)
    return np.where(a <= delta, 0.5 * d * d, delta * (a - 0.5 * delta)), np.clip(d, -delta, delta)


def smooth_l1_terms(x, y, beta=1.0):
    if beta == 0.0:
        return l1_terms(x, y)
    d = x - y
    a = np.abs(d)
    return np.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta), np.clip(d / beta, -1.0, 1.0)


def log_cosh_terms(x, y):
    """Taylor series below |d| = 0.1 (where log(e^d + e^-d) - log 2 would cancel),
    the log-sum-exp form above it."""
    d = x - y
    d2 = d * d
    series = d2 * (1 / 2 + d2 * (-1 / 12 + d2 * (1 / 45 + d2 * (-17 / 2520 + d2 * 31 / 14175))))
    with np.errstate(over="ignore", invalid="ignore"):
        large = np.logaddexp(d, -d) - np.log(2.0)
    return np.where(np.abs(d) < 0.1, series, large), np.tanh(d)


def quantile_terms(x, y, q=0.5):
    r = y - x
    return np.maximum(q * r, (q - 1.0) * r), np.where(r > 0, -q, np.where(r < 0, 1.0 - q, 0.0))


def elementwise_value_and_grad(terms, x, y, sample_weight=None, reduction="mean", **params):
    """Weighted, reduced loss of `terms(x, y, **params)` and its gradient, in x's dtype."""
    x = np.asarray(x)
    dtype = x.dtype
    x64 = x.astype(np.float64)
    y64 = np.asarray(y).astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        loss, grad = terms(x64, y64, **params)
    w = np.ones_like(x64) if sample_weight is None else np.broadcast_to(
        np.asarray(sample_weight, dtype=np.float64), x.shape)
    loss, grad = loss * w, grad * w
    if reduction == "none":
        return loss.astype(dtype), grad.astype(dtype)
    value = loss.sum()
    if reduction == "mean":
        value, grad = value / x.size, grad / x.size
    return dtype.type(value), grad.astype(dtype)


def _value(terms, name):
    def loss(x, y, sample_weight=None, reduction="mean", **params):
        return elementwise_value_and_grad(terms, x, y, sample_weight, reduction, **params)[0]
    loss.__name__ = loss.__qualname__ = name
    loss.__doc__ = f"The reduced value of `{terms.__name__}`."
    return loss


mse_loss = _value(mse_terms, "mse_loss")
l1_loss = _value(l1_terms, "l1_loss")
huber_loss = _value(huber_terms, "huber_loss")
smooth_l1_loss = _value(smooth_l1_terms, "smooth_l1_loss")
log_cosh_loss = _value(log_cosh_terms, "log_cosh_loss")
quantile_loss = _value(quantile_terms, "quantile_loss")
