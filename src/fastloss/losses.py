"""Classification losses on logits and log-probabilities, with fused forward+backward."""
import numpy as np

from . import _kernels
from ._config import resolve_threads
from ._validation import (as_class_rows, as_labels, as_probabilities, check_ignore_index,
                          check_label_smoothing, check_reduction, check_weight, class_weights,
                          row_outputs, row_results)

__all__ = ["CrossEntropyLoss", "NLLLoss", "cross_entropy", "nll_loss"]


def _class_loss(nll, input, target, weight, ignore_index, reduction, label_smoothing,
                n_threads, want_grad, out):
    """Validate once, call one kernel. Returns (value, grad or None)."""
    nt = resolve_threads(n_threads)
    x, rows, one_row = as_class_rows(input)
    n_rows, n_classes = rows.shape
    w = class_weights(weight, n_classes)

    t = np.asarray(target)
    if t.dtype.kind == "f":
        target_array = as_probabilities(t, rows, x.shape)
    else:
        target_array = as_labels(t, n_rows, one_row)
    row_loss, grad = row_outputs(x, rows, reduction, want_grad, out, [rows, target_array, w])

    code = _kernels.REDUCTION_CODES[reduction]
    if t.dtype.kind == "f":
        value = _kernels.class_loss_probs(nll, rows, target_array, w, label_smoothing, code,
                                          row_loss, grad, nt)
    else:
        value = _kernels.class_loss_labels(nll, rows, target_array, ignore_index, w,
                                           label_smoothing, code, row_loss, grad, nt)
    return row_results(value, row_loss, grad, x, one_row, out)


class _ClassLoss:
    _nll = False

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0,
                 *, n_threads=None):
        self.weight = check_weight(weight)
        self.ignore_index = check_ignore_index(ignore_index)
        self.reduction = check_reduction(reduction)
        self.label_smoothing = check_label_smoothing(label_smoothing)
        if n_threads is not None:
            resolve_threads(n_threads)
        self.n_threads = n_threads

    def _run(self, input, target, want_grad, out):
        return _class_loss(self._nll, input, target, self.weight, self.ignore_index,
                           self.reduction, self.label_smoothing, self.n_threads, want_grad,
                           out)

    def __call__(self, input, target):
        """The loss value (a scalar for "mean"/"sum", per-sample losses for "none")."""
        return self._run(input, target, False, None)[0]

    def value_and_grad(self, input, target, out=None):
        """``(value, grad)`` from one fused pass; `grad` is d(value)/d(input), written into
        `out` when given (same shape and dtype as `input`, C-contiguous, writeable, not
        overlapping `input` or `target`). For reduction="none", row i of `grad` is the
        gradient of sample i's own loss."""
        return self._run(input, target, True, out)

    def grad(self, input, target, out=None):
        """d(value)/d(input) alone (same pass as `value_and_grad`)."""
        return self._run(input, target, True, out)[1]

    def __repr__(self):
        weight = None if self.weight is None else f"array(shape={self.weight.shape})"
        return (f"{type(self).__name__}(weight={weight}, ignore_index={self.ignore_index}, "
                f"reduction={self.reduction!r}, label_smoothing={self.label_smoothing})")


_NORMALIZATION_TABLE = """
    Per-sample loss, with p = softmax(input) (for NLL, log p = input), C classes, class
    weights w (all ones when `weight` is None) and smoothing eps:

    - hard label y_i:
      ``l_i = (1 - eps) * w[y_i] * (-log p[i, y_i]) + eps / C * sum_j w[j] * (-log p[i, j])``,
      and ``l_i = 0`` where ``y_i == ignore_index``;
    - target distribution t_i (a float target of the input's shape; need not sum to 1):
      ``l_i = -sum_j w[j] * ((1 - eps) * t[i, j] + eps / C) * log p[i, j]``.

    Reduction, and what "mean" divides ``sum_i l_i`` by (as
    ``torch.nn.functional.cross_entropy``):

    ============== ========= ========= ==============================================
    target         weight    smoothing "mean" divisor
    ============== ========= ========= ==============================================
    labels         None      0         number of rows not ignored
    labels         None      eps > 0   number of rows not ignored (both terms)
    labels         w         0         ``sum of w[y_i]`` over rows not ignored
    labels         w         eps > 0   ``sum of w[y_i]`` over rows not ignored (the
                                       smoothing term too)
    probabilities  any       any       N (weights never enter the divisor;
                                       ignore_index does not apply)
    ============== ========= ========= ==============================================

    "sum" returns ``sum_i l_i``; "none" returns ``l`` of shape (N,) (a scalar for 1-D
    input). With no rows, or every row ignored, "mean" is NaN (0/0, as PyTorch), "sum"
    is 0, and the gradient is all zeros. The gradient is that of the returned value:
    ``(A_i * p[i] - b_i) / divisor`` for "mean", where b_i holds the weights of the
    terms of ``l_i`` above and ``A_i = sum_j b_i[j]``.
"""

_DTYPES = """
    input : array_like, shape (N, C) or (C,)
        float32 stays float32, float64 stays float64; float16 and integers of at most
        32 bits are converted; other dtypes raise TypeError. A 1-D input is one sample.
        Fortran-ordered or strided arrays are copied once to C order.
    target : array_like
        Class labels, int32 or int64 (smaller integer types are converted), shape (N,)
        (a scalar for 1-D input); or probabilities, a float array of the input's shape,
        whose dtype converts to the input's without loss. A label outside [0, C) that
        is not `ignore_index` raises ValueError naming the row and the label."""


class CrossEntropyLoss(_ClassLoss):
    __doc__ = f"""Softmax cross-entropy on logits, with fused forward+backward.

    Matches ``torch.nn.CrossEntropyLoss`` in every combination of options.

    .. math:: \\ell_i = -\\sum_j b_{{ij}} \\log \\mathrm{{softmax}}(x_i)_j

    Parameters
    ----------
    weight : array_like, shape (C,), optional
        Non-negative class weights.
    ignore_index : int, default -100
        Rows whose label equals it contribute no loss and no gradient.
    reduction : {{"mean", "sum", "none"}}, default "mean"
    label_smoothing : float in [0, 1], default 0
        Mixes the target with the uniform distribution over the C classes.
    n_threads : int, optional
        Threads per call; default `fastloss.get_num_threads()`. Value and gradient are
        bitwise identical for every thread count.

    Call ``loss(input, target)`` for the value, ``loss.value_and_grad(input, target,
    out=None)`` for ``(value, d value / d input)`` from one pass over the logits, and
    ``loss.grad(...)`` for the gradient alone.

    Notes
    -----
    {_NORMALIZATION_TABLE}
    Each row is read from memory once: the maximum and the sum of exponentials come
    from one online pass in cache-sized chunks that also stores the exponentials into
    the gradient buffer; a second pass over the row, still in cache, turns them into
    ``softmax - target``. Losses accumulate in float64 for both dtypes; in float32
    the exponentials are added four at a time in float32 before each float64 add
    (a relative error of at most 1.8e-7, on top of the exp's 2 ulp).

    Accuracy (tested): float64 losses and gradients within 1e-12 relative of an
    exact computation, including losses near 0 (the log of the sum is taken as
    ``log1p`` of the entries below the row max, summed apart from those equal to it).
    float32: "mean"/"sum" within 1e-6 relative; a per-sample loss within 1e-6
    relative plus about 6e-8 * |x_j - max| of rounding in ``x_j - max``, which shows
    only on per-sample losses below about 1e-6.

    Rows with infinite logits get the limit (see `fastloss.softmax`): the loss can be
    +inf while the gradient stays finite. A NaN logit makes its row's loss and gradient
    NaN. Where a term has zero weight (b_ij = 0) its -inf log-probability contributes 0,
    not NaN (PyTorch gives NaN there).

    Examples
    --------
    >>> import numpy as np, fastloss
    >>> logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]], dtype=np.float32)
    >>> labels = np.array([0, 2])
    >>> loss = fastloss.CrossEntropyLoss(label_smoothing=0.1)
    >>> value, grad = loss.value_and_grad(logits, labels)
    >>> round(float(value), 4), grad.dtype, grad.shape
    (0.3455, dtype('float32'), (2, 3))
    >>> np.allclose(grad.sum(axis=1), 0, atol=1e-7)
    True
    """
    _nll = False


class NLLLoss(_ClassLoss):
    __doc__ = f"""Negative log-likelihood on log-probabilities (e.g. `fastloss.log_softmax`).

    Matches ``torch.nn.NLLLoss`` (weight, ignore_index, reduction). Beyond PyTorch it
    also takes `label_smoothing` and probability targets, with the same meaning as in
    `CrossEntropyLoss`, so that ``nll_loss(log_softmax(x), t, **options) ==
    cross_entropy(x, t, **options)`` for every option.

    .. math:: \\ell_i = -\\sum_j b_{{ij}}\\, x_{{ij}}

    Parameters
    ----------
    weight, ignore_index, reduction, label_smoothing, n_threads
        As in `CrossEntropyLoss`.

    Notes
    -----
    {_NORMALIZATION_TABLE}
    The gradient does not depend on the input: ``-b_ij / divisor``. The input is not
    checked to be <= 0 (as PyTorch). Terms with b_ij = 0 are skipped, so a -inf or NaN
    log-probability there does not reach the loss.

    Examples
    --------
    >>> import numpy as np, fastloss
    >>> logp = fastloss.log_softmax(np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]]))
    >>> round(float(fastloss.NLLLoss()(logp, np.array([0, 2]))), 6)
    0.175456
    """
    _nll = True


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0, *, n_threads=None):
    return _class_loss(False, input, target, check_weight(weight),
                       check_ignore_index(ignore_index), check_reduction(reduction),
                       check_label_smoothing(label_smoothing), n_threads, False, None)[0]


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean",
             label_smoothing=0.0, *, n_threads=None):
    return _class_loss(True, input, target, check_weight(weight),
                       check_ignore_index(ignore_index), check_reduction(reduction),
                       check_label_smoothing(label_smoothing), n_threads, False, None)[0]


cross_entropy.__doc__ = f"""Softmax cross-entropy of logits, the value only.

    The functional form of `CrossEntropyLoss` (same options, same result); use the
    class's ``value_and_grad`` for the fused gradient.

    Parameters
    ----------
    {_DTYPES.strip()}
    weight, ignore_index, reduction, label_smoothing, n_threads
        As in `CrossEntropyLoss`.

    Returns
    -------
    scalar or ndarray
        A NumPy scalar of the input's dtype ("mean", "sum"), or per-sample losses of
        shape (N,) ("none").

    Notes
    -----
    {_NORMALIZATION_TABLE}
    Examples
    --------
    >>> import numpy as np, fastloss
    >>> x = np.zeros((4, 10))
    >>> float(fastloss.cross_entropy(x, np.array([1, 2, 3, 4])))  # log(10)
    2.302585092994046
    """

nll_loss.__doc__ = f"""Negative log-likelihood of log-probabilities, the value only.

    The functional form of `NLLLoss` (same options, same result).

    Parameters
    ----------
    {_DTYPES.strip()}
    weight, ignore_index, reduction, label_smoothing, n_threads
        As in `CrossEntropyLoss`.

    Returns
    -------
    scalar or ndarray

    Notes
    -----
    {_NORMALIZATION_TABLE}
    Examples
    --------
    >>> import numpy as np, fastloss
    >>> logp = np.log(np.array([[0.5, 0.25, 0.25]]))
    >>> float(fastloss.nll_loss(logp, np.array([0])))  # -log 0.5
    0.6931471805599453
    """
