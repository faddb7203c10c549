"""Twins of the optimizer kernels (csrc/optim_impl.h): one parameter array at a time,
in the arrays' dtype, in torch.optim's order of operations. Written for clarity.

Every ``*_update`` changes ``p`` and the arrays of ``state`` in place; ``state`` is a
dict of arrays shaped like ``p`` (missing entries are created as torch creates them)
plus ``"step"`` (the number of steps taken, counted before the update).
"""
import math

import numpy as np

__all__ = ["sgd_update", "adagrad_update", "rmsprop_update", "adam_update",
           "total_grad_norm", "clip_grad_norm", "clip_grad_value"]


def _lerp(a, b, w):
    """torch.lerp: exact at both ends."""
    return a + w * (b - a) if w < 0.5 else b - (b - a) * (1.0 - w)


def _effective_grad(p, g, maximize, weight_decay):
    d = -g if maximize else g
    return d + weight_decay * p if weight_decay != 0 else d


def sgd_update(p, g, state, lr, momentum=0.0, dampening=0.0, weight_decay=0.0,
               nesterov=False, maximize=False):
    """SGD with momentum (torch.optim.SGD)."""
    d = _effective_grad(p, g, maximize, weight_decay)
    if momentum != 0:
        if "momentum_buffer" not in state:
            state["momentum_buffer"] = np.array(d, dtype=p.dtype)  # 0-d stays an array
        else:
            buf = state["momentum_buffer"]
            buf[...] = buf * momentum + (1.0 - dampening) * d
        buf = state["momentum_buffer"]
        d = d + momentum * buf if nesterov else buf
    p[...] = p + -lr * d
    state["step"] = state.get("step", 0) + 1


def adagrad_update(p, g, state, lr, lr_decay=0.0, weight_decay=0.0,
                   initial_accumulator_value=0.0, eps=1e-10, maximize=False):
    """Adagrad (torch.optim.Adagrad)."""
    state.setdefault("sum", np.full_like(p, initial_accumulator_value))
    state["step"] = state.get("step", 0) + 1
    d = _effective_grad(p, g, maximize, weight_decay)
    clr = lr / (1 + (state["step"] - 1) * lr_decay)
    state["sum"][...] = state["sum"] + d * d
    p[...] = p + -clr * d / (np.sqrt(state["sum"]) + eps)


def rmsprop_update(p, g, state, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                   centered=False, maximize=False):
    """RMSprop (torch.optim.RMSprop)."""
    state.setdefault("square_avg", np.zeros_like(p))
    state["step"] = state.get("step", 0) + 1
    d = _effective_grad(p, g, maximize, weight_decay)
    v = state["square_avg"]
    v[...] = v * alpha + (1.0 - alpha) * d * d
    if centered:
        a = state.setdefault("grad_avg", np.zeros_like(p))
        a[...] = _lerp(a, d, 1.0 - alpha)
        denom = np.sqrt(v + -a * a) + eps
    else:
        denom = np.sqrt(v) + eps
    if momentum > 0:
        buf = state.setdefault("momentum_buffer", np.zeros_like(p))
        buf[...] = buf * momentum + d / denom
        p[...] = p + -lr * buf
    else:
        p[...] = p + -lr * d / denom


def adam_update(p, g, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                amsgrad=False, maximize=False, decoupled=False):
    """Adam (torch.optim.Adam), or AdamW with decoupled=True."""
    beta1, beta2 = betas
    m = state.setdefault("exp_avg", np.zeros_like(p))
    v = state.setdefault("exp_avg_sq", np.zeros_like(p))
    state["step"] = step = state.get("step", 0) + 1
    if decoupled:
        p[...] = p * (1.0 - lr * weight_decay)
        d = _effective_grad(p, g, maximize, 0.0)
    else:
        d = _effective_grad(p, g, maximize, weight_decay)
    m[...] = _lerp(m, d, 1.0 - beta1)
    v[...] = v * beta2 + (1.0 - beta2) * d * d
    if amsgrad:
        v_max = state.setdefault("max_exp_avg_sq", np.zeros_like(p))
        np.maximum(v_max, v, out=v_max)
        v = v_max
    step_size = lr / (1 - beta1 ** step)
    bias_correction2_sqrt = math.sqrt(1 - beta2 ** step)
    p[...] = p + -step_size * m / (np.sqrt(v) / bias_correction2_sqrt + eps)


def total_grad_norm(grads, norm_type=2.0):
    """The p-norm of all entries of all arrays together, in float64."""
    flat = np.concatenate([np.abs(np.asarray(g, dtype=np.float64)).ravel() for g in grads]
                          + [np.zeros(0)])
    if math.isinf(norm_type):
        return float(flat.max()) if flat.size else 0.0
    return float(np.sum(flat ** norm_type) ** (1.0 / norm_type))


def clip_grad_norm(grads, max_norm, norm_type=2.0):
    """Scale all gradients in place by min(1, max_norm / (norm + 1e-6)); returns norm."""
    norm = total_grad_norm(grads, norm_type)
    coef = min(max_norm / (norm + 1e-6), 1.0)
    for g in grads:
        g[...] = g * g.dtype.type(coef)
    return norm


def clip_grad_value(grads, clip_value):
    """Clamp every gradient entry to [-clip_value, clip_value] in place (NaN stays)."""
    for g in grads:
        np.clip(g, -clip_value, clip_value, out=g)
