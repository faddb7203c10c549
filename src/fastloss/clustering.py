"""Clustering: within-cluster sum of squares (value, labels, gradients) and one fused
Lloyd (k-means) iteration."""
from typing import NamedTuple, Optional

import numpy as np

from . import _kernels
from ._config import resolve_threads
from ._validation import as_float_array, check_out

__all__ = ["WCSS", "WCSSGrad", "WCSSResult", "KMeansStepResult", "kmeans_step", "wcss"]

_WRT = ("both", "centroids", "X")


class WCSSResult(NamedTuple):
    """What `wcss` returns."""
    value: np.floating
    """Total weighted within-cluster sum of squares, a NumPy scalar of X's dtype."""
    labels: np.ndarray
    """(N,) int64: index of the nearest centroid (ties to the lowest), -1 for NaN points."""
    distances: np.ndarray
    """(N,) X's dtype: squared distance of each point to its centroid (unweighted)."""


class WCSSGrad(NamedTuple):
    """Gradients of `WCSS.value_and_grad`; a field not asked for (`wrt`) is None."""
    centroids: Optional[np.ndarray]
    """(K, D): d value / d centroids."""
    X: Optional[np.ndarray]
    """(N, D): d value / d X."""


class KMeansStepResult(NamedTuple):
    """What `kmeans_step` returns."""
    centroids: np.ndarray
    """(K, D) X's dtype: the new centroids (the old position for empty clusters)."""
    labels: np.ndarray
    """(N,) int64: assignment to the OLD centroids (-1 for NaN points)."""
    inertia: np.floating
    """Weighted sum of squared distances to the OLD centroids (as scikit-learn)."""
    counts: np.ndarray
    """(K,) int64: points assigned to each cluster."""
    weights: np.ndarray
    """(K,) float64: summed sample weights per cluster (= counts without weights)."""
    empty: np.ndarray
    """(K,) bool: clusters with no weight assigned (no point, or only zero-weight
    points); their centroid stays where it was."""


def _check_problem(X, centroids, sample_weight):
    """(x, c, w) ready for the kernels: x (N, D) and c (K, D) C-contiguous of one float
    dtype, c finite, w None or (N,) float64 finite and >= 0 (a private copy)."""
    x = as_float_array("X", X)
    if x.ndim != 2:
        raise ValueError(f"X must be 2-D (N, D), got shape {x.shape}")
    if x.shape[1] == 0:
        raise ValueError(f"X must have at least one feature, got shape {x.shape}")
    c = as_float_array("centroids", centroids)
    if c.ndim != 2 or c.shape[0] == 0 or c.shape[1] != x.shape[1]:
        raise ValueError(
            f"centroids must have shape (K, D) with K >= 1 and D = {x.shape[1]} (X's "
            f"features), got shape {c.shape}")
    bad = ~np.isfinite(c)
    if bad.any():
        k, j = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"centroids must be finite, got centroids[{k}, {j}] = {float(c[k, j])!r}")
    if c.dtype != x.dtype:
        converted = c.astype(x.dtype)
        lost = converted != c
        if lost.any():
            k, j = (int(i) for i in np.argwhere(lost)[0])
            raise TypeError(
                f"centroids of dtype {c.dtype.name} do not convert to X's dtype "
                f"{x.dtype.name} without loss (centroids[{k}, {j}] = {float(c[k, j])!r}); pass "
                f"centroids.astype(np.{x.dtype.name})")
        c = converted
    return x, c, _check_sample_weight(sample_weight, x.shape[0])


def _check_sample_weight(sample_weight, n):
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight)
    if w.dtype.kind not in "fiu":
        raise TypeError(
            f"sample_weight must be an array of floats, got dtype {w.dtype.name}")
    if w.shape != (n,):
        raise ValueError(f"sample_weight must have shape ({n},) (one per point of X), "
                         f"got shape {w.shape}")
    w = np.array(w, dtype=np.float64, order="C", copy=True)
    bad = ~(np.isfinite(w) & (w >= 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"sample_weight must be finite and >= 0, got sample_weight[{i}] = "
                         f"{float(w[i])!r}")
    return w


def _check_reduction(reduction):
    if reduction not in ("sum", "mean"):
        raise ValueError(
            f"reduction must be 'sum' or 'mean', got {reduction!r} (the per-point squared "
            f"distances are wcss(...).distances)")
    return reduction


def _scratch(x, c):
    return np.empty(_kernels.cluster_scratch_len(x.shape[0], c.shape[0], x.shape[1]),
                    dtype=np.float64)


def wcss(X, centroids, sample_weight=None, *, n_threads=None):
    """Within-cluster sum of squares of points X for the given centroids.

    .. math:: \\mathrm{WCSS} = \\sum_i w_i \\min_k \\lVert x_i - \\mu_k \\rVert^2

    Parameters
    ----------
    X : array_like, shape (N, D)
        Points, float32 or float64 (float16 and integers of at most 32 bits are
        converted; Fortran-ordered or strided arrays are copied once to C order).
    centroids : array_like, shape (K, D)
        Finite centroids, K >= 1, converted to X's dtype where every value converts
        exactly (so a list such as ``[[0.0, 1.5]]`` works with float32 X); float64 centroids
        that float32 cannot hold exactly raise TypeError.
    sample_weight : array_like, shape (N,), optional
        Finite weights >= 0; all ones when None.
    n_threads : int, optional
        Threads; default `fastloss.get_num_threads()`. Results are bitwise identical
        for every thread count.

    Returns
    -------
    WCSSResult
        ``value`` (the total, a NumPy scalar of X's dtype), ``labels`` (N,) int64 and
        ``distances`` (N,) of X's dtype, the squared distance of each point to its
        centroid.

    Notes
    -----
    Each point goes to its nearest centroid, ``argmin_k ||x_i - mu_k||^2``; ties go to
    the lowest index. Distances are sums of squared differences accumulated in float64
    for both dtypes (not ``||x||^2 - 2 x.mu + ||mu||^2``, which loses all accuracy for
    points near a centroid far from the origin), so labels are the exact argmin up to
    float64 rounding and float32 distances are correctly rounded up to it. (A fast
    screening pass in X's dtype settles the label where its rounding error bound
    proves it; only near-ties fall back to all K float64 distances. The results are
    the same either way.)

    A point with a NaN coordinate gets label -1 and distance NaN and makes the value
    NaN. A point with an infinite coordinate is at distance inf from every centroid:
    label 0, value inf (unless its weight is 0: zero-weight points contribute nothing).
    With no points the value is 0.

    Examples
    --------
    >>> import numpy as np, fastloss
    >>> X = np.array([[0.0, 0.0], [1.0, 0.0], [9.0, 9.0], [10.0, 9.0]])
    >>> res = fastloss.wcss(X, [[0.0, 0.0], [10.0, 10.0]])
    >>> float(res.value), res.labels.tolist(), res.distances.tolist()
    (4.0, [0, 0, 1, 1], [0.0, 1.0, 2.0, 1.0])
    """
    nt = resolve_threads(n_threads)
    x, c, w = _check_problem(X, centroids, sample_weight)
    n = x.shape[0]
    labels = np.empty(n, dtype=np.int64)
    distances = np.empty(n, dtype=x.dtype)
    value = _kernels.wcss(x, c, w, _kernels.REDUCTION_SUM, labels, distances, None, None,
                          _scratch(x, c), nt)
    return WCSSResult(x.dtype.type(value), labels, distances)


class WCSS:
    """Within-cluster sum of squares as a loss of the centroids and of the points.

    .. math:: L = s \\sum_i w_i \\lVert x_i - \\mu_{y_i} \\rVert^2,
              \\quad y_i = \\arg\\min_k \\lVert x_i - \\mu_k \\rVert^2

    with s = 1 for ``reduction="sum"`` (the k-means objective, scikit-learn's
    ``inertia_``) and ``s = 1 / sum_i w_i`` for ``"mean"``.

    Parameters
    ----------
    reduction : {"sum", "mean"}, default "sum"
        "mean" divides by the total weight (N without weights; NaN when it is 0, as
        PyTorch's means over nothing). There is no "none": the per-point squared
        distances are ``wcss(...).distances``, and the centroid gradient of a single
        point's loss would be an (N, K, D) array.
    n_threads : int, optional
        Threads per call; default `fastloss.get_num_threads()`. Values and gradients
        are bitwise identical for every thread count.

    Call ``loss(X, centroids, sample_weight=None)`` for the value,
    ``loss.value_and_grad(X, centroids, sample_weight=None, wrt="both", out=None)`` for
    ``(value, WCSSGrad(centroids=dL/dmu, X=dL/dX))`` from one pass over X, and
    ``loss.grad(...)`` for the `WCSSGrad` alone. Inputs as in `wcss`.

    Notes
    -----
    The assignment y is piecewise constant, so L is piecewise quadratic; the gradient
    is that of the quadratic piece the inputs lie on (labels held fixed):

    - ``dL/dmu_k = 2 s sum_{i: y_i = k} w_i (mu_k - x_i)`` (zero for an empty cluster);
    - ``dL/dx_i = 2 s w_i (x_i - mu_{y_i})``.

    Where a point is equidistant from two centroids, L has a kink; the gradient then
    follows the lowest-index centroid, like the labels (one of the one-sided
    derivatives). A NaN point (label -1) gets a NaN row in dL/dX and is left out of
    dL/dmu; the value is NaN. Sums accumulate in float64 for both dtypes, in fixed
    blocks of points.

    Examples
    --------
    >>> import numpy as np, fastloss
    >>> X = np.array([[0.0, 0.0], [1.0, 0.0], [9.0, 9.0], [10.0, 9.0]])
    >>> mu = np.array([[0.0, 0.0], [10.0, 10.0]])
    >>> value, grad = fastloss.WCSS().value_and_grad(X, mu)
    >>> float(value)
    4.0
    >>> grad.centroids.tolist()
    [[-2.0, 0.0], [2.0, 4.0]]
    >>> grad.X.tolist()
    [[0.0, 0.0], [2.0, 0.0], [-2.0, -2.0], [0.0, -2.0]]
    """

    def __init__(self, reduction="sum", *, n_threads=None):
        self.reduction = _check_reduction(reduction)
        if n_threads is not None:
            resolve_threads(n_threads)
        self.n_threads = n_threads

    def _run(self, X, centroids, sample_weight, wrt, out):
        nt = resolve_threads(self.n_threads)
        x, c, w = _check_problem(X, centroids, sample_weight)
        if wrt not in _WRT:
            raise ValueError(f"wrt must be one of {_WRT}, got {wrt!r}")
        out_c, out_x = _split_out(out)
        inputs = [x, c, w]
        grad_c = grad_x = None
        if wrt in ("both", "centroids"):
            grad_c = (np.empty_like(c) if out_c is None
                      else check_out(out_c, c.shape, c.dtype, inputs, "out[0] (centroids)"))
        if wrt in ("both", "X"):
            grad_x = (np.empty_like(x) if out_x is None
                      else check_out(out_x, x.shape, x.dtype, inputs + [grad_c], "out[1] (X)"))
        code = _kernels.REDUCTION_CODES[self.reduction]
        value = _kernels.wcss(x, c, w, code, None, None, grad_c, grad_x, _scratch(x, c), nt)
        return x.dtype.type(value), WCSSGrad(grad_c, grad_x)

    def __call__(self, X, centroids, sample_weight=None):
        """The loss value, a NumPy scalar of X's dtype."""
        nt = resolve_threads(self.n_threads)
        x, c, w = _check_problem(X, centroids, sample_weight)
        code = _kernels.REDUCTION_CODES[self.reduction]
        value = _kernels.wcss(x, c, w, code, None, None, None, None, _scratch(x, c), nt)
        return x.dtype.type(value)

    def value_and_grad(self, X, centroids, sample_weight=None, wrt="both", out=None):
        """``(value, WCSSGrad(centroids, X))`` from one fused pass.

        `wrt` is "both", "centroids" or "X": the gradient not asked for is None and not
        computed. `out` is None or a pair ``(out_centroids, out_X)`` of arrays (either
        may be None) to write the gradients into: shapes (K, D) and (N, D), X's dtype,
        C-contiguous, writeable, overlapping no input."""
        return self._run(X, centroids, sample_weight, wrt, out)

    def grad(self, X, centroids, sample_weight=None, wrt="both", out=None):
        """The `WCSSGrad` alone (same pass as `value_and_grad`)."""
        return self._run(X, centroids, sample_weight, wrt, out)[1]

    def __repr__(self):
        return f"WCSS(reduction={self.reduction!r})"


def _split_out(out):
    if out is None:
        return None, None
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise TypeError(f"out must be None or a pair (out_centroids, out_X), got {out!r}")
    return out[0], out[1]


def kmeans_step(X, centroids, sample_weight=None, *, out=None, n_threads=None):
    """One Lloyd iteration of k-means, fused: assignment and new centroids in one pass.

    Each point goes to its nearest centroid (as `wcss`: ties to the lowest index);
    each new centroid is the weighted mean of its points,
    ``mu_k' = sum_{i: y_i = k} w_i x_i / sum_{i: y_i = k} w_i``, computed as
    ``mu_k + sum w_i (x_i - mu_k) / W_k`` in float64 (no cancellation for data far
    from the origin). This is one iteration of
    ``sklearn.cluster.KMeans(init=centroids, n_init=1, algorithm="lloyd")``, except
    that empty clusters are kept at their old position and reported, not relocated.

    Parameters
    ----------
    X, centroids, sample_weight, n_threads
        As in `wcss`.
    out : ndarray, shape (K, D), optional
        Where to write the new centroids: X's dtype, C-contiguous, writeable, sharing no
        memory with X. It may be the centroids array itself (an in-place update), when
        that is already of X's dtype and C-contiguous.

    Returns
    -------
    KMeansStepResult
        ``centroids`` (new, K x D), ``labels`` (N,) int64 and ``inertia`` (NumPy scalar
        of X's dtype) of the assignment to the OLD centroids (what scikit-learn reports
        for an iteration), ``counts`` (K,) int64 points per cluster, ``weights`` (K,)
        float64 summed sample weight per cluster, ``empty`` (K,) bool.

    Notes
    -----
    A cluster is empty when no weight is assigned to it (no point, or only points of
    weight 0): its centroid stays where it was. A NaN point (label -1) belongs to no
    cluster and is not counted, and makes the inertia NaN; a point with an infinite
    coordinate goes to cluster 0 (all distances are inf) and makes that centroid
    infinite or NaN. Sums accumulate in float64 in fixed blocks of points, so results
    are bitwise identical for every thread count. The kernel's per-block partial sums
    (up to 256 x K x (D + 2) doubles, at most 32 MiB) and its screening buffers are
    allocated here, per call.

    Examples
    --------
    >>> import numpy as np, fastloss
    >>> X = np.array([[0.0, 0.0], [1.0, 0.0], [9.0, 9.0], [10.0, 9.0]])
    >>> step = fastloss.kmeans_step(X, [[0.0, 0.0], [10.0, 10.0], [50.0, 50.0]])
    >>> step.centroids.tolist()
    [[0.5, 0.0], [9.5, 9.0], [50.0, 50.0]]
    >>> float(step.inertia), step.labels.tolist(), step.counts.tolist(), step.empty.tolist()
    (4.0, [0, 0, 1, 1], [2, 2, 0], [False, False, True])
    """
    nt = resolve_threads(n_threads)
    x, c, w = _check_problem(X, centroids, sample_weight)
    n, k = x.shape[0], c.shape[0]
    if out is None:
        new_c = np.empty_like(c)
    elif out is c or (isinstance(out, np.ndarray) and _same_array(out, c)):
        new_c = check_out(out, c.shape, c.dtype, [x, w])
    else:
        new_c = check_out(out, c.shape, c.dtype, [x, c, w])
    labels = np.empty(n, dtype=np.int64)
    weights = np.empty(k, dtype=np.float64)
    counts = np.empty(k, dtype=np.int64)
    inertia = _kernels.kmeans_step(x, c, w, labels, None, new_c, weights, counts,
                                   _scratch(x, c), nt)
    return KMeansStepResult(new_c, labels, x.dtype.type(inertia), counts, weights,
                            weights == 0)


def _same_array(a, b):
    """a and b view exactly the same memory, element for element."""
    return (a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
            and a.shape == b.shape and a.strides == b.strides and a.dtype == b.dtype)
