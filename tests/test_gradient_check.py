"""fastloss.gradcheck: closed forms, wrong gradients caught at the right index, float32,
the input left alone, coordinate subsets, bad input, and every loss family checked."""

import numpy as np
import pytest

import fastloss
from fastloss import GradcheckResult, gradcheck

from conftest import case

DTYPES = [np.float32, np.float64]
DTYPE_IDS = ["f32", "f64"]


def quadratic(A, b):
    """f(x) = 0.5 x.A.x + b.x over a flattened x, gradient A_sym x + b (closed form)."""
    def f(x):
        v = x.reshape(-1).astype(np.float64)
        return 0.5 * v @ A @ v + b @ v, ((A + A.T) / 2 @ v + b).reshape(x.shape)
    return f


def exp_log(x):
    """sum(exp(x) + log(x) + x^3) with gradient exp(x) + 1/x + 3x^2 (for x > 0)."""
    return float(np.sum(np.exp(x) + np.log(x) + x**3)), np.exp(x) + 1 / x + 3 * x**2


def log_sum_exp(x):
    """log sum exp(x), gradient softmax(x), in the dtype of x."""
    m = x.max()
    e = np.exp(x - m)
    return m + np.log(e.sum()), e / e.sum()


# --- closed forms ----------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 2)])
def test_quadratic_passes_and_matches_the_closed_form(shape):
    rng = np.random.default_rng(1)
    n = int(np.prod(shape))
    A = rng.standard_normal((n, n))
    b = rng.standard_normal(n)
    theta = rng.standard_normal(shape)
    result = gradcheck(quadratic(A, b), theta)
    expected = ((A + A.T) / 2 @ theta.reshape(-1) + b).reshape(shape)
    assert result.passed, str(result)
    assert result.max_rel_error < 1e-8, str(result)
    # central differences are exact on a quadratic, up to rounding
    np.testing.assert_allclose(result.numerical, expected, rtol=1e-8, atol=1e-9)
    np.testing.assert_array_equal(result.analytical, expected)
    assert result.numerical.shape == shape and result.rel_error.shape == shape
    assert result.value == quadratic(A, b)(theta)[0]


def test_exp_log_passes_with_separate_grad():
    theta = np.linspace(0.2, 3.0, 12).reshape(3, 4)
    result = gradcheck(lambda x: exp_log(x)[0], theta, grad=lambda x: exp_log(x)[1])
    assert result.passed, str(result)
    np.testing.assert_allclose(result.numerical, np.exp(theta) + 1 / theta + 3 * theta**2,
                               rtol=1e-8)


def test_zero_dimensional_theta():
    result = gradcheck(lambda x: (np.sin(x), np.cos(x)), np.float64(0.7))
    assert result.passed and result.index == () and result.numerical.shape == ()
    assert result.numerical_at == pytest.approx(np.cos(0.7), rel=1e-9)


def test_step_is_relative_and_eps_is_used():
    # d/dx x^3 by central differences is 3x^2 + h^2 exactly: the step is visible
    x0, eps = 4.0, 1e-3
    result = gradcheck(lambda x: (float(x[0] ** 3), 3 * x**2), np.array([x0]), eps=eps,
                       rtol=1e-3)
    h = eps * x0  # |x0| > 1: the step scales with it
    assert result.numerical_at == pytest.approx(3 * x0**2 + h**2, rel=1e-9)
    small = gradcheck(lambda x: (float(x[0] ** 3), 3 * x**2), np.array([0.25]), eps=eps,
                      rtol=1e-3)
    assert small.numerical_at == pytest.approx(3 * 0.25**2 + eps**2, rel=1e-9)


def test_default_steps_are_cbrt_of_machine_epsilon():
    seen = []

    def f(x):
        seen.append(float(x[0]))
        return float(x[0]) ** 2, 2 * x

    gradcheck(f, np.array([0.5]))
    assert seen[1] - seen[2] == pytest.approx(2 * np.finfo(np.float64).eps ** (1 / 3),
                                              rel=1e-9)
    seen.clear()
    gradcheck(f, np.array([0.5], dtype=np.float32))
    # the float32 points are rounded: within one float32 spacing at 0.5
    assert seen[1] - seen[2] == pytest.approx(2 * np.finfo(np.float32).eps ** (1 / 3),
                                              rel=0, abs=float(np.spacing(np.float32(0.5))))


def test_zero_and_tiny_gradients_use_the_absolute_floor():
    # both zero: error 0; 1e-13 against an exact 0 is below atol, not a relative blow-up
    result = gradcheck(lambda x: (0.0 * float(x.sum()), np.zeros_like(x)), np.ones(3))
    assert result.passed and result.max_rel_error == 0.0
    result = gradcheck(lambda x: (1.0, np.full_like(x, 1e-13)), np.ones(3))
    assert result.passed, str(result)


# --- wrong gradients -------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("where", [(0, 0), (2, 3), (1, 1)])
def test_a_wrong_entry_is_caught_at_its_index(dtype, where):
    rng = np.random.default_rng(2)
    theta = rng.uniform(0.5, 2.0, (3, 4)).astype(dtype)

    def f(x):
        value, g = exp_log(x.astype(np.float64))
        g = g.copy()
        g[where] *= 1.05
        return value, g

    result = gradcheck(f, theta)
    msg = case(dtype=dtype, where=where)
    assert not result.passed and not bool(result), msg
    assert result.index == where, msg
    t = float(theta[where])
    true = np.exp(t) + 1 / t + 3 * t**2
    assert result.analytical_at == pytest.approx(1.05 * true, rel=1e-7), msg
    assert result.numerical_at == pytest.approx(true, rel=1e-3 if dtype == np.float32
                                                else 1e-8), msg
    assert result.max_rel_error == pytest.approx(0.05 / 1.05, rel=1e-2), msg
    assert str(where) in str(result) and "FAILED" in str(result), msg


def test_wrong_sign_and_transposed_gradients_fail():
    rng = np.random.default_rng(3)
    A, b = rng.standard_normal((6, 6)), rng.standard_normal(6)
    theta = rng.standard_normal((2, 3))
    f = quadratic(A, b)
    assert not gradcheck(lambda x: (f(x)[0], -f(x)[1]), theta).passed
    assert not gradcheck(lambda x: (f(x)[0], f(x)[1].T.reshape(2, 3)), theta).passed


def test_nan_gradient_fails_and_points_to_it():
    def f(x):
        g = 2 * x
        g[3] = np.nan
        return float(x @ x), g
    result = gradcheck(f, np.arange(1.0, 7.0))
    assert not result.passed and result.index == (3,)
    assert np.isnan(result.max_rel_error)


def test_infinite_value_next_to_theta_fails():
    def f(x):  # blows up just right of x[1] = 2
        return (np.inf if x[1] > 2 else float(x.sum())), np.ones_like(x)
    result = gradcheck(f, np.array([1.0, 2.0, 3.0]))
    assert not result.passed and result.index == (1,)
    assert np.isinf(result.numerical_at) and np.isnan(result.max_rel_error)


def test_infinite_value_at_theta_fails():
    def f(x):  # 1/|x0|: infinite at theta, finite at the perturbed points
        with np.errstate(divide="ignore"):
            return float(1 / abs(x[0])), np.zeros_like(x)
    result = gradcheck(f, np.array([0.0, 1.0]))
    assert not result.passed and np.isnan(result.max_rel_error)


def test_step_that_rounds_away_is_refused():
    with pytest.raises(ValueError, match=r"eps=1e-12 is too small: theta.flat\[0\] = 1.0"):
        gradcheck(good, np.ones(3, dtype=np.float32), eps=1e-12)


# --- float32 ---------------------------------------------------------------------------

def test_float32_function_sees_float32_and_passes():
    dtypes = set()

    def f(x):
        dtypes.add(x.dtype)
        return log_sum_exp(x)

    theta = np.random.default_rng(4).standard_normal(20).astype(np.float32)
    result = gradcheck(f, theta)
    assert dtypes == {np.dtype(np.float32)}
    assert result.passed, str(result)
    assert result.rtol == 1e-2 and result.atol == 1e-5
    assert result.numerical.dtype == np.float64 and result.analytical.dtype == np.float64
    # the differences of a float32 function still agree with the float64 closed form
    exact = np.exp(theta.astype(np.float64)) / np.exp(theta.astype(np.float64)).sum()
    np.testing.assert_allclose(result.numerical, exact, rtol=2e-2, atol=1e-4)


def test_float32_step_is_the_difference_of_the_rounded_points():
    # f(x) = 3x on a float32 point whose +-h does not round symmetrically: dividing by the
    # actual float32 step gives the slope exactly, dividing by 2h would not
    theta = np.array([1.1], dtype=np.float32)
    result = gradcheck(lambda x: (3.0 * float(x[0]), np.full(1, 3.0)), theta, rtol=1e-12,
                       atol=0.0)
    assert result.numerical_at == 3.0


def test_float32_wrong_gradient_is_caught():
    theta = np.random.default_rng(5).standard_normal(30).astype(np.float32)

    def f(x):
        value, g = log_sum_exp(x)
        return value, g * np.float32(1.1)

    result = gradcheck(f, theta)
    assert not result.passed, str(result)


def test_integer_theta_becomes_float64():
    result = gradcheck(lambda x: (float(x @ x), 2 * x), np.array([1, 2, 3], dtype=np.int32))
    assert result.passed and result.analytical.tolist() == [2.0, 4.0, 6.0]


# --- the caller's arrays ---------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_theta_is_left_unchanged(dtype):
    theta = np.random.default_rng(6).uniform(0.5, 2, (4, 3)).astype(dtype)
    before = theta.copy()
    gradcheck(lambda x: exp_log(x.astype(np.float64)), theta)
    np.testing.assert_array_equal(theta, before)
    frozen = before.copy()
    frozen.flags.writeable = False
    assert gradcheck(lambda x: exp_log(x.astype(np.float64)), frozen).passed


def test_gradient_returned_as_a_reused_buffer_is_copied():
    buffer = np.empty(4)

    def f(x):
        np.multiply(x, 2.0, out=buffer)  # later calls overwrite it
        return float(x @ x), buffer

    result = gradcheck(f, np.array([1.0, -2.0, 3.0, 0.5]))
    assert result.passed, str(result)
    assert result.analytical.tolist() == [2.0, -4.0, 6.0, 1.0]


def test_f_that_modifies_its_argument_is_refused():
    def f(x):
        x *= 1.0000001
        return float(x @ x), 2 * x
    with pytest.raises(ValueError, match="f modified the array"):
        gradcheck(f, np.ones(3))


# --- coordinate subsets ----------------------------------------------------------------

def test_random_subset_is_seeded_and_checks_only_those():
    calls = []

    def f(x):
        calls.append(1)
        return float(np.sum(x**2)), 2 * x

    theta = np.random.default_rng(7).standard_normal((10, 10))
    result = gradcheck(f, theta, n_coords=7, seed=3)
    assert len(calls) == 1 + 2 * 7
    assert result.checked.size == 7 and np.all(np.diff(result.checked) > 0)
    assert np.isfinite(result.numerical).sum() == 7
    assert np.isnan(result.rel_error).sum() == 100 - 7
    flat = result.numerical.reshape(-1)
    np.testing.assert_allclose(flat[result.checked], 2 * theta.reshape(-1)[result.checked],
                               rtol=1e-7)
    again = gradcheck(f, theta, n_coords=7, seed=3)
    np.testing.assert_array_equal(again.checked, result.checked)
    other = gradcheck(f, theta, n_coords=7, seed=4)
    assert not np.array_equal(other.checked, result.checked)
    assert gradcheck(f, theta, n_coords=100).checked.tolist() == list(range(100))


# --- bad input -------------------------------------------------------------------------

def good(x):
    return float(x @ x), 2 * x


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(f=3), TypeError, "f must be callable, got int"),
    (dict(grad="g"), TypeError, "grad must be callable or None, got str"),
    (dict(theta="abc"), TypeError, "theta must be a float32 or float64 array, got dtype"),
    (dict(theta=np.ones(2, dtype=complex)), TypeError, "got dtype complex128"),
    (dict(theta=np.ones(2, dtype=np.int64)), TypeError, "got dtype int64"),
    (dict(theta=np.ones((0, 2))), ValueError, r"at least one entry, got shape \(0, 2\)"),
    (dict(eps=0.0), ValueError, "eps must be finite and > 0, got 0.0"),
    (dict(eps=-1e-6), ValueError, "eps must be finite and > 0"),
    (dict(eps=float("nan")), ValueError, "eps must be finite and > 0, got nan"),
    (dict(eps="small"), TypeError, "eps must be a real number, got 'small'"),
    (dict(eps=True), TypeError, "eps must be a real number, got True"),
    (dict(rtol=0), ValueError, "rtol must be finite and > 0, got 0"),
    (dict(atol=-1.0), ValueError, "atol must be finite and >= 0, got -1.0"),
    (dict(atol=float("inf")), ValueError, "atol must be finite and >= 0, got inf"),
    (dict(n_coords=0), ValueError, r"n_coords must be in \[1, 3\] \(theta's size\), got 0"),
    (dict(n_coords=4), ValueError, r"n_coords must be in \[1, 3\].*got 4"),
    (dict(n_coords=1.5), TypeError, "n_coords must be an int or None, got 1.5"),
    (dict(f=lambda x: float(x @ x)), TypeError, "f must return a \\(value, gradient\\) pair"),
    (dict(f=lambda x: (x, 2 * x)), TypeError, "f must return a real scalar value"),
    (dict(f=lambda x: ("1", 2 * x)), TypeError, "f must return a real scalar value, got '1'"),
    (dict(f=lambda x: (1.0, np.ones(4))), ValueError,
     r"f's gradient must have theta's shape \(3,\), got \(4,\)"),
    (dict(f=lambda x: float(x @ x), grad=lambda x: np.ones((3, 1))), ValueError,
     r"grad must have theta's shape \(3,\), got \(3, 1\)"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_bad_input(kwargs, error, match):
    args = dict(f=good, theta=np.array([1.0, 2.0, 3.0]))
    args.update(kwargs)
    with pytest.raises(error, match=match):
        gradcheck(args.pop("f"), args.pop("theta"), **args)


# --- the fastloss losses ---------------------------------------------------------------

def _labels(rng, n, c):
    return rng.integers(0, c, n)


def _away_from(values, kinks, gap):
    """True when no value is within `gap` of a kink (central differences are exact
    only on smooth pieces)."""
    return all(np.min(np.abs(values - k)) > gap for k in kinks)


LOSSES = {
    "MSELoss": lambda rng, x, r: (fastloss.MSELoss(reduction=r), rng.standard_normal(x.shape)),
    "HuberLoss": lambda rng, x, r: (fastloss.HuberLoss(reduction=r, delta=0.7),
                                    x + rng.choice([-1.5, -0.3, 0.3, 1.5], x.shape)),
    "BCEWithLogitsLoss": lambda rng, x, r: (fastloss.BCEWithLogitsLoss(reduction=r),
                                            rng.uniform(0, 1, x.shape)),
    "CrossEntropyLoss": lambda rng, x, r: (
        fastloss.CrossEntropyLoss(reduction=r, label_smoothing=0.1,
                                  weight=rng.uniform(0.5, 2, x.shape[1])),
        _labels(rng, *x.shape)),
    "MultiMarginLoss": lambda rng, x, r: (fastloss.MultiMarginLoss(reduction=r, p=2),
                                          _labels(rng, *x.shape)),
    "KLDivLoss": lambda rng, x, r: (
        fastloss.KLDivLoss(reduction="batchmean" if r == "mean" else r),
        np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)),
}


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_fastloss_losses_pass(name, dtype, reduction):
    rng = np.random.default_rng(8)
    logits = rng.standard_normal((6, 4))
    loss, target = LOSSES[name](rng, logits, reduction)
    if np.asarray(target).dtype.kind == "f":
        target = np.asarray(target, dtype=dtype)
    if name == "HuberLoss":
        assert _away_from(np.abs(logits - target), [0.7], 0.1)
    if name == "MultiMarginLoss":
        picked = logits[np.arange(6), target][:, None]
        assert _away_from(logits - picked + 1.0, [0.0], 1e-3)
    result = gradcheck(lambda z: loss.value_and_grad(z, target), logits.astype(dtype))
    assert result.passed, f"{name}: {case(dtype=dtype, reduction=reduction)}: {result}"


def test_multimargin_hinge_p1_away_from_kinks():
    rng = np.random.default_rng(9)
    scores = rng.standard_normal((5, 3)) * 2
    target = _labels(rng, 5, 3)
    assert _away_from(scores - scores[np.arange(5), target][:, None] + 1.0, [0.0], 1e-3)
    loss = fastloss.MultiMarginLoss(p=1)
    assert gradcheck(lambda z: loss.value_and_grad(z, target), scores).passed


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("reg", [fastloss.L2(0.3), fastloss.L1(0.2),
                                 fastloss.ElasticNet(alpha=0.4, l1_ratio=0.3)],
                         ids=["L2", "L1", "ElasticNet"])
def test_regularizers_pass_away_from_zero(reg, dtype):
    W = np.random.default_rng(10).standard_normal((4, 5))
    W[np.abs(W) < 0.05] = 0.5  # |w| has a kink at 0
    result = gradcheck(lambda w: (reg([w]), reg.grad([w])[0]), W.astype(dtype))
    assert result.passed, f"{reg!r}: {case(dtype=dtype)}: {result}"


def test_result_type_and_report():
    result = gradcheck(good, np.array([1.0, 2.0]))
    assert isinstance(result, GradcheckResult) and bool(result)
    assert str(result).startswith("gradcheck passed: max relative error")
    assert "2 of 2 coordinates checked" in str(result)
