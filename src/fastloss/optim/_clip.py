"""Gradient clipping over a list of arrays, as torch.nn.utils.clip_grad_norm_ and
clip_grad_value_: one C pass per dtype, the norm summed in fixed blocks."""
import math

import numpy as np

from .. import _kernels
from .._config import resolve_threads
from .._validation import check_real

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _tables(grads):
    """Per dtype present: (is_double, offsets, addresses) of the gradient list."""
    if isinstance(grads, np.ndarray):
        grads = [grads]
    arrays = grads if type(grads) is list else list(grads)

    def reject(i):
        g = arrays[i]
        if not isinstance(g, np.ndarray):
            raise TypeError(f"grads[{i}] must be a numpy.ndarray, got {type(g).__name__}")
        if g.dtype not in (np.float32, np.float64) or not g.dtype.isnative:
            raise TypeError(f"grads[{i}] must be float32 or float64, got {g.dtype}")
        if not g.flags.c_contiguous:
            raise ValueError(f"grads[{i}] must be C-contiguous")
        raise ValueError(f"grads[{i}] is read-only: clipping changes it in place")

    is_double, sizes, addresses = _kernels.scan_arrays(arrays, reject)
    tables = []
    for kind in (0, 1):
        pick = is_double == kind
        if pick.any():
            offsets = np.zeros(int(pick.sum()) + 1, dtype=np.intp)
            np.cumsum(sizes[pick], out=offsets[1:])
            tables.append((bool(kind), offsets, addresses[pick]))
    return tables


def clip_grad_norm_(grads, max_norm, norm_type=2.0, error_if_nonfinite=False, *,
                    n_threads=None):
    """Scale gradients in place so that their joint norm is at most `max_norm`.

    The total norm is the `norm_type`-norm of all entries of all arrays together
    (as if concatenated), computed in double over fixed blocks: bitwise the same for
    every thread count. Every gradient is then multiplied by
    ``min(1, max_norm / (total_norm + 1e-6))`` rounded to its dtype, as PyTorch does.

    Parameters
    ----------
    grads : list of ndarray (or one ndarray)
        float32/float64 C-contiguous writeable arrays, changed in place.
    max_norm : float
        The largest norm allowed, >= 0.
    norm_type : float, default 2.0
        p > 0, or ``inf`` for the largest absolute entry.
    error_if_nonfinite : bool, default False
        Raise RuntimeError when the norm is inf or NaN (the gradients are then left
        untouched). Otherwise a NaN norm makes every gradient NaN and an infinite one
        scales them by 0 (inf and NaN entries become NaN), as in PyTorch.
    n_threads : int, optional
        Threads per kernel call; default `fastloss.get_num_threads()`.

    Returns
    -------
    float
        The total norm before clipping (0.0 for no entries).

    Examples
    --------
    >>> import numpy as np
    >>> from fastloss.optim import clip_grad_norm_
    >>> g = [np.array([3.0]), np.array([[4.0]])]
    >>> clip_grad_norm_(g, max_norm=1.0)
    5.0
    >>> [a.round(6) for a in g]
    [array([0.6]), array([[0.8]])]
    """
    max_norm = check_real("max_norm", max_norm, low=0.0)
    if isinstance(norm_type, (bool, np.bool_)):
        raise TypeError(f"norm_type must be a float > 0 or inf, got {norm_type!r}")
    try:
        p = float(norm_type)
    except (TypeError, ValueError):
        raise TypeError(f"norm_type must be a float > 0 or inf, got {norm_type!r}") from None
    if not (p > 0.0):
        raise ValueError(f"norm_type must be > 0 or inf, got {norm_type!r}")
    nt = resolve_threads(n_threads)
    tables = _tables(grads)
    parts = [_kernels.grad_norm(d, off, addr, p, nt) for d, off, addr in tables]
    if math.isinf(p):
        total = max(parts, default=0.0)
        total = math.nan if any(math.isnan(x) for x in parts) else total
    else:
        total = math.fsum(parts) ** (1.0 / p)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"the total norm of order {p} of the gradients is {total}: "
                           f"clipping would make them NaN (error_if_nonfinite=True)")
    coef = min(max_norm / (total + 1e-6), 1.0) if not math.isnan(total) else math.nan
    for d, off, addr in tables:
        _kernels.grad_rewrite(False, d, off, addr, coef, nt)
    return total


def clip_grad_value_(grads, clip_value, *, n_threads=None):
    """Clamp every gradient entry to ``[-clip_value, clip_value]`` in place.

    NaN entries stay NaN, +-inf become +-clip_value (torch.clamp).

    Parameters
    ----------
    grads : list of ndarray (or one ndarray)
        float32/float64 C-contiguous writeable arrays, changed in place.
    clip_value : float
        The bound, >= 0 (rounded to each array's dtype).
    n_threads : int, optional
        Threads per kernel call; default `fastloss.get_num_threads()`.

    Examples
    --------
    >>> import numpy as np
    >>> from fastloss.optim import clip_grad_value_
    >>> g = [np.array([-3.0, 0.5, np.nan])]
    >>> clip_grad_value_(g, 1.0); g
    [array([-1. ,  0.5,  nan])]
    """
    clip_value = check_real("clip_value", clip_value, low=0.0)
    nt = resolve_threads(n_threads)
    for d, off, addr in _tables(grads):
        _kernels.grad_rewrite(True, d, off, addr, clip_value, nt)
