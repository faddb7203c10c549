"""Twins of the cluster kernels: all distances in float64 by broadcasting."""
import numpy as np

__all__ = ["wcss", "wcss_value_and_grad", "kmeans_step"]


def _assign(X, centroids):
    """(x, c, labels, distances) in float64: the nearest centroid by np.argmin (the
    first minimum: ties to the lowest index), -1 and NaN for points with a NaN."""
    x = np.asarray(X, dtype=np.float64)
    c = np.asarray(centroids, dtype=np.float64)
    all_d = ((x[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
    nan_point = np.isnan(all_d).any(axis=1)
    labels = np.argmin(np.where(np.isnan(all_d), np.inf, all_d), axis=1)
    labels[nan_point] = -1
    distances = np.where(nan_point, np.nan, all_d[np.arange(len(x)), np.maximum(labels, 0)])
    return x, c, labels, distances


def _weights(sample_weight, n):
    return np.ones(n) if sample_weight is None else np.asarray(sample_weight, np.float64)


def _weighted_total(w, distances):
    """sum_i w_i d_i, where a zero weight removes its point even at d = inf."""
    terms = np.where((w == 0) & ~np.isnan(distances), 0.0, w * distances)
    return float(np.sum(terms))


def wcss(X, centroids, sample_weight=None):
    """(value, labels, distances): sum_i w_i min_k ||x_i - c_k||^2 (float64 value),
    labels int64, distances in X's dtype."""
    x, c, labels, distances = _assign(X, centroids)
    value = _weighted_total(_weights(sample_weight, len(x)), distances)
    return value, labels.astype(np.int64), distances.astype(np.asarray(X).dtype)


def wcss_value_and_grad(X, centroids, sample_weight=None, reduction="sum"):
    """(value, d value / d centroids, d value / d X) with the labels held fixed."""
    x, c, labels, distances = _assign(X, centroids)
    w = _weights(sample_weight, len(x))
    scale = 1.0 if reduction == "sum" else (1.0 / w.sum() if w.sum() > 0 else np.nan)
    value = _weighted_total(w, distances) * scale
    grad_x = np.full_like(x, np.nan)
    grad_c = np.zeros_like(c)
    for i, k in enumerate(labels):
        if k < 0:
            continue
        grad_x[i] = 0.0 if w[i] == 0 else 2 * scale * w[i] * (x[i] - c[k])
        if w[i] != 0:
            grad_c[k] += 2 * scale * w[i] * (c[k] - x[i])
    dtype = np.asarray(X).dtype
    return value, grad_c.astype(dtype), grad_x.astype(dtype)


def kmeans_step(X, centroids, sample_weight=None):
    """(new centroids, labels, inertia, counts, weights): weighted means of the
    clusters of the old centroids; an empty cluster (no weight) keeps its centroid."""
    x, c, labels, distances = _assign(X, centroids)
    w = _weights(sample_weight, len(x))
    new_c = c.copy()
    counts = np.zeros(len(c), dtype=np.int64)
    weights = np.zeros(len(c))
    for k in range(len(c)):
        members = labels == k
        counts[k] = members.sum()
        weights[k] = w[members].sum()
        if weights[k] > 0:
            new_c[k] = (w[members, None] * x[members]).sum(axis=0) / weights[k]
    inertia = _weighted_total(w, distances)
    return new_c.astype(np.asarray(X).dtype), labels, inertia, counts, weights
