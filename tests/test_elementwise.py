"""Regression and binary losses (fastloss.regression, fastloss.binary): values and
gradients against fastloss.reference over shapes x dtypes x options x reductions x
weights, finite differences, properties, extreme values, determinism and bad input."""
import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastloss
from fastloss.reference import _binary as rb
from fastloss.reference import _regression as rr

from conftest import (DTYPE_IDS, DTYPES, LOSS_RTOL, REDUCTIONS, assert_close, case,
                      numerical_grad, tol)


def _real_target(rng, shape):
    return rng.normal(0.0, 1.5, size=shape)


def _prob_target(rng, shape):
    y = rng.uniform(0.0, 1.0, size=shape)
    y.flat[::3] = 1.0          # hard labels mixed with soft ones
    y.flat[1::5] = 0.0
    return y


def _labels(rng, shape):
    return rng.choice([-1.0, 1.0], size=shape)


def _probabilities(rng, shape):
    return rng.uniform(0.02, 0.98, size=shape)


def _scores(rng, shape):
    return rng.normal(0.0, 2.0, size=shape)


# name -> (factory of the fastloss loss, reference terms, reference params, input, target)
LOSSES = {
    "mse": (lambda **kw: fastloss.MSELoss(**kw), rr.mse_terms, {}, _scores, _real_target),
    "l1": (lambda **kw: fastloss.L1Loss(**kw), rr.l1_terms, {}, _scores, _real_target),
    "huber": (lambda **kw: fastloss.HuberLoss(delta=0.7, **kw), rr.huber_terms,
              {"delta": 0.7}, _scores, _real_target),
    "smooth_l1": (lambda **kw: fastloss.SmoothL1Loss(beta=0.5, **kw), rr.smooth_l1_terms,
                  {"beta": 0.5}, _scores, _real_target),
    "smooth_l1_beta0": (lambda **kw: fastloss.SmoothL1Loss(beta=0.0, **kw),
                        rr.smooth_l1_terms, {"beta": 0.0}, _scores, _real_target),
    "log_cosh": (lambda **kw: fastloss.LogCoshLoss(**kw), rr.log_cosh_terms, {}, _scores,
                 _real_target),
    "quantile": (lambda **kw: fastloss.QuantileLoss(q=0.8, **kw), rr.quantile_terms,
                 {"q": 0.8}, _scores, _real_target),
    "bce": (lambda **kw: fastloss.BCELoss(**kw), rb.bce_terms, {}, _probabilities,
            _prob_target),
    "bce_logits": (lambda **kw: fastloss.BCEWithLogitsLoss(**kw), rb.bce_logits_terms, {},
                   _scores, _prob_target),
    "bce_logits_pos": (lambda **kw: fastloss.BCEWithLogitsLoss(pos_weight=2.5, **kw),
                       rb.bce_logits_terms, {"pos_weight": 2.5}, _scores, _prob_target),
    "hinge": (lambda **kw: fastloss.HingeLoss(**kw), rb.hinge_terms, {}, _scores, _labels),
    "squared_hinge": (lambda **kw: fastloss.SquaredHingeLoss(**kw), rb.squared_hinge_terms,
                      {}, _scores, _labels),
    "focal": (lambda **kw: fastloss.SigmoidFocalLoss(**kw), rb.sigmoid_focal_terms,
              {"alpha": 0.25, "gamma": 2.0}, _scores, _prob_target),
    "focal_g0_noalpha": (lambda **kw: fastloss.SigmoidFocalLoss(alpha=-1, gamma=0.0, **kw),
                         rb.sigmoid_focal_terms, {"alpha": -1, "gamma": 0.0}, _scores,
                         _prob_target),
    "focal_g05": (lambda **kw: fastloss.SigmoidFocalLoss(alpha=0.6, gamma=0.5, **kw),
                  rb.sigmoid_focal_terms, {"alpha": 0.6, "gamma": 0.5}, _scores,
                  _prob_target),
}
NAMES = list(LOSSES)
SHAPES = [(), (1,), (7,), (5, 3), (4, 3, 5), (2, 1, 9), (70, 130)]


def make_case(name, shape, dtype, seed):
    _, _, _, make_x, make_y = LOSSES[name]
    rng = np.random.default_rng(seed)
    return make_x(rng, shape).astype(dtype), make_y(rng, shape).astype(dtype)


def check_against_reference(name, x, y, dtype, reduction, sample_weight=None, msg=""):
    factory, terms, params, _, _ = LOSSES[name]
    value, grad = factory(reduction=reduction).value_and_grad(x, y, sample_weight)
    want_value, want_grad = rr.elementwise_value_and_grad(terms, x, y, sample_weight,
                                                          reduction, **params)
    if reduction == "none":
        assert np.shape(value) == x.shape, msg
        assert_close(value, want_value, dtype, "value: " + msg)
    else:
        assert isinstance(value, np.dtype(dtype).type), (type(value), msg)
        np.testing.assert_allclose(value, want_value, rtol=LOSS_RTOL[np.dtype(dtype)],
                                   atol=0, err_msg="value: " + msg)
    assert grad.shape == x.shape and grad.dtype == dtype, msg
    assert_close(grad, want_grad, dtype, "grad: " + msg)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", NAMES)
def test_matches_reference(name, shape, dtype, reduction):
    x, y = make_case(name, shape, dtype, seed=len(shape))
    check_against_reference(name, x, y, dtype, reduction,
                            msg=case(name=name, shape=shape, dtype=dtype, reduction=reduction))


# weight shapes for an input of shape (6, 4, 5): scalar, per column, per row (read in
# place), a full array, and broadcasts that need expanding
WEIGHT_SHAPES = [(), (5,), (1, 1, 5), (6, 4, 1), (6, 4, 5), (4, 1), (6, 1, 5), (1, 4, 5)]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("wshape", WEIGHT_SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("name", ["mse", "huber", "bce", "bce_logits", "hinge", "focal"])
def test_sample_weight_broadcasts(name, dtype, wshape, reduction):
    x, y = make_case(name, (6, 4, 5), dtype, seed=3)
    w = np.random.default_rng(4).uniform(0.0, 2.0, size=wshape)
    check_against_reference(name, x, y, dtype, reduction, sample_weight=w,
                            msg=case(name=name, dtype=dtype, wshape=wshape,
                                     reduction=reduction))


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_bce_weight_and_sample_weight_multiply(dtype):
    x, y = make_case("bce", (6, 5), dtype, seed=5)
    w = np.linspace(0.5, 1.5, 5)
    sw = np.linspace(0.0, 2.0, 6)[:, None]
    got = fastloss.BCELoss(weight=w, reduction="sum").value_and_grad(x, y, sw)
    want = rr.elementwise_value_and_grad(rb.bce_terms, x, y, w * sw, "sum")
    np.testing.assert_allclose(got[0], want[0], rtol=LOSS_RTOL[np.dtype(dtype)])
    assert_close(got[1], want[1], dtype)


@pytest.mark.parametrize("shape", [(5,), (4, 6)], ids=str)
@pytest.mark.parametrize("pw_shape", [(), (6,), (4, 6)], ids=str)
def test_pos_weight_broadcasts(shape, pw_shape):
    if len(pw_shape) > len(shape) or (pw_shape and pw_shape[-1] != shape[-1]):
        pytest.skip("pos_weight does not broadcast to this input")
    rng = np.random.default_rng(6)
    x, y = _scores(rng, shape), _prob_target(rng, shape)
    pw = rng.uniform(0.5, 3.0, size=pw_shape)
    got = fastloss.BCEWithLogitsLoss(pos_weight=pw, reduction="none").value_and_grad(x, y)
    want = rr.elementwise_value_and_grad(rb.bce_logits_terms, x, y, None, "none",
                                         pos_weight=pw)
    assert_close(got[0], want[0], np.float64)
    assert_close(got[1], want[1], np.float64)


# ---- gradients by finite differences -------------------------------------------------

def _away_from_kinks(name, x, y):
    """Move entries that sit within 0.05 of a kink of the loss (where finite differences
    straddle two pieces) away from it."""
    d = x - y
    kinks = {"l1": [0.0], "huber": [-0.7, 0.7], "smooth_l1": [-0.5, 0.5], "quantile": [0.0],
             "smooth_l1_beta0": [0.0]}.get(name, [])
    for k in kinks:
        x = np.where(np.abs(d - k) < 0.05, x + 0.1, x)
        d = x - y
    if name in ("hinge", "squared_hinge"):
        m = 1.0 - y * x
        x = np.where(np.abs(m) < 0.05, x + 0.1 * y, x)
    return x


def _fd_step(name):
    """BCE's log(p) has large high derivatives near p = 0.02: a shorter step."""
    return 1e-4 if name == "bce" else 1e-3


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_finite_differences(name, reduction):
    x, y = make_case(name, (3, 4), np.float64, seed=11)
    x = _away_from_kinks(name, x, y)
    w = np.random.default_rng(12).uniform(0.5, 1.5, size=(3, 1))
    loss = LOSSES[name][0](reduction=reduction)
    _, grad = loss.value_and_grad(x, y, w)
    want = numerical_grad(lambda z: loss(z, y, w), x, h=_fd_step(name))
    np.testing.assert_allclose(grad, want, rtol=1e-8, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("name", NAMES)
def test_none_gradient_is_each_entrys_own(name):
    x, y = make_case(name, (2, 3), np.float64, seed=13)
    x = _away_from_kinks(name, x, y)
    loss = LOSSES[name][0](reduction="none")
    _, grad = loss.value_and_grad(x, y)
    want = numerical_grad(lambda z: loss(z, y).sum(), x, h=_fd_step(name))
    np.testing.assert_allclose(grad, want, rtol=1e-8, atol=1e-10, err_msg=name)


# ---- the properties ------------------------------------------------------------

finite = st.floats(-1e3, 1e3, allow_nan=False)


@given(st.lists(st.tuples(finite, finite), min_size=1, max_size=30))
def test_regression_losses_are_non_negative(pairs):
    x, y = np.array(pairs).T
    for name in ("mse", "l1", "huber", "smooth_l1", "log_cosh", "quantile"):
        assert np.all(LOSSES[name][0](reduction="none")(x, y) >= 0), name


@given(st.lists(st.tuples(finite, st.sampled_from([-1.0, 1.0, 0.0])), min_size=1,
                max_size=30),
       st.floats(0.0, 1.0))
def test_binary_losses_are_non_negative(pairs, soft):
    x, y = np.array(pairs).T
    y01 = np.where(y == 0, soft, (y + 1) / 2)
    for name, target in (("bce_logits", y01), ("focal", y01), ("bce", y01),
                         ("hinge", np.where(y == 0, 1.0, y)),
                         ("squared_hinge", np.where(y == 0, -1.0, y))):
        inp = 1 / (1 + np.exp(-np.clip(x, -30, 30))) if name == "bce" else x
        assert np.all(LOSSES[name][0](reduction="none")(inp, target) >= 0), name


@given(st.lists(finite, min_size=1, max_size=30), st.floats(0.01, 100.0))
def test_huber_is_half_mse_inside_delta_and_linear_outside(d, delta):
    d = np.array(d)
    huber = fastloss.HuberLoss(delta=delta, reduction="none")(d, np.zeros_like(d))
    inside = np.abs(d) <= delta
    half_mse = fastloss.MSELoss(reduction="none")(d, np.zeros_like(d)) / 2
    np.testing.assert_allclose(huber[inside], half_mse[inside], rtol=1e-15)
    # outside: a line of slope delta through (delta, delta^2 / 2)
    line = delta ** 2 / 2 + delta * (np.abs(d) - delta)
    np.testing.assert_allclose(huber[~inside], line[~inside], rtol=1e-12)


def test_smooth_l1_is_huber_over_beta():
    rng = np.random.default_rng(14)
    x, y = rng.normal(size=50), rng.normal(size=50)
    for beta in (0.1, 1.0, 3.0):
        s = fastloss.SmoothL1Loss(beta=beta, reduction="none")(x, y)
        h = fastloss.HuberLoss(delta=beta, reduction="none")(x, y)
        np.testing.assert_allclose(s, h / beta, rtol=1e-14)


def test_quantile_half_is_half_the_absolute_error():
    rng = np.random.default_rng(15)
    x, y = rng.normal(size=40), rng.normal(size=40)
    np.testing.assert_allclose(fastloss.QuantileLoss(0.5)(x, y), fastloss.L1Loss()(x, y) / 2,
                               rtol=1e-15)


def test_hinge_accepts_zero_one_labels():
    rng = np.random.default_rng(16)
    x = rng.normal(size=30)
    y = rng.integers(0, 2, size=30)
    for cls in (fastloss.HingeLoss, fastloss.SquaredHingeLoss):
        a = cls(reduction="none").value_and_grad(x, y)
        b = cls(reduction="none").value_and_grad(x, 2.0 * y - 1.0)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


def test_kinks_use_zero_subgradient():
    z = np.zeros(3)
    assert np.all(fastloss.L1Loss().grad(z, z) == 0)
    assert np.all(fastloss.QuantileLoss(0.3).grad(z, z) == 0)
    assert np.all(fastloss.SmoothL1Loss(beta=0.0).grad(z, z) == 0)
    assert np.all(fastloss.HingeLoss().grad(np.ones(3), np.ones(3)) == 0)


# ---- extreme values ---------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_bce_with_logits_is_stable_for_huge_logits(dtype):
    big = 1e30 if dtype == np.float64 else 3e38
    x = np.array([big, -big, big, -big, 40.0, -40.0, 0.0], dtype=dtype)
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.5], dtype=dtype)
    value, grad = fastloss.BCEWithLogitsLoss(reduction="none").value_and_grad(x, y)
    want = rr.elementwise_value_and_grad(rb.bce_logits_terms, x, y, None, "none")
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad))
    assert_close(value, want[0], dtype)
    assert_close(grad, want[1], dtype)
    assert value[0] == 0 and value[2] == np.asarray(big, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_infinite_logits_take_the_limit(dtype):
    x = np.array([np.inf, -np.inf, np.inf, -np.inf], dtype=dtype)
    y = np.array([1.0, 0.0, 0.0, 1.0], dtype=dtype)
    value, grad = fastloss.BCEWithLogitsLoss(reduction="none").value_and_grad(x, y)
    np.testing.assert_array_equal(value, [0.0, 0.0, np.inf, np.inf])
    np.testing.assert_array_equal(grad, [0.0, 0.0, 1.0, -1.0])


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_log_cosh_is_stable_for_huge_residuals(dtype):
    d = np.array([1e30, -1e30, 1e-20, 0.0, 1e-3, 20.0], dtype=dtype)
    value, grad = fastloss.LogCoshLoss(reduction="none").value_and_grad(d, np.zeros_like(d))
    want = rr.elementwise_value_and_grad(rr.log_cosh_terms, d, np.zeros_like(d), None, "none")
    assert_close(value, want[0], dtype)
    np.testing.assert_allclose(value[2:5].astype(np.float64),
                               want[0][2:5].astype(np.float64), rtol=tol(dtype)["rtol"])
    assert_close(grad, want[1], dtype)


def test_bce_counts_clamped_entries():
    loss = fastloss.BCELoss(reduction="none")
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5, 1e-50])
    y = np.array([1.0, 0.0, 0.0, 1.0, 0.5, 1.0])
    value = loss(p, y)
    # entries 0, 1 and 5 hit the clamp where it counts; 2 and 3 clamp a log times 0
    assert loss.n_clamped == 3
    np.testing.assert_array_equal(value[:4], [100.0, 100.0, 0.0, 0.0])
    loss(np.array([0.3]), np.array([1.0]))
    assert loss.n_clamped == 0


@pytest.mark.parametrize("name", NAMES)
def test_nan_propagates(name):
    x, y = make_case(name, (5,), np.float64, seed=17)
    x[2] = np.nan
    value, grad = LOSSES[name][0](reduction="none").value_and_grad(x, y)
    assert np.isnan(value[2]) and np.isnan(grad[2]), name
    assert np.all(np.isfinite(value[[0, 1, 3, 4]])), name


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_empty_input(reduction):
    value, grad = fastloss.MSELoss(reduction=reduction).value_and_grad(np.zeros((0, 3)),
                                                                       np.zeros((0, 3)))
    assert grad.shape == (0, 3)
    if reduction == "mean":
        assert np.isnan(value)
    elif reduction == "sum":
        assert value == 0
    else:
        assert value.shape == (0, 3)


# ---- PyTorch -----------------------------------------------------------------------------

def _torch_case(name, dtype, reduction, torch):
    F = torch.nn.functional
    return {
        "mse": lambda a, b: F.mse_loss(a, b, reduction=reduction),
        "l1": lambda a, b: F.l1_loss(a, b, reduction=reduction),
        "huber": lambda a, b: F.huber_loss(a, b, reduction=reduction, delta=0.7),
        "smooth_l1": lambda a, b: F.smooth_l1_loss(a, b, reduction=reduction, beta=0.5),
        "smooth_l1_beta0": lambda a, b: F.smooth_l1_loss(a, b, reduction=reduction, beta=0.0),
        "bce": lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction),
        "bce_logits": lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction),
        "bce_logits_pos": lambda a, b: F.binary_cross_entropy_with_logits(
            a, b, reduction=reduction, pos_weight=torch.tensor(2.5, dtype=a.dtype)),
    }.get(name)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("name", NAMES)
def test_matches_pytorch(name, dtype, reduction):
    torch = pytest.importorskip("torch")
    fn = _torch_case(name, dtype, reduction, torch)
    if fn is None:
        pytest.skip("PyTorch has no such loss")
    x, y = make_case(name, (9, 7), dtype, seed=21)
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    out = fn(xt, torch.from_numpy(y))
    out.backward(torch.ones_like(out))
    value, grad = LOSSES[name][0](reduction=reduction).value_and_grad(x, y)
    rtol = 1e-12 if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(value, out.detach().numpy(), rtol=rtol, atol=0)
    np.testing.assert_allclose(grad, xt.grad.numpy(), rtol=rtol,
                               atol=rtol * np.abs(xt.grad.numpy()).max())


def test_bce_with_logits_weight_and_pos_weight_match_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(22)
    x, y = _scores(rng, (8, 5)), _prob_target(rng, (8, 5))
    w, pw = rng.uniform(0, 2, size=(8, 1)), rng.uniform(0.5, 3, size=5)
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    out = torch.nn.functional.binary_cross_entropy_with_logits(
        xt, torch.from_numpy(y), weight=torch.from_numpy(w), pos_weight=torch.from_numpy(pw))
    out.backward()
    value, grad = fastloss.BCEWithLogitsLoss(weight=w, pos_weight=pw).value_and_grad(x, y)
    np.testing.assert_allclose(value, out.item(), rtol=1e-12)
    np.testing.assert_allclose(grad, xt.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("gamma,alpha", [(2.0, 0.25), (0.0, -1.0), (1.5, 0.6)])
def test_sigmoid_focal_gradient_matches_pytorch_autograd(gamma, alpha):
    # torchvision's definition, written with torch ops, differentiated by autograd
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(23)
    x, y = _scores(rng, (6, 4)), _prob_target(rng, (6, 4))
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    yt = torch.from_numpy(y)
    p = torch.sigmoid(xt)
    ce = torch.nn.functional.binary_cross_entropy_with_logits(xt, yt, reduction="none")
    p_t = p * yt + (1 - p) * (1 - yt)
    loss = ce * (1 - p_t) ** gamma
    if alpha >= 0:
        loss = (alpha * yt + (1 - alpha) * (1 - yt)) * loss
    loss.sum().backward()
    value, grad = fastloss.SigmoidFocalLoss(alpha, gamma, reduction="sum").value_and_grad(x, y)
    np.testing.assert_allclose(value, loss.sum().item(), rtol=1e-12)
    np.testing.assert_allclose(grad, xt.grad.numpy(), rtol=1e-10, atol=1e-14)


# ---- determinism -----------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("name", ["mse", "huber", "bce", "bce_logits_pos", "squared_hinge"])
def test_bitwise_identical_for_every_thread_count(name, dtype):
    x, y = make_case(name, (1001, 307), dtype, seed=31)
    w = np.random.default_rng(32).uniform(0, 2, size=(1001, 1))
    results = []
    for nt in (1, 2, 3, 8):
        loss = LOSSES[name][0](reduction="mean", n_threads=nt)
        v, g = loss.value_and_grad(x, y, w)
        results.append((v, g))
    for v, g in results[1:]:
        assert v.tobytes() == results[0][0].tobytes(), name
        assert g.tobytes() == results[0][1].tobytes(), name


# ---- bad input ---------------------------------------------------------------------------

@pytest.mark.parametrize("make,match", [
    (lambda: fastloss.HuberLoss(delta=0.0), r"delta must be finite and > 0, got 0.0"),
    (lambda: fastloss.HuberLoss(delta=-1), "delta"),
    (lambda: fastloss.HuberLoss(delta=np.inf), "delta"),
    (lambda: fastloss.SmoothL1Loss(beta=-0.1), "beta"),
    (lambda: fastloss.QuantileLoss(q=0.0), r"q must be finite and in \(0, 1\), got 0.0"),
    (lambda: fastloss.QuantileLoss(q=1.0), r"q must be finite and in \(0, 1\), got 1.0"),
    (lambda: fastloss.QuantileLoss(q=1.5), r"q must be finite and in \(0, 1\), got 1.5"),
    (lambda: fastloss.SigmoidFocalLoss(alpha=1.5), "alpha"),
    (lambda: fastloss.SigmoidFocalLoss(gamma=-1), "gamma"),
    (lambda: fastloss.MSELoss(reduction="avg"), "reduction"),
    (lambda: fastloss.MSELoss(n_threads=0), "n_threads"),
])
def test_bad_options(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_option_types():
    with pytest.raises(TypeError, match="delta"):
        fastloss.HuberLoss(delta="1")
    with pytest.raises(TypeError, match="q"):
        fastloss.QuantileLoss(q=True)


def test_bad_arrays():
    x = np.zeros((3, 4))
    loss = fastloss.MSELoss()
    with pytest.raises(ValueError, match=r"target must have the input's shape \(3, 4\), got \(4, 3\)"):
        loss(x, np.zeros((4, 3)))
    with pytest.raises(ValueError, match="got \\(3,\\)"):
        loss(x, np.zeros(3))
    with pytest.raises(TypeError, match="input must be a float32 or float64"):
        loss(np.zeros((3, 4), dtype=np.complex128), x)
    with pytest.raises(TypeError, match="cannot represent exactly"):
        loss(x.astype(np.float32), x + 0.1)
    with pytest.raises(TypeError, match="target must be a numeric array"):
        loss(x, np.full((3, 4), "a"))
    with pytest.raises(ValueError, match=r"sample_weight of shape \(3,\) does not broadcast"):
        loss(x, x, np.ones(3))
    with pytest.raises(ValueError, match=r"sample_weight must be finite and >= 0, got "
                                         r"sample_weight\[1, 0\] = -1.0"):
        loss(x, x, np.array([[1.0], [-1.0], [1.0]]))
    with pytest.raises(ValueError, match="sample_weight must be finite"):
        loss(x, x, np.nan)
    with pytest.raises(ValueError, match="pos_weight must be finite"):
        fastloss.BCEWithLogitsLoss(pos_weight=-1.0)(x, x)


def test_bad_out():
    x = np.zeros((3, 4))
    loss = fastloss.MSELoss()
    with pytest.raises(ValueError, match="shape"):
        loss.value_and_grad(x, x, out=np.empty((4, 3)))
    with pytest.raises(TypeError, match="dtype"):
        loss.value_and_grad(x, x, out=np.empty((3, 4), dtype=np.float32))
    ro = np.empty((3, 4))
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        loss.value_and_grad(x, x, out=ro)
    with pytest.raises(ValueError, match="overlaps"):
        loss.value_and_grad(x, x.copy(), out=x)


@pytest.mark.parametrize("p,y,match", [
    ([0.5, 1.5], [1.0, 1.0], r"input must hold probabilities in \[0, 1\] for BCELoss: "
                             r"input\[1\] = 1.5"),
    ([0.5, -0.1], [1.0, 1.0], r"input\[1\] = -0.1"),
    ([0.5, 0.5], [1.0, 2.0], r"target must hold probabilities in \[0, 1\] for BCELoss: "
                             r"target\[1\] = 2.0"),
])
def test_bce_domain(p, y, match):
    with pytest.raises(ValueError, match=match):
        fastloss.BCELoss()(np.array(p), np.array(y))


@pytest.mark.parametrize("cls", [fastloss.BCEWithLogitsLoss, fastloss.SigmoidFocalLoss])
def test_logit_losses_reject_targets_outside_unit_interval(cls):
    with pytest.raises(ValueError, match=r"target\[0, 2\] = -0.5"):
        cls()(np.zeros((2, 3)), np.array([[0, 1, -0.5], [0, 0, 0]]))


@pytest.mark.parametrize("cls", [fastloss.HingeLoss, fastloss.SquaredHingeLoss])
def test_hinge_labels(cls):
    with pytest.raises(ValueError, match=r"must be in \{-1, 1\} or \{0, 1\}.*target\[2\] = 0.5"):
        cls()(np.zeros(3), np.array([1.0, -1.0, 0.5]))
    with pytest.raises(ValueError, match=r"mixes.*target\[3\] = 0.0"):
        cls()(np.zeros(4), np.array([1, -1, 1, 0]))
    with pytest.raises(ValueError, match=r"must be in"):
        cls()(np.zeros(2), np.array([1.0, np.nan]))


def test_loss_objects_have_readable_reprs():
    assert repr(fastloss.HuberLoss(2.0, "sum")) == "HuberLoss(delta=2.0, reduction='sum')"
    assert repr(fastloss.MSELoss()) == "MSELoss(reduction='mean')"


def test_functional_twins():
    rng = np.random.default_rng(41)
    x, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    for fn, cls, opts in [(fastloss.mse_loss, fastloss.MSELoss, {}),
                          (fastloss.huber_loss, fastloss.HuberLoss, {"delta": 0.3}),
                          (fastloss.quantile_loss, fastloss.QuantileLoss, {"q": 0.2})]:
        for reduction in REDUCTIONS:
            np.testing.assert_array_equal(fn(x, y, reduction=reduction, **opts),
                                          cls(reduction=reduction, **opts)(x, y))
    p = 1 / (1 + np.exp(-x))
    assert fastloss.binary_cross_entropy(p, p) == fastloss.BCELoss()(p, p)
    np.testing.assert_array_equal(fastloss.sigmoid_focal_loss(x, p), fastloss.SigmoidFocalLoss()(x, p))


def test_float_target_for_float32_input_converts_when_exact():
    x = np.zeros(4, dtype=np.float32)
    value = fastloss.HingeLoss()(x, np.array([1.0, -1.0, 1.0, -1.0]))
    assert value.dtype == np.float32 and value == 1.0


@pytest.mark.parametrize("name", list(itertools.islice(NAMES, 3)))
def test_out_is_filled_and_returned(name):
    x, y = make_case(name, (4, 5), np.float32, seed=51)
    out = np.full((4, 5), np.nan, dtype=np.float32)
    _, grad = LOSSES[name][0]().value_and_grad(x, y, out=out)
    assert grad is out and np.all(np.isfinite(out))
