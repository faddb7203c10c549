"""softmax, log_softmax and logsumexp along one axis, stable for any finite logits."""
import numpy as np

from . import _kernels
from ._config import resolve_threads
from ._validation import as_float_array, check_out

__all__ = ["softmax", "log_softmax", "logsumexp"]

_SOFTMAX, _LOG_SOFTMAX, _LOGSUMEXP = 0, 1, 2


def _with_axis_last(name, x, axis):
    """(array converted as the kernels need it, normalized axis, array with axis last)."""
    a = as_float_array(name, x)
    if a.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension, got a scalar")
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"axis must be an integer, got {axis!r}")
    if not -a.ndim <= axis < a.ndim:
        raise ValueError(f"axis {axis} is out of bounds for {name} of shape {a.shape}")
    axis = int(axis) % a.ndim
    # Another axis than the last costs one transposing copy.
    last = a if axis == a.ndim - 1 else np.ascontiguousarray(np.moveaxis(a, axis, -1))
    return a, axis, last


def _same_shape(what, x, axis, out, n_threads):
    nt = resolve_threads(n_threads)
    a, axis, src = _with_axis_last("x", x, axis)
    if out is not None:
        check_out(out, a.shape, a.dtype, [a])
    axis_is_last = src is a
    dst = out if (axis_is_last and out is not None) else np.empty_like(src)
    if src.size:
        _kernels.softmax_rows(what, src.reshape(-1, src.shape[-1]), dst.reshape(-1), nt)
    if axis_is_last:
        return dst
    result = np.moveaxis(dst, -1, axis)
    if out is None:
        return result
    out[...] = result
    return out


def softmax(x, axis=-1, *, out=None, n_threads=None):
    """Softmax along `axis`: ``exp(x - logsumexp(x))``.

    .. math:: \\mathrm{softmax}(x)_j = \\frac{e^{x_j - m}}{\\sum_k e^{x_k - m}},
              \\quad m = \\max_k x_k

    Parameters
    ----------
    x : array_like, any shape with at least one dimension
        Logits. float32 stays float32, float64 stays float64; float16 and integers of
        at most 32 bits are converted (to float32, float64); other dtypes raise
        TypeError.
    axis : int, default -1
        The axis to normalize. The last axis is read in place; another axis costs one
        transposing copy.
    out : ndarray, optional
        Where to write the result: same shape and dtype as the (converted) input,
        C-contiguous, writeable, not overlapping `x`.
    n_threads : int, optional
        Threads to use; default `fastloss.get_num_threads()`. The result is bitwise the
        same for every thread count.

    Returns
    -------
    ndarray
        Same shape as `x`; each slice along `axis` sums to 1.

    Notes
    -----
    One pass over each row computes the max and the sum of exponentials together (an
    online softmax in cache-sized chunks), storing the exponentials; a second pass over
    the row, still in cache, rescales them.

    Infinite and NaN entries get the mathematical limit: a slice with k entries equal
    to +inf gives each of them 1/k and every other entry 0; -inf entries get 0; a slice
    that is all -inf, or holds a NaN, gives NaN throughout (no limit exists).

    Examples
    --------
    >>> import numpy as np, fastloss
    >>> fastloss.softmax(np.array([1.0, 2.0, 3.0])).round(4)
    array([0.09  , 0.2447, 0.6652])
    >>> fastloss.softmax(np.array([0.0, np.inf, np.inf]))
    array([0. , 0.5, 0.5])
    """
    return _same_shape(_SOFTMAX, x, axis, out, n_threads)


def log_softmax(x, axis=-1, *, out=None, n_threads=None):
    """Log-softmax along `axis`: ``x - logsumexp(x)``, without forming softmax.

    .. math:: \\log\\mathrm{softmax}(x)_j = x_j - m - \\log\\sum_k e^{x_k - m},
              \\quad m = \\max_k x_k

    Parameters
    ----------
    x : array_like, any shape with at least one dimension
        Logits (dtype rules as in `softmax`).
    axis : int, default -1
    out : ndarray, optional
        Same rules as in `softmax`.
    n_threads : int, optional

    Returns
    -------
    ndarray
        Same shape as `x`; every entry <= 0.

    Notes
    -----
    The logarithm of the sum is taken as ``log1p(sum - 1)`` when one entry dominates, so
    log-probabilities near 0 keep full relative accuracy. Limits for infinite entries as
    in `softmax`: with k entries at +inf those get ``-log k`` and the others ``-inf``;
    -inf entries get -inf; an all -inf slice or a NaN gives NaN.

    Examples
    --------
    >>> import numpy as np, fastloss
    >>> fastloss.log_softmax(np.array([1e30, 0.0, -1e30]))
    array([ 0.e+00, -1.e+30, -2.e+30])
    """
    return _same_shape(_LOG_SOFTMAX, x, axis, out, n_threads)


def logsumexp(x, axis=-1, *, keepdims=False, out=None, n_threads=None):
    """``log(sum(exp(x)))`` along `axis`, without overflow.

    .. math:: \\mathrm{lse}(x) = m + \\log\\sum_k e^{x_k - m}, \\quad m = \\max_k x_k

    Parameters
    ----------
    x : array_like, any shape with at least one dimension
        dtype rules as in `softmax`.
    axis : int, default -1
    keepdims : bool, default False
        Keep the reduced axis with length 1.
    out : ndarray, optional
        Receives the result (the reduced shape), same dtype as the converted input.
    n_threads : int, optional

    Returns
    -------
    ndarray or scalar
        The input's shape without `axis`; a NumPy scalar for 1-D input. An empty slice
        gives -inf; a slice with a +inf entry gives +inf; an all -inf slice or a NaN
        gives NaN.

    Examples
    --------
    >>> import numpy as np, fastloss
    >>> float(fastloss.logsumexp(np.array([1000.0, 1000.0])))  # 1000 + log 2
    1000.6931471805599
    """
    nt = resolve_threads(n_threads)
    a, axis, src = _with_axis_last("x", x, axis)
    lse = np.empty(src.shape[:-1], dtype=a.dtype)
    if src.shape[-1] == 0:
        lse.fill(-np.inf)
    elif lse.size:
        _kernels.softmax_rows(_LOGSUMEXP, src.reshape(-1, src.shape[-1]), lse.reshape(-1), nt)
    if keepdims:
        lse = np.expand_dims(lse, axis)
    if out is not None:
        check_out(out, lse.shape, a.dtype, [a])
        out[...] = lse
        return out
    return lse if lse.ndim else lse[()]
