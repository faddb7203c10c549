"""Regression losses, entry by entry, with fused forward+backward.

Every loss here compares a prediction `input` with a `target` of the same shape (any
shape), optionally weighted by `sample_weight` (non-negative, broadcastable to the
input), and reduces:

- "mean": ``sum_i w_i l_i / n`` with n the number of entries (as PyTorch divides
  weighted losses; for a weighted average pass reduction="sum" and divide by the sum of
  the weights);
- "sum": ``sum_i w_i l_i``;
- "none": ``w_i l_i`` with the input's shape.

The gradient is that of the returned value. At kinks the derivative is PyTorch's
choice: d|d|/dd = 0 at d = 0. NaN in an entry gives NaN in its loss and gradient.
"""
from ._elementwise import ElementwiseLoss, _functional
from ._validation import check_real

__all__ = ["MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "LogCoshLoss", "QuantileLoss",
           "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "log_cosh_loss",
           "quantile_loss"]

_COMMON = """
    Parameters
    ----------
    reduction : {"mean", "sum", "none"}, default "mean"
    n_threads : int, optional
        Threads per call; default `fastloss.get_num_threads()`. Results are bitwise
        identical for every thread count.

    Call ``loss(input, target, sample_weight=None)`` for the value and
    ``loss.value_and_grad(input, target, sample_weight=None, out=None)`` for ``(value,
    d value / d input)`` from one pass. `input`: float32 or float64 (float16 and
    small integers are converted), any shape; `target`: the same shape, converted to
    the input's dtype when that is exact; `sample_weight`: finite, >= 0, broadcastable
    to the input (a scalar, per-column (C,), per-row (N, 1) and full weights are read
    without a copy). The sums accumulate in float64 for both dtypes."""


class MSELoss(ElementwiseLoss):
    __doc__ = f"""Mean squared error, ``l = (x - y)^2``, ``dl/dx = 2 (x - y)``.

    Matches ``torch.nn.MSELoss``.
    {_COMMON}

    Examples
    --------
    >>> import numpy as np, fastloss
    >>> value, grad = fastloss.MSELoss().value_and_grad(np.array([1.0, 2.0]),
    ...                                                 np.array([0.0, 4.0]))
    >>> float(value), grad.tolist()
    (2.5, [1.0, -2.0])
    """
    _kind = "mse"


class L1Loss(ElementwiseLoss):
    __doc__ = f"""Mean absolute error, ``l = |x - y|``, ``dl/dx = sign(x - y)`` (0 at 0).

    Matches ``torch.nn.L1Loss``.
    {_COMMON}

    Examples
    --------
    >>> import numpy as np, fastloss
    >>> float(fastloss.L1Loss(reduction="sum")(np.array([1.0, 2.0]), np.array([0.0, 4.0])))
    3.0
    """
    _kind = "l1"


class HuberLoss(ElementwiseLoss):
    __doc__ = f"""Huber loss: quadratic within `delta` of the target, linear outside.

    ``l = d^2 / 2`` for ``|d| <= delta``, ``delta (|d| - delta / 2)`` otherwise, with
    ``d = x - y``; ``dl/dx = clip(d, -delta, delta)``. Matches ``torch.nn.HuberLoss``.

    delta : float > 0, default 1.0
    {_COMMON}

    Examples
    --------
    >>> import numpy as np, fastloss
    >>> fastloss.HuberLoss(delta=1.0, reduction="none")(np.array([0.5, 3.0]), np.zeros(2))
    array([0.125, 2.5  ])
    """
    _kind = "huber"

    def __init__(self, delta=1.0, reduction="mean", *, n_threads=None):
        super().__init__(reduction, n_threads=n_threads)
        self.delta = check_real("delta", delta, low=0.0, low_open=True)

    def _params(self):
        return self.delta, 0.0

    def _options_repr(self):
        return f"delta={self.delta}"


class SmoothL1Loss(ElementwiseLoss):
    __doc__ = f"""Smooth L1 loss: ``d^2 / (2 beta)`` for ``|d| < beta``, ``|d| - beta / 2``
    otherwise (``d = x - y``); ``dl/dx = clip(d / beta, -1, 1)``. ``beta = 0`` is
    `L1Loss`. Equals ``HuberLoss(delta=beta) / beta``. Matches ``torch.nn.SmoothL1Loss``.

    beta : float >= 0, default 1.0
    {_COMMON}

    Examples
    --------
    >>> import numpy as np, fastloss
    >>> fastloss.SmoothL1Loss(beta=2.0, reduction="none")(np.array([1.0, 3.0]), np.zeros(2))
    array([0.25, 2.  ])
    """
    _kind = "smooth_l1"

    def __init__(self, beta=1.0, reduction="mean", *, n_threads=None):
        super().__init__(reduction, n_threads=n_threads)
        self.beta = check_real("beta", beta, low=0.0)
        if self.beta == 0.0:
            self._kind = "l1"

    def _params(self):
        return self.beta, 0.0

    def _options_repr(self):
        return f"beta={self.beta}"


class LogCoshLoss(ElementwiseLoss):
    __doc__ = f"""Log-cosh loss, ``l = log cosh(x - y)``, ``dl/dx = tanh(x - y)``.

    About ``d^2 / 2`` for small ``d`` and ``|d| - log 2`` for large ones. Computed
    without overflow for every finite ``d`` (up to the float64 maximum: ``log cosh(a) =
    a - log 2 + log1p(exp(-2a))``), and without cancellation near 0 (``log1p(2
    sinh(a/2)^2)``); ``d = +-inf`` gives ``inf`` and gradient ``+-1``. Each entry is
    evaluated in float64 with the C library (this loss is not vectorized).
    {_COMMON}

    Examples
    --------
    >>> import numpy as np, fastloss
    >>> round(float(fastloss.LogCoshLoss()(np.array([1e30]), np.array([0.0]))), 3)
    1e+30
    """
    _kind = "log_cosh"


class QuantileLoss(ElementwiseLoss):
    __doc__ = f"""Quantile (pinball) loss of the residual ``r = y - x``:
    ``l = q r`` for ``r >= 0``, ``(q - 1) r`` for ``r < 0``. Its minimizer is the
    q-quantile of the target; q = 0.5 is half the absolute error.
    ``dl/dx = -q`` where ``r > 0``, ``1 - q`` where ``r < 0`` and 0 at ``r = 0``.

    q : float in (0, 1), default 0.5
    {_COMMON}

    Examples
    --------
    >>> import numpy as np, fastloss
    >>> fastloss.QuantileLoss(q=0.9, reduction="none")(np.array([0.0, 0.0]),
    ...                                                np.array([1.0, -1.0]))
    array([0.9, 0.1])
    """
    _kind = "quantile"

    def __init__(self, q=0.5, reduction="mean", *, n_threads=None):
        super().__init__(reduction, n_threads=n_threads)
        self.q = check_real("q", q, low=0.0, high=1.0, low_open=True, high_open=True)

    def _params(self):
        return self.q, 0.0

    def _options_repr(self):
        return f"q={self.q}"


mse_loss = _functional(MSELoss, "mse_loss")
l1_loss = _functional(L1Loss, "l1_loss")
huber_loss = _functional(HuberLoss, "huber_loss")
smooth_l1_loss = _functional(SmoothL1Loss, "smooth_l1_loss")
log_cosh_loss = _functional(LogCoshLoss, "log_cosh_loss")
quantile_loss = _functional(QuantileLoss, "quantile_loss")
