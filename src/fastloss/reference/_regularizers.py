"""Twins of the regularizer kernels: the penalties of a list of arrays, element by
element in float64. Each returns (value, [gradient per array]) for the arrays it is
given (every one of them penalized), the gradients in each array's dtype."""
import numpy as np

__all__ = ["l1_value_and_grad", "l2_value_and_grad", "elastic_net_value_and_grad"]


def _sign(w):
    # torch.sign: 0 at 0, NaN at NaN
    return np.where(w > 0, 1.0, np.where(w < 0, -1.0, w))


def l1_value_and_grad(params, strength):
    """strength * sum_j |w_j|; gradient strength * sign(w)."""
    ws = [np.asarray(p, dtype=np.float64) for p in params]
    value = strength * sum(float(np.abs(w).sum()) for w in ws)
    return value, [(strength * _sign(w)).astype(np.asarray(p).dtype)
                   for w, p in zip(ws, params)]


def l2_value_and_grad(params, strength, convention="half"):
    """strength / 2 * sum w^2 ("half") or strength * sum w^2 ("full")."""
    c = strength / 2.0 if convention == "half" else strength
    ws = [np.asarray(p, dtype=np.float64) for p in params]
    value = c * sum(float((w * w).sum()) for w in ws)
    return value, [(2.0 * c * w).astype(np.asarray(p).dtype) for w, p in zip(ws, params)]


def elastic_net_value_and_grad(params, alpha, l1_ratio):
    """scikit-learn's alpha * (l1_ratio * ||w||_1 + (1 - l1_ratio) / 2 * ||w||_2^2)."""
    ws = [np.asarray(p, dtype=np.float64) for p in params]
    l1 = sum(float(np.abs(w).sum()) for w in ws)
    l2 = sum(float((w * w).sum()) for w in ws)
    value = alpha * (l1_ratio * l1 + 0.5 * (1.0 - l1_ratio) * l2)
    grads = [alpha * (l1_ratio * _sign(w) + (1.0 - l1_ratio) * w) for w in ws]
    return value, [g.astype(np.asarray(p).dtype) for g, p in zip(grads, params)]
