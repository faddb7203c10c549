"""Weight penalties over lists of parameter arrays: L1, L2 and elastic net.

Every regularizer here is the elastic penalty ``l1 * sum|w| + l2 * sum w^2`` for some
``(l1, l2)``, summed over the arrays it penalizes. One C call per dtype walks all of
them as one concatenated range, in fixed blocks that may straddle arrays, and adds the
gradient into the caller's gradient arrays in the same pass.
"""
import numpy as np

from . import _kernels
from ._config import resolve_threads
from ._arrays import array_table, check_grads, check_no_overlap, named_arrays
from ._validation import as_float_array, check_flag, check_real

__all__ = ["Regularizer", "L1", "L2", "ElasticNet", "l1_penalty", "l2_penalty",
           "elastic_net_penalty"]

_PARAMS_DOC = """params : list of arrays, list of (name, array) pairs, or dict
        The parameter arrays (float32 or float64; other real dtypes are converted
        where lossless, and non-contiguous arrays are copied once, for reading).
        Names, when given (e.g. ``dict(model.named_parameters())``-like), are passed
        to a `penalize` predicate; unnamed arrays are named by their index."""

_PENALIZE_DOC = """penalize : None, list of bool, or callable(name, array) -> bool, optional
        Which arrays are penalized. Default (None): arrays with ``ndim >= 2``
        (weight matrices, kernels); 1-D and 0-d arrays (biases, scales) are not
        penalized, as weight decay usually treats them. A list gives one bool per
        array; a callable is asked for each (name, array) pair at each call."""

_THREADS_DOC = """n_threads : int, optional
        Threads per call; default `fastloss.get_num_threads()`. Value and gradients
        are bitwise identical for every thread count."""

_CALLS_DOC = """Call ``reg(params)`` for the value, ``reg.value_and_grad(params, grads)`` to
    get the value and add the gradient into `grads` in place (one fused pass), and
    ``reg.grad(params)`` for fresh gradient arrays (zeros where not penalized).
    `grads` matches `params` one to one: same length (and names, when both are named),
    and each gradient has its parameter's shape and dtype, is C-contiguous, writeable,
    and overlaps no parameter or other gradient. Arrays that are not penalized keep
    their gradient untouched. Mixed float32/float64 lists run one kernel call per
    dtype; the value is a NumPy scalar of the widest dtype (float64 for an empty list)."""

_EDGES_DOC = """A NaN weight makes the value and its own gradient entry NaN; an infinite weight
    makes the value +inf, with an L1 gradient of +-strength and an infinite L2
    gradient. A term whose coefficient is 0 is left out altogether (strength 0 gives
    0, and a gradient unchanged, even for infinite weights)."""


def _penalized_mask(penalize, labels, arrays):
    if penalize is None:
        return [a.ndim >= 2 for a in arrays]
    if callable(penalize):
        return [bool(penalize(n, a)) for n, a in zip(labels, arrays)]
    if len(penalize) != len(arrays):
        raise ValueError(f"penalize must have one bool per array: {len(arrays)} arrays, "
                         f"got {len(penalize)} entries")
    return penalize


def _check_penalize_option(penalize):
    if penalize is None or callable(penalize):
        return penalize
    if isinstance(penalize, (str, bytes)) or not hasattr(penalize, "__iter__"):
        raise TypeError(f"penalize must be None, a list of bool or a callable(name, "
                        f"array), got {penalize!r}")
    return [check_flag(f"penalize[{i}]", m) for i, m in enumerate(penalize)]


class Regularizer:
    """Base of the elastic-family penalties ``l1 * sum|w| + l2 * sum w^2``.

    Subclasses set the coefficients from their own options; everything else (the
    parameter list, the mask, the fused kernel call) is shared. `CompositeLoss` treats
    any Regularizer as a parameter-space term.
    """

    def __init__(self, l1, l2, penalize=None, n_threads=None):
        self._l1 = l1
        self._l2 = l2
        self.penalize = _check_penalize_option(penalize)
        if n_threads is not None:
            resolve_threads(n_threads)
        self.n_threads = n_threads

    def _prepare(self, params):
        """(names as given or None, float arrays, penalized mask)."""
        named = named_arrays("params", params)
        names = [n for n, _ in named]
        arrays = [as_float_array(f"params[{i}]" + (f" ({n!r})" if n else ""), p)
                  for i, (n, p) in enumerate(named)]
        labels = [n if n is not None else str(i) for i, n in enumerate(names)]
        return names, arrays, _penalized_mask(self.penalize, labels, arrays)

    def _accumulate(self, prepared, grads, scale=1.0):
        """(value, norm of the added gradient, value dtype): grads += scale * dP/dw over
        the penalized arrays (grads=None: value only). The value is the penalty's own,
        without `scale`."""
        nt = resolve_threads(self.n_threads)
        names, arrays, mask = prepared
        columns = [arrays]
        if grads is not None:
            columns.append(check_grads(names, arrays, grads))
            check_no_overlap(arrays, columns[1])
        value_dtype = np.result_type(*[a.dtype for a in arrays]) if arrays else np.float64
        sums = np.zeros(3)
        for dtype in (np.float32, np.float64):
            idx = [i for i, a in enumerate(arrays) if mask[i] and a.dtype == dtype]
            if not idx:
                continue
            offsets, addresses = array_table(columns, idx)
            sums += _kernels.penalty(dtype == np.float64, offsets, addresses, len(columns),
                                     scale * self._l1, scale * self._l2, nt)
        abs_sum, sq_sum, grad_sq = (float(s) for s in sums)
        value = ((self._l1 * abs_sum if self._l1 != 0.0 else 0.0)
                 + (self._l2 * sq_sum if self._l2 != 0.0 else 0.0))
        return value, float(np.sqrt(grad_sq)), value_dtype

    def __call__(self, params):
        """The penalty over the penalized arrays of `params`."""
        value, _, dtype = self._accumulate(self._prepare(params), None)
        return np.dtype(dtype).type(value)

    def value_and_grad(self, params, grads):
        """The penalty, after adding its gradient into `grads` in place (one pass)."""
        value, _, dtype = self._accumulate(self._prepare(params), grads)
        return np.dtype(dtype).type(value)

    def grad(self, params):
        """Fresh gradient arrays, one per parameter (zeros where not penalized)."""
        prepared = self._prepare(params)
        grads = [np.zeros_like(a) for a in prepared[1]]
        self._accumulate(prepared, grads)
        return grads

    def __repr__(self):
        return f"{type(self).__name__}({self._options()}, penalize={self.penalize!r})"


def _docstring(summary, formula, options, example):
    return f"""{summary}

    .. math:: {formula}

    Parameters
    ----------
    {options}
    {_PENALIZE_DOC}
    {_THREADS_DOC}

    {_CALLS_DOC}

    Notes
    -----
    The sums run over every element of every penalized array, in float64 for both
    dtypes, in fixed blocks of the concatenated arrays. The gradient of ``|w|`` at
    ``w = 0`` is taken as 0 (``torch.sign``). {_EDGES_DOC}

    Examples
    --------
    >>> import numpy as np, fastloss
    {example}
    """


class L1(Regularizer):
    __doc__ = _docstring(
        "L1 penalty (lasso): ``strength * sum |w|`` over the penalized arrays.",
        "R(w) = s \\sum_j |w_j|, \\qquad \\partial R / \\partial w_j = s\\,\\mathrm{sign}(w_j)",
        "strength : float >= 0, default 1.0\n        s in the formula.",
        """>>> W, b = np.array([[1.0, -2.0], [0.0, 3.0]]), np.array([5.0, 5.0])
    >>> gW, gb = np.zeros_like(W), np.zeros_like(b)
    >>> float(fastloss.L1(0.5).value_and_grad([W, b], [gW, gb]))  # b is not penalized
    3.0
    >>> gW
    array([[ 0.5, -0.5],
           [ 0. ,  0.5]])""")

    def __init__(self, strength=1.0, *, penalize=None, n_threads=None):
        self.strength = check_real("strength", strength, low=0.0)
        super().__init__(self.strength, 0.0, penalize, n_threads)

    def _options(self):
        return f"strength={self.strength}"


_L2_CONVENTIONS = ("half", "full")


class L2(Regularizer):
    __doc__ = _docstring(
        "L2 penalty, in either convention: ``convention=\"half\"`` gives "
        "``strength/2 * sum w^2``\n    (gradient ``strength * w``: PyTorch's `weight_decay`), "
        "``convention=\"full\"`` gives\n    ``strength * sum w^2`` (gradient "
        "``2 * strength * w``).",
        "R_{half}(w) = \\tfrac{s}{2} \\sum_j w_j^2, \\qquad R_{full}(w) = s \\sum_j w_j^2",
        "strength : float >= 0, default 1.0\n        s in the formula.\n"
        "    convention : {\"half\", \"full\"}, default \"half\"\n"
        "        Whether the sum of squares carries the factor 1/2.",
        """>>> W = np.array([[1.0, -2.0], [0.0, 3.0]])
    >>> float(fastloss.L2(0.5)([W])), float(fastloss.L2(0.5, convention="full")([W]))
    (3.5, 7.0)
    >>> fastloss.L2(0.5).grad([W])[0]
    array([[ 0.5, -1. ],
           [ 0. ,  1.5]])""")

    def __init__(self, strength=1.0, convention="half", *, penalize=None, n_threads=None):
        self.strength = check_real("strength", strength, low=0.0)
        if convention not in _L2_CONVENTIONS:
            raise ValueError(f"convention must be one of {_L2_CONVENTIONS}, "
                             f"got {convention!r}")
        self.convention = convention
        factor = 0.5 if convention == "half" else 1.0
        super().__init__(0.0, factor * self.strength, penalize, n_threads)

    def _options(self):
        return f"strength={self.strength}, convention={self.convention!r}"


class ElasticNet(Regularizer):
    __doc__ = _docstring(
        "Elastic-net penalty as scikit-learn defines `alpha` and `l1_ratio`:\n"
        "    ``alpha * (l1_ratio * sum|w| + (1 - l1_ratio) / 2 * sum w^2)``.",
        "R(w) = \\alpha \\Big(\\rho \\sum_j |w_j| + \\frac{1 - \\rho}{2} \\sum_j w_j^2\\Big)",
        "alpha : float >= 0, default 1.0\n        Overall strength.\n"
        "    l1_ratio : float in [0, 1], default 0.5\n"
        "        rho in the formula: 1 is `L1` (alpha), 0 is `L2` (alpha, \"half\").",
        """>>> W = np.array([[1.0, -2.0], [0.0, 3.0]])
    >>> float(fastloss.ElasticNet(alpha=0.5, l1_ratio=0.5)([W]))  # 0.5 * (3 + 3.5)
    3.25""")

    def __init__(self, alpha=1.0, l1_ratio=0.5, *, penalize=None, n_threads=None):
        self.alpha = check_real("alpha", alpha, low=0.0)
        self.l1_ratio = ratio = check_real("l1_ratio", l1_ratio, low=0.0, high=1.0)
        super().__init__(self.alpha * ratio, 0.5 * self.alpha * (1.0 - ratio), penalize,
                         n_threads)

    def _options(self):
        return f"alpha={self.alpha}, l1_ratio={self.l1_ratio}"


def l1_penalty(params, strength=1.0, *, penalize=None, n_threads=None):
    """``strength * sum |w|`` over the penalized arrays of `params` (see `L1`).

    >>> import numpy as np, fastloss
    >>> float(fastloss.l1_penalty([np.array([[1.0, -2.0]])], 2.0))
    6.0
    """
    return L1(strength, penalize=penalize, n_threads=n_threads)(params)


def l2_penalty(params, strength=1.0, convention="half", *, penalize=None, n_threads=None):
    """``strength/2 * sum w^2`` ("half") or ``strength * sum w^2`` ("full") (see `L2`).

    >>> import numpy as np, fastloss
    >>> float(fastloss.l2_penalty([np.array([[1.0, -2.0]])], 2.0))
    5.0
    """
    return L2(strength, convention, penalize=penalize, n_threads=n_threads)(params)


def elastic_net_penalty(params, alpha=1.0, l1_ratio=0.5, *, penalize=None, n_threads=None):
    """scikit-learn's elastic net over the penalized arrays (see `ElasticNet`).

    >>> import numpy as np, fastloss
    >>> float(fastloss.elastic_net_penalty([np.array([[1.0, -2.0]])], 1.0, 0.5))
    2.75
    """
    return ElasticNet(alpha, l1_ratio, penalize=penalize, n_threads=n_threads)(params)
