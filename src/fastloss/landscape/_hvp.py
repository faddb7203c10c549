"""Exact Hessian-vector products of an MLP's loss: the R-operator (Pearlmutter 1994).

For J(theta) = loss(model(X), y) and a direction v, one forward pass carries the
directional derivatives R{z} = d z / d theta . v of every pre-activation alongside z, and
one backward pass carries R{g} alongside every gradient g; R{dJ/dtheta} = H v. Exact up
to rounding (float64 throughout), at the cost of about two gradients, with no step to
choose. Supported: Linear layers, each optionally followed by ReLU, LeakyReLU, Tanh or
Sigmoid (whose second derivatives are cheap and exact), and CrossEntropyLoss (labels,
optional class weights, ignore_index, no label smoothing) or MSELoss, reduction "mean"
or "sum"; anything else reports why and the caller uses finite differences.
"""
import numpy as np

from ..losses import CrossEntropyLoss
from ..nn import LeakyReLU, ReLU, Sigmoid, Tanh
from ..regression import MSELoss

__all__ = ["unsupported_reason", "network_hvp"]


def unsupported_reason(plan, loss):
    """None when `network_hvp` handles this network and loss, else why not."""
    for layer, act in plan:
        if act is not None and not isinstance(act, (ReLU, LeakyReLU, Tanh, Sigmoid)):
            return f"{type(act).__name__} (exact products take ReLU, LeakyReLU, Tanh, Sigmoid)"
    if type(loss) is CrossEntropyLoss:
        if loss.label_smoothing != 0:
            return "label smoothing"
    elif type(loss) is not MSELoss:
        return f"{type(loss).__name__} (exact products take CrossEntropyLoss and MSELoss)"
    if loss.reduction not in ("mean", "sum"):
        return f"reduction={loss.reduction!r}"
    return None


def _derivatives(act, z):
    """(act(z), act'(z), act''(z)) in float64; the identity for no activation."""
    if act is None:
        return z, np.ones_like(z), np.zeros_like(z)
    if isinstance(act, ReLU):
        return np.maximum(z, 0), (z > 0).astype(np.float64), np.zeros_like(z)
    if isinstance(act, LeakyReLU):
        s = act.negative_slope
        return np.where(z > 0, z, s * z), np.where(z > 0, 1.0, s), np.zeros_like(z)
    if isinstance(act, Tanh):
        t = np.tanh(z)
        d1 = 1 - t * t
        return t, d1, -2 * t * d1
    s = np.exp(-np.logaddexp(0.0, -z))          # sigmoid, accurate on both tails
    d1 = s * (1 - s)
    return s, d1, d1 * (1 - 2 * s)


def _output_gradients(loss, out, r_out, y, divisor):
    """dJ/d(out) and its directional derivative R{.} along r_out = R{out}."""
    if type(loss) is MSELoss:
        scale = 2.0 / divisor
        return scale * (out - np.asarray(y, dtype=np.float64)), scale * r_out
    labels = np.asarray(y).astype(np.int64)
    kept = labels != loss.ignore_index
    row_weight = kept.astype(np.float64)
    if loss.weight is not None:
        row_weight[kept] = np.asarray(loss.weight, dtype=np.float64)[labels[kept]]
    z = out - out.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    onehot = np.zeros_like(p)
    onehot[np.flatnonzero(kept), labels[kept]] = 1.0
    w = (row_weight / divisor)[:, None]
    pr = p * r_out
    return w * (p - onehot), w * (pr - p * pr.sum(axis=1, keepdims=True))


def network_hvp(plan, offsets, loss, divisor, X, y, theta, v):
    """H v for the network `plan` ([(Linear, activation or None)]) whose weights and
    biases sit at `offsets` ([(weight offset, bias offset or -1)]) of theta."""
    theta = np.asarray(theta, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    a, r_a = np.asarray(X, dtype=np.float64), None
    cache = []
    for (layer, act), (wo, bo) in zip(plan, offsets):
        n_out, n_in = layer.out_features, layer.in_features
        W = theta[wo:wo + n_out * n_in].reshape(n_out, n_in)
        V = v[wo:wo + n_out * n_in].reshape(n_out, n_in)
        z = a @ W.T
        r_z = a @ V.T
        if r_a is not None:
            r_z += r_a @ W.T
        if bo >= 0:
            z += theta[bo:bo + n_out]
            r_z += v[bo:bo + n_out]
        value, d1, d2 = _derivatives(act, z)
        cache.append((a, r_a, W, V, wo, bo, r_z, d1, d2))
        a, r_a = value, d1 * r_z
    g, r_g = _output_gradients(loss, a, r_a, y, divisor)
    hv = np.zeros_like(theta)
    for a, r_a, W, V, wo, bo, r_z, d1, d2 in reversed(cache):
        gz = g * d1
        r_gz = r_g * d1 + g * d2 * r_z
        h_w = r_gz.T @ a
        if r_a is not None:
            h_w += gz.T @ r_a
        hv[wo:wo + W.size] = h_w.ravel()
        if bo >= 0:
            hv[bo:bo + W.shape[0]] = r_gz.sum(axis=0)
        g, r_g = gz @ W, r_gz @ W + gz @ V
    return hv
