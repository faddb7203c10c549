"""Curvature at a point: extreme Hessian eigenvalues (Lanczos) and the trace (Hutchinson),
from Hessian-vector products: exact ones when the objective provides them (a
`NetworkObjective` of a supported MLP: see `_hvp`), else central differences of
gradients."""
import numpy as np

from ._checks import as_parameter_vector, check_positive_int

__all__ = ["hessian_eigs", "hessian_trace", "HessianEigs", "TraceEstimate"]

_WHICH = ("LA", "SA", "LM")


class _HessianVectorProduct:
    """v -> H v by a central difference of gradients along v.

    ``H v ~ (g(theta + h u) - g(theta - h u)) / (2 h) * |v|`` with ``u = v / |v|`` and
    ``h = eps ** (1/3) * max(1, |theta|)`` (eps of theta's dtype): the step that balances
    the rounding error of the gradients (~ eps |g| / h) against the truncation error
    (~ h^2 times the third derivative). Exact up to rounding when J is quadratic.
    """

    def __init__(self, grad_fn, theta):
        self.grad_fn = getattr(grad_fn, "grad", grad_fn)
        if not callable(self.grad_fn):
            raise TypeError(f"grad_fn must be a callable theta -> gradient (or an objective "
                            f"with a .grad method), got {type(grad_fn).__name__}")
        self.theta = theta
        # an objective that knows its exact products (NetworkObjective of a supported
        # MLP) gives them; finite differences of gradients otherwise
        self.exact = (getattr(grad_fn, "hvp", None)
                      if getattr(grad_fn, "exact_hvp_unavailable", True) is None else None)
        self.step = float(np.cbrt(np.finfo(theta.dtype).eps)
                          * max(1.0, float(np.linalg.norm(theta))))
        self.n_gradients = 0

    def _gradient(self, point, where):
        g = np.asarray(self.grad_fn(point))
        self.n_gradients += 1
        if g.shape != self.theta.shape:
            raise ValueError(f"grad_fn returned shape {g.shape} at {where}, expected "
                             f"{self.theta.shape} (one entry per parameter)")
        if not np.isfinite(g).all():
            raise ValueError(f"grad_fn returned a non-finite gradient at {where}")
        return g.astype(np.float64)

    def __call__(self, v):
        if self.exact is not None:
            return np.asarray(self.exact(self.theta, v), dtype=np.float64)
        norm = float(np.linalg.norm(v))
        if norm == 0.0:
            return np.zeros_like(v)
        shift = (self.step / norm * v).astype(self.theta.dtype)
        plus = self._gradient(self.theta + shift, "theta + h v")
        minus = self._gradient(self.theta - shift, "theta - h v")
        return (plus - minus) * (norm / (2.0 * self.step))


class HessianEigs:
    """Extreme eigenpairs of the Hessian (see `hessian_eigs`).

    Attributes
    ----------
    values : ndarray (k,) float64
        In the order asked for (``which``).
    vectors : ndarray (k, n) float64
        Unit eigenvectors (Ritz vectors), one per row.
    residuals : ndarray (k,)
        Lanczos residual norms ``|H v - lambda v|`` (estimated).
    n_iterations, n_gradients : int
        Lanczos steps and gradient evaluations spent.
    """

    def __init__(self, values, vectors, residuals, n_iterations, n_gradients):
        self.values, self.vectors, self.residuals = values, vectors, residuals
        self.n_iterations, self.n_gradients = n_iterations, n_gradients

    def __repr__(self):
        return f"HessianEigs(values={self.values.tolist()}, n_iterations={self.n_iterations})"


def _pick(ritz, which, k):
    if which == "LA":
        order = np.argsort(-ritz, kind="stable")
    elif which == "SA":
        order = np.argsort(ritz, kind="stable")
    else:
        order = np.argsort(-np.abs(ritz), kind="stable")
    return order[:k]


def _orthogonal_start(rng, basis):
    v = rng.standard_normal(basis.shape[1])
    for _ in range(2):
        v -= basis.T @ (basis @ v)
    return v / np.linalg.norm(v)


def hessian_eigs(grad_fn, theta, k=1, seed=0, *, which="LA", tol=1e-9, max_iter=None):
    """The k extreme eigenvalues of the Hessian of J at theta, by Lanczos.

    Lanczos iteration with full reorthogonalization on Hessian-vector products: exact
    ones when `grad_fn` provides them (a `NetworkObjective` of an MLP with ReLU,
    LeakyReLU, Tanh or Sigmoid and a cross-entropy or MSE loss: the R-operator, see its
    ``hvp``), else each a central difference of two gradients (step ``h = eps**(1/3) *
    max(1, |theta|)`` along a unit vector, eps of theta's dtype; exact up to rounding
    when J is quadratic).
    It stops when the k Ritz pairs' residuals fall below ``tol * max(1, |lambda|)``, at
    `max_iter` steps, or when the Krylov space spans all n dimensions (then the values are
    those of the n x n projected Hessian). A Krylov space that closes early (an invariant
    subspace) is continued from a fresh random vector, so repeated eigenvalues are found
    with their multiplicity.

    Parameters
    ----------
    grad_fn : callable theta -> gradient (n,), or an objective with ``.grad(theta)`` (and
        ``.hvp(theta, v)`` for exact products)
    theta : array_like (n,), finite
    k : int, 1 <= k <= n, default 1
    seed : int or None, default 0
        Seeds the random start vector.
    which : {"LA", "SA", "LM"}, default "LA"
        Largest algebraic (the top of the spectrum, sharpness), smallest algebraic
        (negative curvature), or largest magnitude.
    tol : float > 0, default 1e-9
    max_iter : int, optional
        Lanczos steps at most (default ``min(n, max(2 k + 40, 60))``).

    Returns
    -------
    HessianEigs
        ``.values`` (k,), ``.vectors`` (k, n), ``.residuals``, ``.n_iterations``,
        ``.n_gradients``.

    Raises
    ------
    ValueError, TypeError
        Non-finite theta, k out of range, bad which/tol/max_iter, a gradient of the wrong
        shape or not finite (the error says where).

    Examples
    --------
    >>> import numpy as np
    >>> from fastloss import landscape
    >>> H = np.diag([3.0, -1.0, 0.5])
    >>> eigs = landscape.hessian_eigs(lambda t: H @ t, np.ones(3), k=2)
    >>> eigs.values.round(8).tolist()
    [3.0, 0.5]
    """
    theta = as_parameter_vector("theta", theta)
    n = theta.size
    k = check_positive_int("k", k)
    if k > n:
        raise ValueError(f"k={k} eigenvalues asked of a Hessian of size {n}")
    if which not in _WHICH:
        raise ValueError(f"which must be one of {_WHICH}, got {which!r}")
    if not (isinstance(tol, (int, float)) and tol > 0):
        raise ValueError(f"tol must be a positive number, got {tol!r}")
    max_iter = (min(n, max(2 * k + 40, 60)) if max_iter is None
                else min(n, check_positive_int("max_iter", max_iter)))
    if max_iter < k:
        raise ValueError(f"max_iter={max_iter} is below k={k}")
    hvp = _HessianVectorProduct(grad_fn, theta)
    rng = np.random.default_rng(seed)
    basis = np.zeros((max_iter, n))
    basis[0] = _orthogonal_start(rng, basis[:0])
    diagonal, off_diagonal = [], []
    for j in range(max_iter):
        w = hvp(basis[j])
        alpha = float(w @ basis[j])
        diagonal.append(alpha)
        for _ in range(2):  # twice is enough (Kahan), once is not in floating point
            w -= basis[:j + 1].T @ (basis[:j + 1] @ w)
        beta = float(np.linalg.norm(w))
        ritz, vecs = np.linalg.eigh(np.diag(diagonal) + np.diag(off_diagonal, 1)
                                    + np.diag(off_diagonal, -1))
        if j + 1 == max_iter:
            break
        scale = max(np.max(np.abs(ritz)), np.finfo(np.float64).tiny)
        if beta <= np.sqrt(np.finfo(np.float64).eps) * scale:  # an invariant subspace
            off_diagonal.append(0.0)
            basis[j + 1] = _orthogonal_start(rng, basis[:j + 1])
            continue
        chosen = _pick(ritz, which, k)
        residuals = beta * np.abs(vecs[-1, chosen])
        if chosen.size == k and np.all(residuals <= tol * np.maximum(1.0, np.abs(ritz[chosen]))):
            break
        off_diagonal.append(beta)
        basis[j + 1] = w / beta
    steps = len(diagonal)
    chosen = _pick(ritz, which, k)
    last_beta = beta if steps < n else 0.0
    vectors = (basis[:steps].T @ vecs[:, chosen]).T
    return HessianEigs(ritz[chosen], vectors, last_beta * np.abs(vecs[-1, chosen]), steps,
                       hvp.n_gradients)


class TraceEstimate(float):
    """A float (the estimate) with ``.std_error`` (NaN from one sample) and ``.samples``
    (each probe's ``z^T H z``)."""

    def __new__(cls, samples):
        estimate = super().__new__(cls, float(np.mean(samples)))
        estimate.samples = samples
        estimate.std_error = (float(np.std(samples, ddof=1) / np.sqrt(samples.size))
                              if samples.size > 1 else float("nan"))
        return estimate

    def __repr__(self):
        return f"TraceEstimate({float(self)!r}, std_error={self.std_error!r})"


def hessian_trace(grad_fn, theta, n_samples=100, seed=0):
    """The trace of the Hessian of J at theta, by Hutchinson's estimator.

    ``tr H = E[z^T H z]`` for z with independent Rademacher (+-1) entries; each
    ``H z`` is a central difference of two gradients (as in `hessian_eigs`). The
    estimate's variance is ``2 sum_{i != j} H_ij^2 / n_samples``: exact for a diagonal
    Hessian.

    Parameters
    ----------
    grad_fn : callable theta -> gradient (n,), or an objective with ``.grad(theta)``
    theta : array_like (n,), finite
    n_samples : int >= 1, default 100
        Probes (2 gradients each).
    seed : int or None, default 0
        Seeds the probes.

    Returns
    -------
    TraceEstimate
        A float, with ``.std_error`` and ``.samples``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastloss import landscape
    >>> round(landscape.hessian_trace(lambda t: np.array([2.0, 6.0]) * t, np.ones(2),
    ...                               n_samples=5), 8)
    8.0
    """
    theta = as_parameter_vector("theta", theta)
    n_samples = check_positive_int("n_samples", n_samples)
    hvp = _HessianVectorProduct(grad_fn, theta)
    rng = np.random.default_rng(seed)
    samples = np.empty(n_samples)
    for s in range(n_samples):
        z = rng.integers(0, 2, theta.size) * 2.0 - 1.0
        samples[s] = z @ hvp(z)
    return TraceEstimate(samples)
