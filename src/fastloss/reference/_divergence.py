"""Twins of csrc/divergence.c: PyTorch's pointwise kl_div and the KL of probability rows."""
import numpy as np

__all__ = ["kl_div", "kl_div_value_and_grad", "kl_divergence"]


def kl_div_value_and_grad(input, target, reduction="batchmean", log_target=False):
    """``t (log t - x)`` (or ``exp(t) (t - x)`` with log_target) per entry, 0 where the
    target probability is 0, reduced; and its gradient with respect to the input."""
    x = np.asarray(input)
    x64 = x.astype(np.float64)
    t = np.asarray(target, dtype=np.float64)
    prob = np.exp(t) if log_target else t
    log_t = t if log_target else np.log(np.where(t > 0, t, 1.0))
    with np.errstate(invalid="ignore"):
        terms = np.where(prob == 0, 0.0, prob * (log_t - x64))
    if not log_target:
        terms = np.where(np.isnan(t), np.nan, terms)
    if reduction == "none":
        return terms.astype(x.dtype), (0.0 - prob).astype(x.dtype)
    divisor = {"sum": 1.0, "mean": float(x.size),
               "batchmean": float(x.shape[0] if x.ndim else 1)}[reduction]
    with np.errstate(invalid="ignore", divide="ignore"):
        value = terms.sum() / divisor
        grad = 0.0 - prob / divisor
    return x.dtype.type(value), grad.astype(x.dtype)


def kl_div(input, target, reduction="batchmean", log_target=False):
    """The value of `kl_div_value_and_grad`."""
    return kl_div_value_and_grad(input, target, reduction, log_target)[0]


def kl_divergence(p, q, reduction="none"):
    """``sum_j p_j log(p_j / q_j)`` over the last axis, with 0 log 0 = 0 and +inf where
    q_j = 0 < p_j; reduction "sum" / "mean" over the rows."""
    p = np.asarray(p)
    p64 = p.astype(np.float64)
    q64 = np.asarray(q, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = p64 / q64
        # p / q overflows only for a subnormal q: take the logs apart there
        log_ratio = np.where(np.isinf(ratio) & (q64 > 0), np.log(p64) - np.log(q64),
                             np.log(ratio))
        terms = np.where(p64 == 0, 0.0, p64 * log_ratio)
    terms = np.where(np.isnan(p64), np.nan, terms)
    per_row = terms.sum(axis=-1)
    if reduction == "none":
        out = per_row.astype(p.dtype)
        return out if out.ndim else out[()]
    total = per_row.sum()
    if reduction == "mean":
        total = total / per_row.size if per_row.size else np.nan
    return p.dtype.type(total)
