"""Multiclass margin (hinge) loss with fused forward+backward."""
import numbers

import numpy as np

from . import _kernels
from ._config import resolve_threads
from ._validation import (as_class_rows, as_labels, check_flag, check_real, check_reduction,
                          check_weight, class_weights, row_outputs, row_results)

__all__ = ["MultiMarginLoss", "multi_margin_loss"]


def _check_p(p):
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, numbers.Integral) or p not in (1, 2):
        raise ValueError(f"p must be 1 or 2, got {p!r}")
    return int(p)


def _multi_margin(input, target, p, margin, weight, reduction, normalize, n_threads,
                  want_grad, out):
    """Validate once, call one kernel. Returns (value, grad or None)."""
    nt = resolve_threads(n_threads)
    x, rows, one_row = as_class_rows(input)
    n_rows, n_classes = rows.shape
    if weight is not None:
        class_weights(weight, n_classes)  # checks the length
    labels = as_labels(target, n_rows, one_row)
    row_loss, grad = row_outputs(x, rows, reduction, want_grad, out, [rows, labels, weight])
    value = _kernels.multi_margin(rows, labels, weight, p, margin, normalize,
                                  _kernels.REDUCTION_CODES[reduction], row_loss, grad, nt)
    return row_results(value, row_loss, grad, x, one_row, out)


_FORMULA = """
    Per sample i with label y = y_i, C classes, class weights w (all ones when `weight`
    is None) and z_j = margin - x[i, y] + x[i, j]:

    .. math:: \\ell_i = \\frac{w_y}{D} \\sum_{j \\ne y} \\max(0, z_j)^p

    with D = C (``normalize=True``, PyTorch's ``MultiMarginLoss``) or D = 1
    (``normalize=False``: the Weston-Watkins / CS231n multiclass SVM loss). The weight
    multiplies the sample's terms after the power, as in PyTorch. "mean" divides
    ``sum_i l_i`` by N, the number of samples (weights never enter the divisor); "sum"
    returns the sum; "none" the per-sample losses (a scalar for 1-D input). With no
    samples "mean" is NaN and "sum" is 0.

    Gradient: ``d l_i / d x[i, j] = w_y / D * p * z_j^(p-1)`` for j != y where
    ``z_j > 0``, and ``d l_i / d x[i, y]`` is minus the sum of those. At the kink
    ``z_j == 0`` the term contributes no slope (the subgradient PyTorch uses).

    NaN in a row makes that row's loss and gradient NaN (PyTorch drops a NaN term,
    giving 0). An entry x[i, j] = -inf (j != y) is never active; x[i, y] = -inf or
    x[i, j] = +inf gives an infinite loss with a finite gradient for p = 1.
"""


class MultiMarginLoss:
    __doc__ = f"""Multiclass margin (hinge) loss on scores, with fused forward+backward.

    Matches ``torch.nn.MultiMarginLoss(p, margin, weight, reduction)``; with
    ``normalize=False`` it is the multiclass SVM loss of Weston-Watkins (CS231n).

    Parameters
    ----------
    p : {{1, 2}}, default 1
        1 for the hinge, 2 for the squared hinge. Anything else raises ValueError.
    margin : float, default 1.0
        Any finite value.
    weight : array_like, shape (C,), optional
        Non-negative, finite class weights; w[y_i] scales sample i.
    reduction : {{"mean", "sum", "none"}}, default "mean"
    normalize : bool, default True
        Divide each sample's sum by C, as PyTorch does; False gives the plain sum.
    n_threads : int, optional
        Threads per call; default `fastloss.get_num_threads()`. Value and gradient are
        bitwise identical for every thread count.

    Call ``loss(input, target)`` for the value, ``loss.value_and_grad(input, target,
    out=None)`` for ``(value, d value / d input)`` from one pass, and
    ``loss.grad(...)`` for the gradient alone.

    input is (N, C) or (C,) (one sample), float32 or float64 (kept), other lossless
    types converted; target holds int32/int64 labels of shape (N,) (a scalar for 1-D
    input). A label outside [0, C) raises ValueError naming its row.

    Notes
    -----
    {_FORMULA}
    Losses accumulate in float64 for both dtypes; the hinge arguments are formed in
    float64 too.

    Examples
    --------
    The CS231n example: scores -96.8 for the true class, 437.9 and 61.95 for the
    others, margin 1:

    >>> import numpy as np, fastloss
    >>> scores = np.array([[-96.8, 437.9, 61.95]])
    >>> svm = fastloss.MultiMarginLoss(normalize=False, reduction="sum")
    >>> round(float(svm(scores, np.array([0]))), 2)
    695.45
    >>> value, grad = svm.value_and_grad(scores, np.array([0]))
    >>> grad
    array([[-2.,  1.,  1.]])
    >>> round(float(fastloss.MultiMarginLoss()(scores, np.array([0]))), 4)  # / C
    231.8167
    """

    def __init__(self, p=1, margin=1.0, weight=None, reduction="mean", normalize=True, *,
                 n_threads=None):
        self.p = _check_p(p)
        self.margin = check_real("margin", margin)
        self.weight = check_weight(weight)
        self.reduction = check_reduction(reduction)
        self.normalize = check_flag("normalize", normalize)
        if n_threads is not None:
            resolve_threads(n_threads)
        self.n_threads = n_threads

    def _run(self, input, target, want_grad, out):
        return _multi_margin(input, target, self.p, self.margin, self.weight, self.reduction,
                             self.normalize, self.n_threads, want_grad, out)

    def __call__(self, input, target):
        """The loss value (a scalar for "mean"/"sum", per-sample losses for "none")."""
        return self._run(input, target, False, None)[0]

    def value_and_grad(self, input, target, out=None):
        """``(value, grad)`` from one fused pass; `grad` is d(value)/d(input), written into
        `out` when given (same shape and dtype as `input`, C-contiguous, writeable, not
        overlapping `input`). For reduction="none", row i of `grad` is the gradient of
        sample i's own loss."""
        return self._run(input, target, True, out)

    def grad(self, input, target, out=None):
        """d(value)/d(input) alone (same pass as `value_and_grad`)."""
        return self._run(input, target, True, out)[1]

    def __repr__(self):
        weight = None if self.weight is None else f"array(shape={self.weight.shape})"
        return (f"MultiMarginLoss(p={self.p}, margin={self.margin}, weight={weight}, "
                f"reduction={self.reduction!r}, normalize={self.normalize})")


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, reduction="mean",
                      normalize=True, *, n_threads=None):
    return _multi_margin(input, target, _check_p(p), check_real("margin", margin),
                         check_weight(weight), check_reduction(reduction),
                         check_flag("normalize", normalize), n_threads, False, None)[0]


multi_margin_loss.__doc__ = f"""Multiclass margin loss, the value only.

    The functional form of `MultiMarginLoss` (same options, same result), as
    ``torch.nn.functional.multi_margin_loss``.

    Parameters
    ----------
    input : array_like, shape (N, C) or (C,)
    target : array_like of int, shape (N,) or scalar
    p, margin, weight, reduction, normalize, n_threads
        As in `MultiMarginLoss`.

    Returns
    -------
    scalar or ndarray
        A NumPy scalar of the input's dtype ("mean", "sum"), or per-sample losses of
        shape (N,) ("none").

    Notes
    -----
    {_FORMULA}
    Examples
    --------
    >>> import numpy as np, fastloss
    >>> x = np.array([[0.1, 0.2, 0.4, 0.8]])
    >>> round(float(fastloss.multi_margin_loss(x, np.array([3]))), 12)  # (0.3+0.4+0.6)/4
    0.325
    """
