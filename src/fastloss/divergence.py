"""Kullback-Leibler divergence: PyTorch's KLDivLoss (fused forward+backward) and the
divergence of probability rows."""
import numpy as np

from . import _kernels
from ._config import resolve_threads
from ._validation import (as_float_array, as_rows, as_target, check_flag, check_out,
                          check_reduction)

__all__ = ["KLDivLoss", "kl_div", "kl_divergence"]

_KL_REDUCTIONS = ("batchmean", "mean", "sum", "none")


def _check_kl_reduction(reduction):
    if reduction not in _KL_REDUCTIONS:
        raise ValueError(f"reduction must be one of {_KL_REDUCTIONS}, got {reduction!r}")
    return reduction


def _kl_div(input, target, reduction, log_target, n_threads, want_grad, out):
    """Validate once, call one kernel. Returns (value, grad or None)."""
    nt = resolve_threads(n_threads)
    x = as_float_array("input", input)
    t = as_target(target, x)
    flat_x, flat_t = x.reshape(-1), t.reshape(-1)
    elem_loss = np.empty_like(flat_x) if reduction == "none" else None
    grad = None
    if want_grad:
        if out is None:
            grad = np.empty_like(flat_x)
        else:
            grad = check_out(out, x.shape, x.dtype, [x, t]).reshape(-1)
    # "batchmean" is the kernel's mean with divisor N
    code = _kernels.REDUCTION_CODES.get(reduction, _kernels.REDUCTION_MEAN)
    divisor = float(x.size) if reduction == "mean" else float(x.shape[0] if x.ndim else 1)
    try:
        value = _kernels.kl_div(flat_x, flat_t, log_target, code, divisor, elem_loss, grad, nt)
    except _kernels.DomainError as e:
        where = np.unravel_index(e.index, x.shape)
        raise ValueError(f"target must be >= 0 (probabilities; pass log_target=True for "
                         f"log-probabilities), got target[{', '.join(map(str, where))}] = "
                         f"{t[where].item()!r}") from None
    if elem_loss is not None:
        value = elem_loss.reshape(x.shape)
        value = value if value.ndim else value[()]
    else:
        value = x.dtype.type(value)
    if grad is not None:
        grad = out if out is not None else grad.reshape(x.shape)
    return value, grad


_KL_FORMULA = """
    Pointwise, with x = input (log-probabilities) and t = target:

    - ``log_target=False`` (t probabilities): ``l = t * (log t - x)``;
    - ``log_target=True`` (t log-probabilities): ``l = exp(t) * (t - x)``.

    Reductions: "none" gives l with the input's shape; "sum" its sum; "mean" the sum
    divided by the number of entries; "batchmean" the sum divided by N =
    ``input.shape[0]`` (1 for a 0-d input), the true KL divergence per sample when each
    row is a distribution. The default here is "batchmean", the mathematically right
    one (PyTorch's default is "mean"; pass it explicitly to match).

    Gradient with respect to the input: ``-t / divisor`` (``-exp(t) / divisor``), with
    divisor 1 for "sum" and "none" (entry i of the gradient is then that of l_i).

    Edge cases: where the target probability is 0 (t == 0, or t == -inf with
    ``log_target=True``) the term is exactly 0 and its gradient 0, whatever the input,
    so a -inf or NaN log-probability there does not matter (PyTorch gives NaN when
    x = -inf or NaN there). x = -inf under t > 0 gives +inf. A NaN target gives NaN. A
    negative target with ``log_target=False`` raises ValueError (PyTorch returns NaN);
    targets above 1 are accepted, as in PyTorch.
"""


class KLDivLoss:
    __doc__ = f"""Kullback-Leibler divergence loss on log-probabilities, as
    ``torch.nn.KLDivLoss``, with fused forward+backward.

    Parameters
    ----------
    reduction : {{"batchmean", "mean", "sum", "none"}}, default "batchmean"
    log_target : bool, default False
        Whether the target holds log-probabilities.
    n_threads : int, optional
        Threads per call; default `fastloss.get_num_threads()`. Value and gradient are
        bitwise identical for every thread count.

    Call ``loss(input, target)`` for the value, ``loss.value_and_grad(input, target,
    out=None)`` for ``(value, d value / d input)`` from one pass, ``loss.grad(...)``
    for the gradient alone. input may have any shape, target the same shape; float32
    stays float32, float64 stays float64; the target must convert to the input's
    dtype without loss.

    Notes
    -----
    {_KL_FORMULA}
    Sums accumulate in float64. The log of the target is a vectorized log in the
    input's dtype (within 1 ulp in both types); the difference and the
    product are formed in float64.

    Examples
    --------
    >>> import numpy as np, fastloss
    >>> target = np.array([[0.5, 0.5, 0.0], [0.25, 0.25, 0.5]])
    >>> logq = np.log(np.array([[0.25, 0.5, 0.25], [0.25, 0.25, 0.5]]))
    >>> value, grad = fastloss.KLDivLoss().value_and_grad(logq, target)
    >>> round(float(value), 12)  # (0.5 log 2 + 0) / 2
    0.17328679514
    >>> grad
    array([[-0.25 , -0.25 ,  0.   ],
           [-0.125, -0.125, -0.25 ]])
    """

    def __init__(self, reduction="batchmean", log_target=False, *, n_threads=None):
        self.reduction = _check_kl_reduction(reduction)
        self.log_target = check_flag("log_target", log_target)
        if n_threads is not None:
            resolve_threads(n_threads)
        self.n_threads = n_threads

    def _run(self, input, target, want_grad, out):
        return _kl_div(input, target, self.reduction, self.log_target, self.n_threads,
                       want_grad, out)

    def __call__(self, input, target):
        """The loss value (a scalar, or the pointwise losses for "none")."""
        return self._run(input, target, False, None)[0]

    def value_and_grad(self, input, target, out=None):
        """``(value, grad)`` from one fused pass; `grad` is d(value)/d(input), written into
        `out` when given (input's shape and dtype, C-contiguous, writeable, not
        overlapping `input` or `target`)."""
        return self._run(input, target, True, out)

    def grad(self, input, target, out=None):
        """d(value)/d(input) alone (same pass as `value_and_grad`)."""
        return self._run(input, target, True, out)[1]

    def __repr__(self):
        return f"KLDivLoss(reduction={self.reduction!r}, log_target={self.log_target})"


def kl_div(input, target, reduction="batchmean", log_target=False, *, n_threads=None):
    return _kl_div(input, target, _check_kl_reduction(reduction), check_flag("log_target", log_target),
                   n_threads, False, None)[0]


kl_div.__doc__ = f"""Pointwise KL divergence of log-probabilities, the value only.

    The functional form of `KLDivLoss` (same options, same result), as
    ``torch.nn.functional.kl_div`` but with reduction="batchmean" by default.

    Parameters
    ----------
    input : array_like
        Log-probabilities, any shape.
    target : array_like
        Probabilities (or log-probabilities with ``log_target=True``), input's shape.
    reduction, log_target, n_threads
        As in `KLDivLoss`.

    Notes
    -----
    {_KL_FORMULA}
    Examples
    --------
    >>> import numpy as np, fastloss
    >>> t = np.array([[0.5, 0.5]])
    >>> float(fastloss.kl_div(np.log(t), t))  # the same distribution
    0.0
    """


def kl_divergence(p, q, reduction="none", *, n_threads=None):
    """Kullback-Leibler divergence KL(p || q) of probability rows.

    .. math:: \\mathrm{{KL}}(p_i \\| q_i) = \\sum_j p_{{ij}} \\log \\frac{{p_{{ij}}}}{{q_{{ij}}}}

    Parameters
    ----------
    p, q : array_like, shape (N, C) or (C,)
        Probabilities, the same shape; q converts to p's dtype without loss. float32
        stays float32, float64 stays float64. Rows are taken as given: they are not
        renormalized (a row that does not sum to 1 gives the formula's value, which
        can then be negative).
    reduction : {"none", "sum", "mean"}, default "none"
        "none": one value per row, shape (N,) (a scalar for 1-D input); "sum" / "mean":
        over the rows.
    n_threads : int, optional
        Threads per call; the result is bitwise identical for every thread count.

    Returns
    -------
    scalar or ndarray

    Raises
    ------
    ValueError
        An entry of p or q outside [0, 1] (the message names the argument and the
        entry), or shapes that differ.

    Notes
    -----
    ``0 log(0 / q) = 0`` (including q = 0), ``p log(p / 0) = +inf`` for p > 0. NaN in
    a row gives NaN for it. Each term is ``p log(p / q)`` with the ratio formed first
    in float64 (no cancellation between two large logs of tiny probabilities): the
    absolute error is within a few float64 ulp of ``sum_j p_j (1 + |log(p_j /
    q_j)|)``, so the divergence of two nearly equal rows (a sum of terms that cancel)
    is accurate in absolute, not relative, terms. KL(p, p) is exactly 0.

    Examples
    --------
    >>> import numpy as np, fastloss
    >>> p = np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])
    >>> q = np.array([[0.25, 0.25, 0.5], [0.0, 0.5, 0.5]])
    >>> fastloss.kl_divergence(p, q)  # [log 2, inf]
    array([0.69314718,        inf])
    """
    nt = resolve_threads(n_threads)
    reduction = check_reduction(reduction)
    p_arr = as_float_array("p", p)
    if p_arr.ndim not in (1, 2):
        raise ValueError(f"p must be 1-D (C,) or 2-D (N, C), got shape {p_arr.shape}")
    q_arr = as_target(q, p_arr, name="q")
    p_rows, q_rows = as_rows("p", p_arr), as_rows("q", q_arr)
    row_kl = np.empty(p_rows.shape[0], dtype=p_rows.dtype) if reduction == "none" else None
    code = _kernels.REDUCTION_CODES[reduction]
    try:
        value = _kernels.kl_divergence(p_rows, q_rows, code, row_kl, nt)
    except _kernels.DomainError as e:
        name, arr = ("p", p_arr) if e.which == 0 else ("q", q_arr)
        where = np.unravel_index(e.index, arr.shape)
        raise ValueError(f"{name} must hold probabilities in [0, 1], got "
                         f"{name}[{', '.join(map(str, where))}] = {arr[where].item()!r}") from None
    if row_kl is not None:
        return row_kl[0] if p_arr.ndim == 1 else row_kl
    return p_rows.dtype.type(value)
