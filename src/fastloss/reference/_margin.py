"""Twins of csrc/margin.c: the multiclass margin (hinge) loss."""
import numpy as np

__all__ = ["multi_margin_loss", "multi_margin_loss_value_and_grad"]


def multi_margin_loss_value_and_grad(x, target, p=1, margin=1.0, weight=None,
                                     reduction="mean", normalize=True):
    """``w[y] / D * sum_{j != y} max(0, margin - x[y] + x[j])^p`` per sample (D = C, or 1
    with normalize=False) and its gradient, as torch.nn.functional.multi_margin_loss.

    A hinge argument of exactly 0 contributes no slope; a NaN one makes the sample's
    loss and gradient NaN. "mean" divides by the number of samples.
    """
    x = np.asarray(x)
    rows = np.atleast_2d(x.astype(np.float64))
    n, c = rows.shape
    y = np.asarray(target).reshape(n).astype(np.int64)
    w = np.ones(c) if weight is None else np.asarray(weight, dtype=np.float64)
    scale = w[y] / (c if normalize else 1.0)

    z = margin - rows[np.arange(n), y][:, None] + rows
    active = ~(z <= 0)
    active[np.arange(n), y] = False
    zp = np.where(active, z, 0.0)
    per_sample = scale * np.sum(zp ** p, axis=1)
    slope = np.where(active, np.where(np.isnan(z), z, 1.0) if p == 1 else 2.0 * z, 0.0)

    if reduction == "none":
        coef = 1.0
        value = per_sample.astype(x.dtype)
        value = value[0] if x.ndim == 1 else value
    else:
        total = per_sample.sum()
        coef = 1.0 if reduction == "sum" else (1.0 / n if n else np.nan)
        value = x.dtype.type(total * coef if n or reduction == "sum" else np.nan)
    grad = coef * scale[:, None] * slope
    grad[np.arange(n), y] = -grad.sum(axis=1)
    return value, grad.reshape(x.shape).astype(x.dtype)


def multi_margin_loss(x, target, p=1, margin=1.0, weight=None, reduction="mean",
                      normalize=True):
    """The value of `multi_margin_loss_value_and_grad`."""
    return multi_margin_loss_value_and_grad(x, target, p, margin, weight, reduction,
                                            normalize)[0]
