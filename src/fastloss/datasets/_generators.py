"""Seeded toy problems: two moons, k-arm spirals, Gaussian blobs, noisy linear regression.

Every generator draws from ``numpy.random.default_rng(seed)`` in float64 and casts once
at the end, so float32 data is the float64 data rounded, and a seed gives the same
points on every platform and NumPy version that keeps the PCG64 stream.
"""
import numbers

import numpy as np

from .._validation import check_flag, check_real
from ._common import check_count, check_dtype, rng_from, split_evenly

__all__ = ["make_moons", "make_spirals", "make_blobs", "make_regression"]


def _labelled(parts, rng, shuffle, dtype):
    """Stack per-class point arrays into (X, y), shuffled with `rng` if asked."""
    X = np.concatenate(parts)
    y = np.concatenate([np.full(len(p), k, dtype=np.int64) for k, p in enumerate(parts)])
    if shuffle:
        order = rng.permutation(len(y))
        X, y = X[order], y[order]
    return np.ascontiguousarray(X, dtype=dtype), y


def make_moons(n_samples=100, noise=0.0, seed=0, *, shuffle=True, dtype=np.float64):
    """Two interleaving half circles, a classic non-linearly-separable problem.

    Class 0 is the upper half of the unit circle, ``(cos t, sin t)`` for t in [0, pi];
    class 1 the lower half shifted right and up, ``(1 - cos t, 0.5 - sin t)``; the
    points are evenly spaced in t (class 0 gets the extra point when `n_samples` is
    odd), then Gaussian noise of standard deviation `noise` is added to each coordinate.

    Parameters
    ----------
    n_samples : int, default 100
        Total number of points, >= 2.
    noise : float, default 0.0
        Standard deviation of the Gaussian noise, >= 0.
    seed : int, numpy.random.Generator or None, default 0
        Seed of the noise and the shuffle; None draws fresh entropy (not reproducible).
    shuffle : bool, default True
        Shuffle the points; False keeps class 0 first, each class in order of t.
    dtype : float32 or float64, default float64
        Dtype of X.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    y : int64 ndarray of shape (n_samples,)
        Labels 0 and 1.

    Examples
    --------
    >>> from fastloss.datasets import make_moons
    >>> X, y = make_moons(6, shuffle=False)
    >>> X.round(3).tolist()[:3], y.tolist()
    ([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]], [0, 0, 0, 1, 1, 1])
    """
    n_samples = check_count("n_samples", n_samples, minimum=2)
    noise = check_real("noise", noise, low=0.0)
    shuffle = check_flag("shuffle", shuffle)
    dtype = check_dtype(dtype)
    rng = rng_from(seed)
    n_outer, n_inner = split_evenly(n_samples, 2)
    t_outer = np.linspace(0.0, np.pi, n_outer)
    t_inner = np.linspace(0.0, np.pi, n_inner)
    outer = np.column_stack([np.cos(t_outer), np.sin(t_outer)])
    inner = np.column_stack([1.0 - np.cos(t_inner), 0.5 - np.sin(t_inner)])
    parts = [outer + noise * rng.standard_normal(outer.shape),
             inner + noise * rng.standard_normal(inner.shape)]
    return _labelled(parts, rng, shuffle, dtype)


def make_spirals(n_samples=300, arms=2, noise=0.0, seed=0, *, turns=1.0, shuffle=True,
                 dtype=np.float64):
    """Interleaved spirals, one class per arm (the classic two-spiral problem by default).

    Arm k holds points at radius r evenly spaced in [0.1, 1] and angle
    ``2 pi (turns * r + k / arms)``: ``r (cos angle, sin angle)``, plus Gaussian noise of
    standard deviation `noise` on each coordinate. The arms are rotations of each other,
    so a classifier has to follow the curls; `turns` sets how many.

    Parameters
    ----------
    n_samples : int, default 300
        Total number of points, >= `arms`; split as evenly as possible, the first arms
        taking one point more.
    arms : int, default 2
        Number of arms (= classes), >= 2.
    noise : float, default 0.0
        Standard deviation of the Gaussian noise, >= 0 (the spiral has radius 1).
    seed : int, numpy.random.Generator or None, default 0
        Seed of the noise and the shuffle; None draws fresh entropy.
    turns : float, default 1.0
        Number of full turns each arm makes, > 0.
    shuffle : bool, default True
    dtype : float32 or float64, default float64

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    y : int64 ndarray of shape (n_samples,)
        Labels 0..arms-1.

    Examples
    --------
    >>> from fastloss.datasets import make_spirals
    >>> X, y = make_spirals(300, arms=3, noise=0.05, seed=1)
    >>> X.shape, sorted(set(y.tolist())), bool(abs(X).max() < 1.5)
    ((300, 2), [0, 1, 2], True)
    """
    n_samples = check_count("n_samples", n_samples, minimum=1)
    arms = check_count("arms", arms, minimum=2)
    if n_samples < arms:
        raise ValueError(f"n_samples must be >= arms ({arms}) to give every arm a point, "
                         f"got {n_samples}")
    noise = check_real("noise", noise, low=0.0)
    turns = check_real("turns", turns, low=0.0)
    if turns == 0:
        raise ValueError("turns must be > 0, got 0")
    shuffle = check_flag("shuffle", shuffle)
    dtype = check_dtype(dtype)
    rng = rng_from(seed)
    parts = []
    for arm, size in enumerate(split_evenly(n_samples, arms)):
        r = np.linspace(0.1, 1.0, size)
        angle = 2.0 * np.pi * (turns * r + arm / arms)
        points = r[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
        parts.append(points + noise * rng.standard_normal(points.shape))
    return _labelled(parts, rng, shuffle, dtype)


def _blob_centers(centers, n_features, center_box, rng):
    if isinstance(centers, numbers.Integral) and not isinstance(centers, (bool, np.bool_)):
        n_centers = check_count("centers", centers)
        n_features = 2 if n_features is None else check_count("n_features", n_features)
        low, high = _check_box(center_box)
        return rng.uniform(low, high, size=(n_centers, n_features))
    given = np.asarray(centers)
    if given.dtype.kind not in "fiu":
        raise TypeError(f"centers must be an int or a 2-D array of floats, got {centers!r}")
    if given.ndim != 2 or given.shape[0] == 0 or given.shape[1] == 0:
        raise ValueError(f"centers as an array must have shape (n_centers, n_features), "
                         f"got shape {given.shape}")
    if n_features is not None and n_features != given.shape[1]:
        raise ValueError(f"n_features={n_features!r} disagrees with centers of shape "
                         f"{given.shape}")
    if not np.isfinite(given).all():
        raise ValueError("centers must be finite")
    return given.astype(np.float64)


def _check_box(center_box):
    try:
        low, high = (float(v) for v in center_box)
    except (TypeError, ValueError):
        raise TypeError(f"center_box must be a pair (low, high), got {center_box!r}") from None
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"center_box must be finite with low < high, got {center_box!r}")
    return low, high


def make_blobs(n_samples=100, centers=3, std=1.0, seed=0, *, n_features=None,
               center_box=(-10.0, 10.0), shuffle=True, dtype=np.float64):
    """Isotropic Gaussian clusters, one class per center.

    Parameters
    ----------
    n_samples : int, default 100
        Total number of points, >= the number of centers; split as evenly as possible.
    centers : int or array-like of shape (n_centers, n_features), default 3
        Either how many centers to draw uniformly from `center_box` in every
        coordinate, or the centers themselves.
    std : float or array-like of shape (n_centers,), default 1.0
        Standard deviation of each cluster (one value for all, or one per center), >= 0.
    seed : int, numpy.random.Generator or None, default 0
        Seed of the centers, the points and the shuffle; None draws fresh entropy.
    n_features : int, optional
        Dimension of the points when `centers` is a count (default 2); when `centers`
        is an array it must agree with it.
    center_box : (float, float), default (-10, 10)
        Bounds of the random centers.
    shuffle : bool, default True
    dtype : float32 or float64, default float64

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : int64 ndarray of shape (n_samples,)
        Label k for the points drawn around center k.

    Examples
    --------
    >>> from fastloss.datasets import make_blobs
    >>> X, y = make_blobs(3000, centers=[[0.0, 0.0], [5.0, 5.0]], std=0.5, seed=0)
    >>> X[y == 1].mean(axis=0).round(1).tolist(), round(float(X[y == 0].std()), 1)
    ([5.0, 5.0], 0.5)
    """
    n_samples = check_count("n_samples", n_samples)
    shuffle = check_flag("shuffle", shuffle)
    dtype = check_dtype(dtype)
    rng = rng_from(seed)
    center_points = _blob_centers(centers, n_features, center_box, rng)
    n_centers = center_points.shape[0]
    if n_samples < n_centers:
        raise ValueError(f"n_samples must be >= the number of centers ({n_centers}), "
                         f"got {n_samples}")
    if np.ndim(std) == 0:
        stds = [check_real("std", std, low=0.0)] * n_centers
    else:
        stds = list(std)
        if len(stds) != n_centers:
            raise ValueError(f"std must be a scalar or have one entry per center "
                             f"({n_centers}), got {len(stds)} entries")
        stds = [check_real(f"std[{k}]", s, low=0.0) for k, s in enumerate(stds)]
    parts = [c + s * rng.standard_normal((size, c.shape[0]))
             for c, s, size in zip(center_points, stds, split_evenly(n_samples, n_centers))]
    return _labelled(parts, rng, shuffle, dtype)


def make_regression(n_samples=100, n_features=2, noise=0.0, seed=0, *, bias=0.0,
                    dtype=np.float64):
    """A noisy linear problem ``y = X @ coef + bias + noise * e`` with known coefficients.

    X and e are standard normal, coef is standard normal too (drawn first), so the
    least-squares solution approaches `coef` as `n_samples` grows.

    Parameters
    ----------
    n_samples : int, default 100
    n_features : int, default 2
    noise : float, default 0.0
        Standard deviation of the additive Gaussian noise, >= 0.
    seed : int, numpy.random.Generator or None, default 0
    bias : float, default 0.0
        The intercept.
    dtype : float32 or float64, default float64
        Dtype of X, y and coef.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    coef : ndarray of shape (n_features,)
        The true coefficients.

    Examples
    --------
    >>> import numpy as np
    >>> from fastloss.datasets import make_regression
    >>> X, y, coef = make_regression(50, 3, noise=0.0, seed=0, bias=2.0)
    >>> bool(np.allclose(X @ coef + 2.0, y))
    True
    """
    n_samples = check_count("n_samples", n_samples)
    n_features = check_count("n_features", n_features)
    noise = check_real("noise", noise, low=0.0)
    bias = check_real("bias", bias)
    dtype = check_dtype(dtype)
    rng = rng_from(seed)
    coef = rng.standard_normal(n_features)
    X = rng.standard_normal((n_samples, n_features))
    y = X @ coef + bias + noise * rng.standard_normal(n_samples)
    return X.astype(dtype), y.astype(dtype), coef.astype(dtype)
