"""Binary classification losses, entry by entry, with fused forward+backward.

Inputs are probabilities (`BCELoss`), logits (`BCEWithLogitsLoss`,
`SigmoidFocalLoss`) or scores (`HingeLoss`, `SquaredHingeLoss`) of any shape; targets
have the same shape. Reductions and weights work as in `fastloss.regression`: "mean"
divides the weighted sum by the number of entries, as PyTorch does.
"""
from ._elementwise import ElementwiseLoss, _functional, combine_weights, unravel
from ._validation import check_real

__all__ = ["BCELoss", "BCEWithLogitsLoss", "HingeLoss", "SquaredHingeLoss",
           "SigmoidFocalLoss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
           "hinge_loss", "squared_hinge_loss", "sigmoid_focal_loss"]

_CALLS = """
    Call ``loss(input, target, sample_weight=None)`` for the value and
    ``loss.value_and_grad(input, target, sample_weight=None, out=None)`` for ``(value,
    d value / d input)`` from one pass. `sample_weight` (finite, >= 0, broadcastable to
    the input) multiplies each entry's loss, after `weight` when both are given. Sums
    accumulate in float64 for both dtypes; results are bitwise identical for every
    thread count (`n_threads`)."""


def _target_range_error(name, index, t):
    return ValueError(f"target must hold probabilities in [0, 1] for {name}: "
                      f"target{unravel(index, t.shape)} = {t.flat[index].item()!r}")


class BCELoss(ElementwiseLoss):
    __doc__ = f"""Binary cross-entropy on probabilities.

    ``l = -w (y log p + (1 - y) log(1 - p))`` with both logs clamped at -100, as in
    ``torch.nn.BCELoss``, so that p = 0 or 1 gives a finite loss (at most 100 per
    entry); the gradient is PyTorch's, ``w (p - y) / max(p (1 - p), 1e-12)``.

    Parameters
    ----------
    weight : array_like, optional
        Rescales each entry's loss; broadcastable to the input (as PyTorch's `weight`).
    reduction : {{"mean", "sum", "none"}}, default "mean"
    n_threads : int, optional
    {_CALLS}

    Inputs outside [0, 1] raise ValueError (as PyTorch), and so do targets outside
    [0, 1]; NaN gives NaN.

    Attributes
    ----------
    n_clamped : int
        After each call: how many entries had a clamped log that counts, i.e. a log
        p < -100 where y != 0 or a log(1 - p) < -100 where y != 1. Their loss is
        capped at 100 and the gradient is no longer that of the loss: a non-zero count
        says the model saturated (consider `BCEWithLogitsLoss`). It belongs to this
        object's most recent call (use one object per thread when that matters).

    Examples
    --------
    >>> import numpy as np, fastloss
    >>> loss = fastloss.BCELoss(reduction="none")
    >>> loss(np.array([0.5, 1.0, 0.0]), np.array([1.0, 1.0, 1.0]))
    array([  0.69314718,   0.        , 100.        ])
    >>> loss.n_clamped
    1
    """
    _kind = "bce"
    n_clamped = 0

    def __init__(self, weight=None, reduction="mean", *, n_threads=None):
        super().__init__(reduction, n_threads=n_threads)
        self.weight = weight

    def _weights(self, sample_weight):
        return combine_weights(self.weight, sample_weight), None

    def _after_call(self, n_clamped):
        self.n_clamped = int(n_clamped)

    def _domain_error(self, which, index, x, t):
        if which == 0:
            return ValueError(f"input must hold probabilities in [0, 1] for BCELoss: "
                              f"input{unravel(index, x.shape)} = {x.flat[index].item()!r} "
                              f"(for logits use BCEWithLogitsLoss)")
        return _target_range_error("BCELoss", index, t)


class BCEWithLogitsLoss(ElementwiseLoss):
    __doc__ = f"""Binary cross-entropy on logits, numerically stable.

    ``l = w (pos_weight y softplus(-x) + (1 - y) softplus(x))``, i.e. ``-w (pw y log
    sigmoid(x) + (1 - y) log(1 - sigmoid(x)))``, with ``softplus(x) = max(x, 0) +
    log1p(exp(-|x|))``: no exp overflows and no log(0) for any logit (|x| up to the
    float64 maximum; +-inf gives the limit). ``dl/dx = w ((1 - y) sigmoid(x) - pw y
    (1 - sigmoid(x)))``. Matches ``torch.nn.BCEWithLogitsLoss``.

    Parameters
    ----------
    weight : array_like, optional
        Rescales each entry's loss; broadcastable to the input.
    pos_weight : array_like, optional
        Weight of the positive term, broadcastable to the input (typically one per
        class, shape (C,)); finite and >= 0.
    reduction : {{"mean", "sum", "none"}}, default "mean"
    n_threads : int, optional
    {_CALLS}

    Targets may be soft labels in [0, 1]; values outside raise ValueError. The exp and
    log are vectorized polynomial forms (within 2 and 4 units in the last place).

    Examples
    --------
    >>> import numpy as np, fastloss
    >>> x = np.array([1e30, -1e30, 0.0])
    >>> fastloss.BCEWithLogitsLoss(reduction="none")(x, np.array([1.0, 1.0, 0.5]))
    array([0.00000000e+00, 1.00000000e+30, 6.93147181e-01])
    """
    _kind = "bce_with_logits"

    def __init__(self, weight=None, pos_weight=None, reduction="mean", *, n_threads=None):
        super().__init__(reduction, n_threads=n_threads)
        self.weight = weight
        self.pos_weight = pos_weight

    def _weights(self, sample_weight):
        return combine_weights(self.weight, sample_weight), self.pos_weight

    def _domain_error(self, which, index, x, t):
        return _target_range_error("BCEWithLogitsLoss", index, t)


class _Hinge(ElementwiseLoss):

    def _domain_error(self, which, index, x, t):
        name = type(self).__name__
        if which == 2:
            return ValueError(
                f"target mixes the {{-1, 1}} and {{0, 1}} label encodings for {name}: "
                f"both -1 and 0 occur (target{unravel(index, t.shape)} = "
                f"{t.flat[index].item()!r})")
        return ValueError(f"target labels must be in {{-1, 1}} or {{0, 1}} for {name}: "
                          f"target{unravel(index, t.shape)} = {t.flat[index].item()!r}")


_HINGE_LABELS = """
    Labels y are -1 or +1; labels in {0, 1} are accepted and 0 is read as -1 (the
    encoding is taken from the data: a target holding both -1 and 0 raises ValueError,
    as does any other value). `input` holds raw scores, not probabilities.

    reduction, n_threads
        As in `MSELoss`.
    """ + _CALLS


class HingeLoss(_Hinge):
    __doc__ = f"""Binary hinge loss, ``l = max(0, 1 - y x)``; ``dl/dx = -y`` where
    ``1 - y x > 0`` and 0 elsewhere (0 at the kink).
    {_HINGE_LABELS}

    Examples
    --------
    >>> import numpy as np, fastloss
    >>> fastloss.HingeLoss(reduction="none")(np.array([2.0, 0.5, 0.5]), np.array([1, 1, 0]))
    array([0. , 0.5, 1.5])
    """
    _kind = "hinge"


class SquaredHingeLoss(_Hinge):
    __doc__ = f"""Squared hinge loss, ``l = max(0, 1 - y x)^2``; ``dl/dx = -2 y max(0,
    1 - y x)``.
    {_HINGE_LABELS}

    Examples
    --------
    >>> import numpy as np, fastloss
    >>> fastloss.SquaredHingeLoss(reduction="sum")(np.array([0.5, -2.0]), np.array([1, -1]))
    np.float64(0.25)
    """
    _kind = "squared_hinge"


class SigmoidFocalLoss(ElementwiseLoss):
    __doc__ = f"""Sigmoid focal loss on logits, as ``torchvision.ops.sigmoid_focal_loss``.

    With ``p = sigmoid(x)``, ``ce`` the binary cross-entropy with logits, ``p_t = p y +
    (1 - p)(1 - y)`` and ``alpha_t = alpha y + (1 - alpha)(1 - y)``:
    ``l = alpha_t ce (1 - p_t)^gamma``. It down-weights easy, well-classified entries.

    Parameters
    ----------
    alpha : float in [0, 1], or negative for no weighting, default 0.25
    gamma : float >= 0, default 2.0
    reduction : {{"none", "mean", "sum"}}, default "none" (torchvision's default)
    n_threads : int, optional
    {_CALLS}

    Targets are in [0, 1] (values outside raise ValueError). Each entry is computed in
    float64 with the C library (not vectorized). The gradient is exact; where
    ``1 - p_t = 0`` and ``gamma < 1`` its modulating factor's derivative is taken as 0
    (its other factor ``p (1 - p)`` is 0 there).

    Examples
    --------
    >>> import numpy as np, fastloss
    >>> loss = fastloss.SigmoidFocalLoss(reduction="none")
    >>> [round(float(v), 6) for v in loss(np.array([0.0, 3.0]), np.array([1.0, 1.0]))]
    [0.043322, 2.7e-05]
    """
    _kind = "sigmoid_focal"

    def __init__(self, alpha=0.25, gamma=2.0, reduction="none", *, n_threads=None):
        super().__init__(reduction, n_threads=n_threads)
        self.alpha = check_real("alpha", alpha, high=1.0)
        self.gamma = check_real("gamma", gamma, low=0.0)

    def _params(self):
        return self.alpha, self.gamma

    def _options_repr(self):
        return f"alpha={self.alpha}, gamma={self.gamma}"

    def _domain_error(self, which, index, x, t):
        return _target_range_error("SigmoidFocalLoss", index, t)


binary_cross_entropy = _functional(BCELoss, "binary_cross_entropy")
binary_cross_entropy_with_logits = _functional(BCEWithLogitsLoss,
                                               "binary_cross_entropy_with_logits")
hinge_loss = _functional(HingeLoss, "hinge_loss")
squared_hinge_loss = _functional(SquaredHingeLoss, "squared_hinge_loss")
sigmoid_focal_loss = _functional(SigmoidFocalLoss, "sigmoid_focal_loss")
