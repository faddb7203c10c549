"""Twins of the auxiliary terms of fastloss.composite, written for clarity: explicit
loops and textbook formulas in float64; values as Python floats, gradients in the
input's dtype."""
import math

import numpy as np

__all__ = ["temporal_consistency_value_and_grad", "demographic_parity_gap_value_and_grad",
           "gan_discriminator_value_and_grad", "gan_generator_value_and_grad",
           "perceptual_value_and_grad"]


def _softplus(x):
    # log(1 + e^x) = max(x, 0) + log1p(e^-|x|)
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _sigmoid(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _sign(v):
    return 1.0 if v > 0 else (-1.0 if v < 0 else 0.0)


def temporal_consistency_value_and_grad(x, kind="squared", reduction="mean"):
    a = np.asarray(x, dtype=np.float64)
    flat = a.reshape(a.shape[0], -1)
    grad = np.zeros_like(flat)
    total, count = 0.0, 0
    for t in range(flat.shape[0] - 1):
        for j in range(flat.shape[1]):
            d = flat[t + 1, j] - flat[t, j]
            total += d * d if kind == "squared" else abs(d)
            dd = 2 * d if kind == "squared" else _sign(d)
            grad[t + 1, j] += dd
            grad[t, j] -= dd
            count += 1
    scale = 1.0 / count if reduction == "mean" else 1.0
    return total * scale, (grad * scale).reshape(a.shape).astype(np.asarray(x).dtype)


def demographic_parity_gap_value_and_grad(x, groups, kind="range"):
    a = np.asarray(x, dtype=np.float64)
    labels = sorted(set(np.asarray(groups).tolist()))
    members = [[i for i, g in enumerate(np.asarray(groups).tolist()) if g == lab]
               for lab in labels]
    means = [sum(a[i] for i in m) / len(m) for m in members]
    dmeans = [0.0] * len(means)
    if kind == "range":
        hi = max(range(len(means)), key=lambda k: (means[k], -k))
        lo = min(range(len(means)), key=lambda k: (means[k], k))
        value = means[hi] - means[lo]
        if hi != lo:
            dmeans[hi] += 1.0
            dmeans[lo] -= 1.0
    else:
        G = len(means)
        center = sum(means) / G
        value = sum(abs(m - center) for m in means) / G
        signs = [_sign(m - center) for m in means]
        dmeans = [(s - sum(signs) / G) / G for s in signs]
    grad = np.zeros_like(a)
    for k, m in enumerate(members):
        for i in m:
            grad[i] = dmeans[k] / len(m)
    return value, grad.astype(np.asarray(x).dtype)


def gan_discriminator_value_and_grad(real, fake, reduction="mean"):
    r = np.asarray(real, dtype=np.float64).ravel()
    f = np.asarray(fake, dtype=np.float64).ravel()
    losses = [_softplus(-u) + _softplus(v) for u, v in zip(r, f)]
    c = 1.0 / len(losses) if reduction == "mean" else 1.0
    g_real = np.array([-c * _sigmoid(-u) for u in r]).reshape(np.shape(real))
    g_fake = np.array([c * _sigmoid(v) for v in f]).reshape(np.shape(fake))
    dtype = np.asarray(real).dtype
    value = np.array(losses).reshape(np.shape(real)) if reduction == "none" else sum(losses) * c
    return value, (g_real.astype(dtype), g_fake.astype(dtype))


def gan_generator_value_and_grad(fake, reduction="mean"):
    f = np.asarray(fake, dtype=np.float64).ravel()
    losses = [_softplus(-v) for v in f]
    c = 1.0 / len(losses) if reduction == "mean" else 1.0
    grad = np.array([-c * _sigmoid(-v) for v in f]).reshape(np.shape(fake))
    value = np.array(losses).reshape(np.shape(fake)) if reduction == "none" else sum(losses) * c
    return value, grad.astype(np.asarray(fake).dtype)


def perceptual_value_and_grad(x, target, phi, phi_vjp, reduction="mean"):
    diff = np.asarray(phi(x), dtype=np.float64) - np.asarray(phi(target), dtype=np.float64)
    c = 1.0 / diff.size if reduction == "mean" else 1.0
    value = c * float(np.sum(diff ** 2))
    return value, np.asarray(phi_vjp(x, 2 * c * diff)).astype(np.asarray(x).dtype)
