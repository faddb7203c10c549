"""Validation shared by the landscape functions: parameter vectors and axes."""
import numbers

import numpy as np


def as_parameter_vector(name, x, size=None, dtype=None):
    """`x` as a 1-D finite float array (float32 and float64 kept, integers to float64),
    of `size` entries and cast to `dtype` when given."""
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and such
        raise TypeError(f"{name} must be a 1-D array of floats, got {type(x).__name__}: "
                        f"{exc}") from None
    if arr.dtype.kind in "iub":
        arr = arr.astype(np.float64)
    elif arr.dtype.kind != "f":
        raise TypeError(f"{name} must be a 1-D array of floats, got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one entry per parameter), got shape "
                         f"{arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty: it must hold at least one parameter")
    if size is not None and arr.size != size:
        raise ValueError(f"{name} has {arr.size} entries but theta has {size}: a direction "
                         f"must have one entry per parameter")
    bad = ~np.isfinite(arr)
    if bad.any():
        where = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name} must be finite, got {arr[where]} at index {where} "
                         f"({int(bad.sum())} non-finite entries)")
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    return np.ascontiguousarray(arr)


def as_axis(name, x):
    """A grid axis: 1-D, non-empty, finite, as float64."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a 1-D array of numbers, got dtype {arr.dtype}")
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty: the grid needs at least one point on each axis")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite, got {arr[~np.isfinite(arr)][0]}")
    return arr


def check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)
