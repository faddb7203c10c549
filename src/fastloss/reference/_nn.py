"""NumPy twins of csrc/nn.c and of fastloss.nn's passes, written for clarity.

Everything is computed in float64 and returned in the input's dtype.
"""
import math

import numpy as np

__all__ = ["activation_forward", "activation_derivative", "bias_activation_forward",
           "bias_activation_backward", "mlp_forward_backward"]

_GELU_SCALE = math.sqrt(2.0 / math.pi)
_normal_cdf = np.vectorize(lambda v: 0.5 * math.erfc(-v / math.sqrt(2.0)), otypes=[float])


def _sigmoid(v):
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-v))


def activation_forward(v, activation, negative_slope=0.01):
    """act(v) for the activations of csrc/nn.h ("identity", "sigmoid", "tanh", "relu",
    "leaky_relu", "gelu", "gelu_tanh"), in float64."""
    v = np.asarray(v, dtype=np.float64)
    if activation == "identity":
        return v.copy()
    if activation == "sigmoid":
        return _sigmoid(v)
    if activation == "tanh":
        return np.tanh(v)
    if activation == "relu":
        return np.where(v < 0, 0.0, v)
    if activation == "leaky_relu":
        return np.where(v > 0, v, negative_slope * v)
    if activation == "gelu":
        return v * _normal_cdf(v)
    if activation == "gelu_tanh":
        # 0.5 v (1 + tanh u) = v sigmoid(2u): no cancellation for v < 0
        return v * _sigmoid(2 * _GELU_SCALE * (v + 0.044715 * v ** 3))
    raise ValueError(f"unknown activation {activation!r}")


def activation_derivative(v, activation, negative_slope=0.01):
    """act'(v) in float64 (ReLU: 0 at 0; LeakyReLU: the slope at 0, as PyTorch)."""
    v = np.asarray(v, dtype=np.float64)
    if activation == "identity":
        return np.ones_like(v)
    if activation == "sigmoid":
        s = _sigmoid(v)
        return s * (1.0 - s)
    if activation == "tanh":
        return 1.0 - np.tanh(v) ** 2
    if activation == "relu":
        return np.where(v > 0, 1.0, 0.0)
    if activation == "leaky_relu":
        return np.where(v > 0, 1.0, negative_slope)
    if activation == "gelu":
        return _normal_cdf(v) + v * np.exp(-0.5 * v * v) / math.sqrt(2.0 * math.pi)
    if activation == "gelu_tanh":
        s = _sigmoid(2 * _GELU_SCALE * (v + 0.044715 * v ** 3))
        d2u = 2 * _GELU_SCALE * (1.0 + 3 * 0.044715 * v * v)
        return s + v * s * (1.0 - s) * d2u
    raise ValueError(f"unknown activation {activation!r}")


def bias_activation_forward(z, bias, activation, negative_slope=0.01):
    """act(z + bias) (bias None: act(z)), in z's dtype."""
    z = np.asarray(z)
    v = z.astype(np.float64) + (0.0 if bias is None else np.asarray(bias, dtype=np.float64))
    return activation_forward(v, activation, negative_slope).astype(z.dtype)


def bias_activation_backward(grad_out, z, bias, activation, negative_slope=0.01):
    """(grad_z, grad_bias): grad_out * act'(z + bias) and its column sums, in z's dtype."""
    z = np.asarray(z)
    v = z.astype(np.float64) + (0.0 if bias is None else np.asarray(bias, dtype=np.float64))
    grad_z = np.asarray(grad_out, dtype=np.float64) * activation_derivative(
        v, activation, negative_slope)
    return grad_z.astype(z.dtype), grad_z.sum(axis=0).astype(z.dtype)


def mlp_forward_backward(weights, biases, X, grad_output, activation, negative_slope=0.01):
    """An MLP (activation after every layer but the last) in float64: returns
    (output, [d weight], [d bias], d X) for the upstream gradient `grad_output`."""
    a = np.asarray(X, dtype=np.float64)
    inputs, pre = [], []
    for k, (w, b) in enumerate(zip(weights, biases)):
        inputs.append(a)
        z = a @ np.asarray(w, dtype=np.float64).T + np.asarray(b, dtype=np.float64)
        pre.append(z)
        last = k == len(weights) - 1
        a = z if last else activation_forward(z, activation, negative_slope)
    output = a
    g = np.asarray(grad_output, dtype=np.float64)
    d_weights, d_biases = [None] * len(weights), [None] * len(weights)
    for k in reversed(range(len(weights))):
        if k != len(weights) - 1:
            g = g * activation_derivative(pre[k], activation, negative_slope)
        d_weights[k] = g.T @ inputs[k]
        d_biases[k] = g.sum(axis=0)
        g = g @ np.asarray(weights[k], dtype=np.float64)
    return output, d_weights, d_biases, g
