"""Seeded train/test split, optionally stratified by class."""
import math
import numbers

import numpy as np

from .._validation import check_flag
from ._common import rng_from

__all__ = ["train_test_split"]


def _test_count(test_size, n_samples):
    if isinstance(test_size, (bool, np.bool_)) or not isinstance(test_size, numbers.Real):
        raise TypeError(f"test_size must be a fraction in (0, 1) or a count, got {test_size!r}")
    if isinstance(test_size, numbers.Integral):
        n_test = int(test_size)
    elif 0.0 < test_size < 1.0:
        n_test = math.ceil(test_size * n_samples)
    else:
        raise ValueError(f"test_size as a fraction must be in (0, 1), got {test_size!r}")
    if not 1 <= n_test <= n_samples - 1:
        raise ValueError(f"test_size={test_size!r} leaves {n_test} of {n_samples} samples "
                         f"for testing; both sets need at least one")
    return n_test


def _stratified_test_rows(classes, n_test, rng):
    """Test rows with each class's share of n_test, rounded by largest remainder."""
    counts = np.bincount(classes)
    ideal = counts * (n_test / classes.size)
    shares = np.floor(ideal).astype(np.int64)
    # stable: equal remainders favour the lower class index on every platform
    by_remainder = np.argsort(-(ideal - shares), kind="stable")
    shares[by_remainder[:n_test - shares.sum()]] += 1
    rows = [rng.choice(np.flatnonzero(classes == c), size=k, replace=False)
            for c, k in enumerate(shares)]
    return np.concatenate(rows)


def train_test_split(X, y, test_size=0.25, seed=None, stratify=False):
    """Split samples into a random training set and a test set.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
    y : array-like of shape (n_samples,)
    test_size : float in (0, 1) or int, default 0.25
        Fraction of the samples for testing (rounded up), or their number. Both sets
        must get at least one sample.
    seed : int, numpy.random.Generator or None, default None
        Seed of the shuffle; None draws fresh entropy (a different split every call).
    stratify : bool, default False
        Keep each class's proportion of `y` in both sets: class c gets its share of the
        test rows, rounded so that the shares add up to the test size (largest
        remainders first).

    Returns
    -------
    X_train, X_test, y_train, y_test : ndarray
        Rows of X and y in a random order, dtypes kept.

    Raises
    ------
    ValueError
        If X and y have different lengths or `test_size` leaves a set empty.

    Examples
    --------
    >>> import numpy as np
    >>> from fastloss.datasets import train_test_split
    >>> X = np.arange(20.0).reshape(10, 2)
    >>> y = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, 0.4, seed=0, stratify=True)
    >>> X_train.shape, X_test.shape, sorted(y_test.tolist())
    ((6, 2), (4, 2), [0, 0, 1, 1])
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim == 0:
        raise ValueError("X must have one row per sample, got a scalar")
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D (n_samples,), got shape {y.shape}")
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X and y must have the same number of samples, got "
                         f"{X.shape[0]} and {y.shape[0]}")
    stratify = check_flag("stratify", stratify)
    n_test = _test_count(test_size, y.shape[0])
    rng = rng_from(seed)
    if stratify:
        _, classes = np.unique(y, return_inverse=True)
        test = _stratified_test_rows(classes.reshape(-1), n_test, rng)
        is_test = np.zeros(y.shape[0], dtype=bool)
        is_test[test] = True
        train = rng.permutation(np.flatnonzero(~is_test))
        test = rng.permutation(test)
    else:
        order = rng.permutation(y.shape[0])
        test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]
