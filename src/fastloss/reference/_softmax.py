"""Twins of csrc/softmax.c: softmax, log_softmax, logsumexp, cross-entropy, NLL."""
import numpy as np

__all__ = ["softmax", "log_softmax", "logsumexp", "cross_entropy", "nll_loss",
           "cross_entropy_value_and_grad", "nll_loss_value_and_grad"]


def _log_softmax64(x):
    """log softmax of the rows of a 2-D float64 array, with the limits for inf/NaN."""
    out = np.empty_like(x)
    for i, row in enumerate(x):
        if np.isnan(row).any() or (row == -np.inf).all():
            out[i] = np.nan
        elif (row == np.inf).any():
            k = np.count_nonzero(row == np.inf)
            out[i] = np.where(row == np.inf, -np.log(k), -np.inf)
        else:
            m = row.max()
            out[i] = (row - m) - np.log(np.sum(np.exp(row - m)))
    return out


def _rows64(x):
    x = np.asarray(x)
    return np.atleast_2d(x.astype(np.float64)).reshape(-1, x.shape[-1])


def log_softmax(x, axis=-1):
    """``x - logsumexp(x)`` along `axis` (limits as documented in fastloss.softmax)."""
    x = np.moveaxis(np.asarray(x), axis, -1)
    out = _log_softmax64(_rows64(x)).reshape(x.shape).astype(x.dtype)
    return np.moveaxis(out, -1, axis)


def softmax(x, axis=-1):
    """``exp(log_softmax(x))`` along `axis`."""
    x = np.moveaxis(np.asarray(x), axis, -1)
    out = np.exp(_log_softmax64(_rows64(x))).reshape(x.shape).astype(x.dtype)
    return np.moveaxis(out, -1, axis)


def logsumexp(x, axis=-1):
    """``log(sum(exp(x)))`` along `axis`; -inf for an empty slice."""
    x = np.moveaxis(np.asarray(x), axis, -1)
    rows = _rows64(x)
    out = np.empty(rows.shape[0])
    for i, row in enumerate(rows):
        if row.size == 0:
            out[i] = -np.inf
        elif np.isnan(row).any() or (row == -np.inf).all():
            out[i] = np.nan
        elif (row == np.inf).any():
            out[i] = np.inf
        else:
            m = row.max()
            out[i] = m + np.log(np.sum(np.exp(row - m)))
    out = out.reshape(x.shape[:-1]).astype(x.dtype)
    return out if out.ndim else out[()]


def _target_weights(target, n_rows, n_classes, weight, ignore_index, label_smoothing):
    """b[i, j], the weight of -log p[i, j] in sample i's loss; the "mean" divisor; and
    which rows are not ignored.

    Hard labels: b[i] = (1 - eps) w[y_i] onehot(y_i) + eps / C * w (0 for ignored rows),
    divisor = sum of w[y_i] over rows not ignored.
    Probabilities: b[i] = w * ((1 - eps) t[i] + eps / C), divisor = N.
    """
    w = np.ones(n_classes) if weight is None else np.asarray(weight, dtype=np.float64)
    eps = float(label_smoothing)
    target = np.asarray(target)
    if target.dtype.kind == "f":
        t = target.astype(np.float64).reshape(n_rows, n_classes)
        return w * ((1 - eps) * t + eps / n_classes), float(n_rows), np.ones(n_rows, bool)
    labels = target.astype(np.int64).reshape(n_rows)
    b = np.zeros((n_rows, n_classes))
    active = labels != ignore_index
    divisor = 0.0
    for i, y in enumerate(labels):
        if not active[i]:
            continue
        if not 0 <= y < n_classes:
            raise ValueError(f"label {y} at row {i} is outside [0, {n_classes})")
        b[i] = eps / n_classes * w
        b[i, y] += (1 - eps) * w[y]
        divisor += w[y]
    return b, divisor, active


def _reduce(per_sample, reduction, divisor):
    if reduction == "none":
        return per_sample
    if reduction == "sum":
        return per_sample.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        return per_sample.sum() / divisor


def _weighted_sum(b, values):
    """sum_j b_j values_j per row, where a zero weight contributes 0 (not 0 * inf)."""
    with np.errstate(invalid="ignore"):
        return np.where(b != 0, b * values, 0.0).sum(axis=1)


def _class_loss(log_p_fn, x, target, weight, ignore_index, reduction, label_smoothing):
    x = np.asarray(x)
    rows = _rows64(x)
    n_rows, n_classes = rows.shape
    log_p = log_p_fn(rows)
    b, divisor, active = _target_weights(target, n_rows, n_classes, weight, ignore_index,
                                         label_smoothing)
    per_sample = _weighted_sum(b, -log_p)
    if log_p_fn is _log_softmax64:  # softmax of a NaN row is NaN, whatever the target
        per_sample[np.isnan(log_p).all(axis=1) & active] = np.nan
    value = _reduce(per_sample, reduction, divisor)
    # A mean over a zero divisor is NaN (as PyTorch), and so is its gradient.
    scale = 1.0 if reduction != "mean" else (1.0 / divisor if divisor else np.nan)
    if reduction == "mean" and not divisor:
        value = np.nan
    return x, rows, log_p, b, scale, value, active


def _finish(x, value, reduction):
    if reduction == "none":
        return value.astype(x.dtype)[0] if x.ndim == 1 else value.astype(x.dtype)
    return x.dtype.type(value)


def cross_entropy_value_and_grad(x, target, weight=None, ignore_index=-100,
                                 reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy of logits and its gradient, as torch.nn.functional.
    cross_entropy defines the value (see fastloss.CrossEntropyLoss for the table)."""
    x, rows, log_p, b, scale, value, active = _class_loss(
        _log_softmax64, x, target, weight, ignore_index, reduction, label_smoothing)
    # d/dx_ij of sum_k b_ik (lse_i - x_ik) = p_ij sum_k b_ik - b_ij
    grad = (np.exp(log_p) * b.sum(axis=1, keepdims=True) - b) * scale
    grad[~active] = 0.0  # ignored rows have no gradient
    return _finish(x, value, reduction), grad.reshape(x.shape).astype(x.dtype)


def nll_loss_value_and_grad(logp, target, weight=None, ignore_index=-100,
                            reduction="mean", label_smoothing=0.0):
    """Negative log-likelihood of log-probabilities and its gradient -b * scale."""
    x, rows, log_p, b, scale, value, active = _class_loss(
        lambda r: r, logp, target, weight, ignore_index, reduction, label_smoothing)
    grad = 0.0 - b * scale
    grad[~active] = 0.0
    return _finish(x, value, reduction), grad.reshape(x.shape).astype(x.dtype)


def cross_entropy(x, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """The value of `cross_entropy_value_and_grad`."""
    return cross_entropy_value_and_grad(x, target, weight, ignore_index, reduction,
                                        label_smoothing)[0]


def nll_loss(logp, target, weight=None, ignore_index=-100, reduction="mean",
             label_smoothing=0.0):
    """The value of `nll_loss_value_and_grad`."""
    return nll_loss_value_and_grad(logp, target, weight, ignore_index, reduction,
                                   label_smoothing)[0]
