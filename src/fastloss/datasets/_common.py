"""Argument checks and the result type shared by the dataset generators and loaders."""
import numbers
from dataclasses import dataclass, field

import numpy as np


@dataclass(eq=False)
class Dataset:
    """Features, targets and what they mean.

    Unpacks as ``X, y = dataset``; the other fields are there for labels and plots.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
        int64 class labels ``0..n_classes-1`` for classification, floats for regression.
    feature_names : list of str
    target_names : list of str or None
        The class of label ``k`` is ``target_names[k]``; None for regression.
    description : str
    coef : ndarray of shape (n_features,) or None
        The true coefficients of a generated regression problem.
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: list = field(default_factory=list)
    target_names: list = None
    description: str = ""
    coef: np.ndarray = None

    def __iter__(self):
        return iter((self.X, self.y))

    def __repr__(self):
        classes = "" if self.target_names is None else f", classes={self.target_names}"
        return (f"Dataset(X: {self.X.shape} {self.X.dtype.name}, "
                f"y: {self.y.shape} {self.y.dtype.name}{classes})")


def check_dtype(dtype):
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be float32 or float64, got {dtype!r}") from None
    if dt not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dtype!r}")
    return dt


def check_count(name, value, minimum=1):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


def rng_from(seed):
    """A Generator from an int seed, an existing Generator, or None (fresh entropy)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (isinstance(seed, (bool, np.bool_))
                             or not isinstance(seed, numbers.Integral)):
        raise TypeError(f"seed must be an int, a numpy.random.Generator or None, got {seed!r}")
    if seed is not None and seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed!r}")
    return np.random.default_rng(seed)


def split_evenly(n_samples, n_groups):
    """Group sizes that differ by at most one, the larger ones first."""
    base, extra = divmod(n_samples, n_groups)
    return [base + (k < extra) for k in range(n_groups)]
