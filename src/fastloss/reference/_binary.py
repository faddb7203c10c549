"""Twins of the binary classification losses of csrc/elementwise.c (per-entry loss and
derivative in float64; reduce them with `elementwise_value_and_grad`)."""
import numpy as np

from ._regression import _value

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "hinge_loss",
           "squared_hinge_loss", "sigmoid_focal_loss"]


def _softplus(x):
    return np.logaddexp(0.0, x)


def _sigmoid(x):
    """sigmoid(x) = exp(-softplus(-x)): full relative accuracy on both tails."""
    return np.exp(-_softplus(-x))


def bce_terms(p, y):
    """PyTorch's BCE: logs clamped at -100, gradient with p (1 - p) floored at 1e-12."""
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p), -100.0)
        log_q = np.maximum(np.log1p(-p), -100.0)
    return -(y * log_p + (1.0 - y) * log_q), (p - y) / np.maximum(p * (1.0 - p), 1e-12)


def bce_logits_terms(x, y, pos_weight=1.0):
    pw = np.broadcast_to(np.asarray(pos_weight, dtype=np.float64), x.shape)
    pos = np.where(y != 0, pw * y * _softplus(-x), 0.0)
    neg = np.where(y != 1, (1.0 - y) * _softplus(x), 0.0)
    return pos + neg, (1.0 - y) * _sigmoid(x) - pw * y * _sigmoid(-x)


def _signed_labels(y):
    return np.where(y == 0, -1.0, y)


def hinge_terms(x, y):
    s = _signed_labels(y)
    m = 1.0 - s * x
    return np.maximum(m, 0.0), np.where(m > 0, -s, 0.0)


def squared_hinge_terms(x, y):
    s = _signed_labels(y)
    h = np.maximum(1.0 - s * x, 0.0)
    return h * h, -2.0 * s * h


def sigmoid_focal_terms(x, y, alpha=0.25, gamma=2.0):
    """torchvision.ops.sigmoid_focal_loss, with its derivative by the product rule."""
    p = _sigmoid(x)
    ce = bce_logits_terms(x, y)[0]
    one_minus_pt = 1.0 - (p * y + (1.0 - p) * (1.0 - y))
    alpha_t = 1.0 if alpha < 0 else alpha * y + (1.0 - alpha) * (1.0 - y)
    modulation = one_minus_pt ** gamma
    d_one_minus_pt = (1.0 - 2.0 * y) * p * (1.0 - p)
    d_modulation = (0.0 if gamma == 0 else
                    np.where(d_one_minus_pt != 0,
                             gamma * one_minus_pt ** (gamma - 1.0) * d_one_minus_pt, 0.0))
    return alpha_t * ce * modulation, alpha_t * ((p - y) * modulation + ce * d_modulation)


binary_cross_entropy = _value(bce_terms, "binary_cross_entropy")
binary_cross_entropy_with_logits = _value(bce_logits_terms, "binary_cross_entropy_with_logits")
hinge_loss = _value(hinge_terms, "hinge_loss")
squared_hinge_loss = _value(squared_hinge_terms, "squared_hinge_loss")
sigmoid_focal_loss = _value(sigmoid_focal_terms, "sigmoid_focal_loss")
