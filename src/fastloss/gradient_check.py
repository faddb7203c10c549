"""Gradient checking by central differences.

`gradcheck` compares the gradient a function reports with central differences of its
value, coordinate by coordinate, and says where the two disagree most. It is how the
test suite checks every loss, layer and network, and how a user checks their own.
"""
import numbers
from dataclasses import dataclass

import numpy as np

from ._validation import check_real

__all__ = ["gradcheck", "GradcheckResult"]

# Relative step: cbrt(machine epsilon) balances the O(h^2) truncation error of central
# differences against the O(eps / h) rounding error of the value.
DEFAULT_EPS = {np.dtype(np.float64): float(np.cbrt(np.finfo(np.float64).eps)),
               np.dtype(np.float32): float(np.cbrt(np.finfo(np.float32).eps))}
DEFAULT_TOL = {np.dtype(np.float64): dict(rtol=1e-6, atol=1e-10),
               np.dtype(np.float32): dict(rtol=1e-2, atol=1e-5)}
# How many units of rounding of f's value a difference quotient is allowed to carry.
VALUE_ROUNDING_UNITS = 8


@dataclass(frozen=True, eq=False)
class GradcheckResult:
    """What `gradcheck` found. True in a boolean context when the check passed.

    Attributes
    ----------
    passed : bool
        ``max_rel_error <= rtol`` (False if any checked entry is NaN).
    max_rel_error : float
        The worst relative error over the checked coordinates.
    index : tuple of int
        Where it is, as an index into theta (``theta[index]``).
    numerical_at, analytical_at : float
        The central difference and the reported gradient at `index`.
    numerical : ndarray of float64, theta's shape
        Central differences; NaN at coordinates not checked.
    analytical : ndarray of float64, theta's shape
        The gradient f reported at theta.
    rel_error : ndarray of float64, theta's shape
        ``|numerical - analytical| / max(|numerical|, |analytical|, floor)``; NaN at
        coordinates not checked. ``floor = (atol + noise) / rtol``, where noise is
        the rounding of f's value divided by the step (what the dtype can resolve).
    checked : ndarray of int64
        Flat indices of the checked coordinates, ascending.
    value : float
        f(theta).
    rtol, atol : float
        The tolerances used.
    """

    passed: bool
    max_rel_error: float
    index: tuple
    numerical_at: float
    analytical_at: float
    numerical: np.ndarray
    analytical: np.ndarray
    rel_error: np.ndarray
    checked: np.ndarray
    value: float
    rtol: float
    atol: float

    def __bool__(self):
        return self.passed

    def __str__(self):
        verdict = "passed" if self.passed else "FAILED"
        return (f"gradcheck {verdict}: max relative error {self.max_rel_error:.3g} "
                f"(rtol {self.rtol:.3g}, atol {self.atol:.3g}) at index {self.index}: "
                f"numerical {self.numerical_at!r}, analytical {self.analytical_at!r} "
                f"({self.checked.size} of {self.analytical.size} coordinates checked)")


def _as_theta(theta):
    a = np.asarray(theta)
    if a.dtype.kind == "f" and a.dtype.itemsize in (4, 8):
        working = np.array(a, dtype=a.dtype.newbyteorder("="), order="C", copy=True)
    elif a.dtype.kind in "iu" and a.dtype.itemsize <= 4:
        working = a.astype(np.float64, order="C")
    else:
        raise TypeError(f"theta must be a float32 or float64 array, got dtype {a.dtype.name}")
    if working.size == 0:
        raise ValueError(f"theta must have at least one entry, got shape {working.shape}")
    return working


def _coordinates(n_coords, size, seed):
    if n_coords is None:
        return np.arange(size, dtype=np.int64)
    if isinstance(n_coords, (bool, np.bool_)) or not isinstance(n_coords, numbers.Integral):
        raise TypeError(f"n_coords must be an int or None, got {n_coords!r}")
    if not 1 <= n_coords <= size:
        raise ValueError(f"n_coords must be in [1, {size}] (theta's size), got {n_coords}")
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(size, size=int(n_coords), replace=False)).astype(np.int64)


def _scalar(value, origin):
    """f's value as (float, the epsilon of its dtype)."""
    if isinstance(value, (bool, np.bool_)) or np.ndim(value) != 0 or \
            np.asarray(value).dtype.kind not in "fiu":
        raise TypeError(f"{origin} must return a real scalar value, got {value!r}")
    kind = np.asarray(value).dtype
    precision = kind if kind.kind == "f" else np.dtype(np.float64)
    return float(value), float(np.finfo(precision).eps)


def gradcheck(f, theta, eps=None, *, grad=None, rtol=None, atol=None, n_coords=None, seed=0):
    """Check a gradient against central differences of the value.

    For each checked coordinate i, with step ``h_i = eps * max(1, |theta_i|)``::

        numerical_i = (f(theta + h_i e_i) - f(theta - h_i e_i)) / (2 h_i)

    and the relative error ``|numerical_i - analytical_i| / max(|numerical_i|,
    |analytical_i|, floor_i)`` with ``floor_i = (atol + noise_i) / rtol``. The floor
    keeps gradients near zero from turning rounding into huge relative errors: below
    it, the check is absolute. ``noise_i = 8 * eps_f * max|f| / (2 h_i)`` is what the
    rounding of f's value (eps_f: machine epsilon of the dtype f returns) can do to the
    difference quotient, so a float32 function is not blamed for its format. The check
    passes when the worst relative error is at most `rtol`.

    Parameters
    ----------
    f : callable
        ``f(theta) -> (value, gradient)``; or, with `grad`, ``f(theta) -> value``. The
        value is a real scalar; the gradient has theta's shape. f receives a working
        copy of theta that gradcheck changes between calls: f must not modify it or
        keep it (a gradient that is a view of a buffer f reuses is fine: it is copied).
    theta : array-like of float32 or float64
        The point. It is never modified. Integer arrays (up to 32 bits) become float64.
    eps : float, optional
        Relative step. Default ``cbrt(machine epsilon)`` of theta's dtype: 6.06e-6 for
        float64, 4.92e-3 for float32, which balances the O(h^2) truncation error
        against the O(eps_f / h) rounding error of the value.
    grad : callable, optional
        ``grad(theta) -> gradient``, for an f that returns the value alone.
    rtol, atol : float, optional
        Tolerances. Defaults: rtol=1e-6, atol=1e-10 for float64 theta; rtol=1e-2,
        atol=1e-5 for float32 theta, whose steps are large (truncation error ~1e-5
        relative) and whose values carry about 7 digits.
    n_coords : int, optional
        Check this many coordinates, drawn without replacement (seeded by `seed`);
        default all. The gradient itself is always computed in full.
    seed : int, default 0
        Seed of the coordinate draw.

    Returns
    -------
    GradcheckResult
        ``passed``, ``max_rel_error`` and its ``index`` with the ``numerical_at`` and
        ``analytical_at`` values there, and the full arrays. ``str(result)`` is a
        one-line report, and ``bool(result)`` is ``result.passed``.

    Notes
    -----
    float32: the perturbed points are float32, so f sees the dtype it is meant for.
    The step is the float64 difference of the two rounded points (not ``2 h``, which
    float32 cannot represent exactly), and the values are subtracted in float64, so no
    precision is lost beyond the value's own rounding. All reported arrays are
    float64. A NaN or infinite value or gradient at a checked coordinate fails the
    check there (its relative error is NaN). Away from kinks only: at a kink (|x| at 0,
    hinge at the margin) the central difference is the mean of the one-sided slopes.

    Examples
    --------
    >>> import numpy as np
    >>> from fastloss import gradcheck
    >>> A = np.array([[3.0, 1.0], [1.0, 2.0]])
    >>> def quadratic(x):
    ...     return 0.5 * x @ A @ x, A @ x
    >>> result = gradcheck(quadratic, np.array([1.0, -2.0]))
    >>> result.passed, result.analytical.tolist()
    (True, [1.0, -3.0])
    >>> wrong = gradcheck(lambda x: 0.5 * x @ A @ x, np.array([1.0, -2.0]),
    ...                   grad=lambda x: A @ x * [1.0, 1.1])
    >>> wrong.passed, wrong.index, round(wrong.numerical_at, 6), wrong.analytical_at
    (False, (1,), -3.0, -3.3000000000000003)
    """
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    if grad is not None and not callable(grad):
        raise TypeError(f"grad must be callable or None, got {type(grad).__name__}")
    point = _as_theta(theta)
    dtype = point.dtype
    positive = dict(low=0.0, low_open=True)
    eps = DEFAULT_EPS[dtype] if eps is None else check_real("eps", eps, **positive)
    rtol = DEFAULT_TOL[dtype]["rtol"] if rtol is None else check_real("rtol", rtol, **positive)
    atol = DEFAULT_TOL[dtype]["atol"] if atol is None else check_real("atol", atol, low=0.0)
    checked = _coordinates(n_coords, point.size, seed)
    pristine = point.copy()

    def evaluate(x):
        """(value as a float, machine epsilon of its dtype, gradient or None)."""
        out = f(x)
        gradient = None
        if grad is None:
            if not (isinstance(out, tuple) and len(out) == 2):
                raise TypeError("f must return a (value, gradient) pair; for an f that "
                                "returns the value alone, pass grad=")
            out, gradient = out
        return (*_scalar(out, "f"), gradient)

    def changed_point_error():
        return ValueError("f modified the array it was given; it must treat theta as "
                          "read-only")

    value, value_eps, analytical = evaluate(point)
    origin = "f's gradient" if grad is None else "grad"
    if grad is not None:
        analytical = grad(point)
    analytical = np.array(analytical, dtype=np.float64, copy=True)
    if analytical.shape != point.shape:
        raise ValueError(f"{origin} must have theta's shape {point.shape}, "
                         f"got {analytical.shape}")
    if not np.array_equal(point, pristine, equal_nan=True):
        raise changed_point_error()

    flat = point.reshape(-1)
    numerical = np.full(point.size, np.nan)
    noise = np.full(point.size, np.nan)
    for i in checked:
        t = flat[i]
        h = eps * max(1.0, abs(float(t)))
        plus, minus = dtype.type(float(t) + h), dtype.type(float(t) - h)
        flat[i] = plus
        f_plus, eps_plus, _ = evaluate(point)
        flat[i] = minus
        f_minus, eps_minus, _ = evaluate(point)
        flat[i] = t
        step = float(plus) - float(minus)
        if step == 0.0:
            raise ValueError(f"eps={eps!r} is too small: theta.flat[{i}] = {float(t)!r} "
                             f"plus and minus the step round to the same {dtype.name}")
        numerical[i] = (f_plus - f_minus) / step
        biggest = max(abs(value), abs(f_plus), abs(f_minus))
        # an infinite value leaves the error NaN (a failure), never an infinite floor
        noise[i] = (VALUE_ROUNDING_UNITS * max(value_eps, eps_plus, eps_minus) * biggest / step
                    if np.isfinite(biggest) else np.nan)
    if not np.array_equal(point, pristine, equal_nan=True):
        raise changed_point_error()

    ana = analytical.reshape(-1)
    rel = np.full(point.size, np.nan)
    with np.errstate(invalid="ignore"):
        diff = np.abs(numerical[checked] - ana[checked])
        floor = (atol + noise[checked]) / rtol
        rel[checked] = diff / np.maximum(np.maximum(np.abs(numerical[checked]),
                                                    np.abs(ana[checked])), floor)
    bad = np.isnan(rel[checked])
    worst = checked[np.argmax(bad)] if bad.any() else checked[np.argmax(rel[checked])]
    max_rel = float(rel[worst])
    return GradcheckResult(
        passed=bool(not bad.any() and max_rel <= rtol),
        max_rel_error=max_rel,
        index=tuple(int(k) for k in np.unravel_index(worst, point.shape)),
        numerical_at=float(numerical[worst]),
        analytical_at=float(ana[worst]),
        numerical=numerical.reshape(point.shape),
        analytical=analytical,
        rel_error=rel.reshape(point.shape),
        checked=checked,
        value=value,
        rtol=rtol,
        atol=atol,
    )
