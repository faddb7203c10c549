"""KLDivLoss / kl_div and kl_divergence: every option against the reference twin and
PyTorch, finite-difference gradients, zero targets, inf and NaN, entry points and out=,
bitwise determinism across thread counts, hypothesis properties, the accuracy of the
vectorized log, and every bad input."""
import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fastloss
import fastloss.divergence
from fastloss import _kernels
from fastloss import reference as ref

from conftest import DTYPE_IDS, DTYPES, LOSS_RTOL, assert_close, case, numerical_grad

KL_REDUCTIONS = ["batchmean", "mean", "sum", "none"]
SHAPES = [(13, 7), (9,), (2, 3, 4), ()]
SHAPE_IDS = ["13x7", "9", "2x3x4", "scalar"]


def make_kl_case(seed, dtype, shape, log_target, zeros=True):
    """input = log of a random distribution over the last axis; target = another one
    (Dirichlet), with a few exact zeros (or their log, -inf) when `zeros`."""
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape))
    q = rng.dirichlet(np.ones(max(size, 1)))[:size].reshape(shape) + 1e-3
    t = rng.dirichlet(np.ones(max(size, 1)))[:size].reshape(shape)
    if zeros and size > 3:
        t.reshape(-1)[[1, size - 2]] = 0.0
    with np.errstate(divide="ignore"):
        target = np.log(t) if log_target else t
    return np.log(q).astype(dtype), np.asarray(target).astype(dtype)


KL_MATRIX = list(itertools.product(DTYPES, SHAPES, [False, True], KL_REDUCTIONS))
KL_IDS = [f"{np.dtype(d).name}-{SHAPE_IDS[SHAPES.index(s)]}-{'logt' if lt else 'probt'}-{r}"
          for d, s, lt, r in KL_MATRIX]


@pytest.mark.parametrize("dtype,shape,log_target,reduction", KL_MATRIX, ids=KL_IDS)
def test_kl_div_matches_reference(dtype, shape, log_target, reduction):
    x, t = make_kl_case(1, dtype, shape, log_target)
    msg = case(seed=1, dtype=dtype, shape=shape, log_target=log_target, reduction=reduction)
    loss = fastloss.KLDivLoss(reduction=reduction, log_target=log_target)
    value, grad = loss.value_and_grad(x, t)
    want_value, want_grad = ref.kl_div_value_and_grad(x, t, reduction, log_target)
    if reduction == "none":
        assert isinstance(value, np.ndarray) == bool(len(shape)), msg
        assert np.shape(value) == shape and value.dtype == dtype, msg
        assert_close(value, want_value, dtype, "value: " + msg)
    else:
        assert isinstance(value, np.dtype(dtype).type), (type(value), msg)
        np.testing.assert_allclose(value, want_value, rtol=LOSS_RTOL[np.dtype(dtype)],
                                   err_msg="value: " + msg)
    assert grad.shape == shape and grad.dtype == dtype, msg
    assert_close(grad, want_grad, dtype, "grad: " + msg)
    # the entry points agree bitwise
    np.testing.assert_array_equal(loss(x, t), value, err_msg="__call__: " + msg)
    np.testing.assert_array_equal(loss.grad(x, t), grad, err_msg="grad(): " + msg)
    np.testing.assert_array_equal(
        fastloss.kl_div(x, t, reduction=reduction, log_target=log_target), value,
        err_msg="kl_div: " + msg)
    out = np.full_like(x, 5.0)
    assert loss.value_and_grad(x, t, out=out)[1] is out
    np.testing.assert_array_equal(out, grad, err_msg="out=: " + msg)


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("reduction", KL_REDUCTIONS)
def test_kl_div_matches_torch(dtype, log_target, reduction):
    torch = pytest.importorskip("torch")
    x, t = make_kl_case(2, dtype, (11, 6), log_target, zeros=False)
    xt = torch.from_numpy(x.copy()).requires_grad_()
    lt = torch.nn.KLDivLoss(reduction=reduction, log_target=log_target)(xt, torch.from_numpy(t))
    lt.backward(torch.ones_like(lt))
    value, grad = fastloss.KLDivLoss(reduction=reduction, log_target=log_target).value_and_grad(x, t)
    rtol = 1e-12 if dtype == np.float64 else 2e-5
    msg = case(dtype=dtype, log_target=log_target, reduction=reduction)
    np.testing.assert_allclose(value, lt.detach().numpy(), rtol=rtol, atol=rtol * 1e-2,
                               err_msg=msg)
    np.testing.assert_allclose(grad, xt.grad.numpy(), rtol=rtol, atol=0, err_msg=msg)


def test_default_reduction_is_batchmean():
    torch = pytest.importorskip("torch")
    x, t = make_kl_case(3, np.float64, (5, 4), False)
    want = torch.nn.functional.kl_div(torch.from_numpy(x), torch.from_numpy(t),
                                      reduction="batchmean").item()
    np.testing.assert_allclose(fastloss.KLDivLoss()(x, t), want, rtol=1e-12)
    np.testing.assert_allclose(fastloss.kl_div(x, t), want, rtol=1e-12)


@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("reduction", KL_REDUCTIONS)
def test_kl_div_gradient_by_finite_differences(log_target, reduction):
    x, t = make_kl_case(4, np.float64, (4, 5), log_target)
    loss = fastloss.KLDivLoss(reduction=reduction, log_target=log_target)
    grad = loss.grad(x, t)
    if reduction == "none":
        v = np.random.default_rng(5).normal(size=x.shape)
        fd = numerical_grad(lambda z: np.sum(v * loss(z, t)), x)
        grad = v * grad
    else:
        fd = numerical_grad(lambda z: loss(z, t), x)
    np.testing.assert_allclose(grad, fd, rtol=1e-8, atol=1e-11,
                               err_msg=case(log_target=log_target, reduction=reduction))


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_kl_div_edge_values(dtype):
    inf, nan = np.inf, np.nan
    # (input, target) -> (pointwise loss, gradient), log_target=False
    x = np.array([-inf, nan, -1.0, -inf, -1.0, 0.5, -2.0], dtype=dtype)
    t = np.array([0.0, 0.0, 0.0, 0.5, nan, 2.0, 1.0], dtype=dtype)
    want = [0.0, 0.0, 0.0, inf, nan, 2.0 * (np.log(2.0) - 0.5), 2.0]
    value, grad = fastloss.KLDivLoss(reduction="none").value_and_grad(x, t)
    assert_close(value, want, dtype, scale=1.0)
    assert_close(grad, [0.0, 0.0, 0.0, -0.5, nan, -2.0, -1.0], dtype, scale=1.0)
    assert not np.signbit(grad[:3]).any(), "a zero target gives +0, not -0"
    # log_target=True: -inf target is probability 0
    lt = np.array([-inf, -inf, 0.0, np.log(0.5), nan], dtype=dtype)
    xl = np.array([-inf, nan, -inf, -1.0, 0.0], dtype=dtype)
    value, grad = fastloss.KLDivLoss(reduction="none", log_target=True).value_and_grad(xl, lt)
    assert_close(value, [0.0, 0.0, inf, 0.5 * (np.log(0.5) + 1), nan], dtype, scale=1.0)
    assert_close(grad, [0.0, 0.0, -1.0, -0.5, nan], dtype, scale=1.0)
    # an empty input: batchmean over zero rows is NaN (0/0), sum is 0
    empty = np.zeros((0, 3), dtype=dtype)
    assert np.isnan(fastloss.kl_div(empty, empty))
    assert fastloss.kl_div(empty, empty, reduction="sum") == 0


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("reduction", KL_REDUCTIONS)
def test_kl_div_bitwise_across_thread_counts(dtype, log_target, reduction):
    x, t = make_kl_case(6, dtype, (600, 500), log_target)
    if fastloss.build_info()["openmp"]:
        assert _kernels.plan_threads(8, 2.0 * x.size) == 8
    base = fastloss.KLDivLoss(reduction=reduction, log_target=log_target,
                              n_threads=1).value_and_grad(x, t)
    for nt in (2, 3, 8):
        got = fastloss.KLDivLoss(reduction=reduction, log_target=log_target,
                                 n_threads=nt).value_and_grad(x, t)
        msg = case(dtype=dtype, log_target=log_target, reduction=reduction, n_threads=nt)
        np.testing.assert_array_equal(got[0], base[0], err_msg=msg)
        np.testing.assert_array_equal(got[1], base[1], err_msg=msg)


# ---- kl_divergence ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("shape", [(13, 7), (7,), (4, 3000), (0, 5), (3, 0)],
                         ids=["13x7", "7", "4x3000", "0x5", "3x0"])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_kl_divergence_matches_reference(dtype, shape, reduction):
    rng = np.random.default_rng(7)
    p = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1]) if shape[-1] else np.zeros(shape)
    q = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1]) if shape[-1] else np.zeros(shape)
    if p.size > 6:
        p.reshape(-1)[[0, 5]] = 0.0     # 0 log 0 and 0 log(0 / q)
        q.reshape(-1)[0] = 0.0
    p, q = p.astype(dtype), q.astype(dtype)
    msg = case(dtype=dtype, shape=shape, reduction=reduction)
    got = fastloss.kl_divergence(p, q, reduction=reduction)
    want = ref.kl_divergence(p, q, reduction=reduction)
    if reduction == "none":
        assert np.shape(got) == shape[:-1] and got.dtype == dtype, msg
        assert_close(got, want, dtype, msg)
    else:
        assert isinstance(got, np.dtype(dtype).type), msg
        np.testing.assert_allclose(got, want, rtol=LOSS_RTOL[np.dtype(dtype)], err_msg=msg)


def test_kl_divergence_limits_and_closed_forms():
    p = np.array([[0.5, 0.5, 0.0],     # log 2
                  [1.0, 0.0, 0.0],     # q = 0 < p: +inf
                  [0.0, 1.0, 0.0],     # p = q = 0 terms vanish: log 2
                  [0.2, np.nan, 0.8],  # NaN in, NaN out
                  [0.3, 0.3, 0.4]])    # KL(p, p) = 0 exactly
    q = np.array([[0.25, 0.25, 0.5], [0.0, 0.5, 0.5], [0.0, 0.5, 0.5], [0.2, 0.5, 0.3],
                  [0.3, 0.3, 0.4]])
    got = fastloss.kl_divergence(p, q)
    np.testing.assert_allclose(got[[0, 2]], np.log(2.0), rtol=1e-15)
    assert got[1] == np.inf and np.isnan(got[3]) and got[4] == 0.0
    # a subnormal q: p / q overflows, the kernel takes the logs apart
    tiny = 5e-324
    got = fastloss.kl_divergence(np.array([1.0, 0.0]), np.array([tiny, 1.0]))
    np.testing.assert_allclose(got, -np.log(tiny), rtol=1e-15)
    # nearly equal rows: the terms (about +-1e-9) cancel to KL ~ 2e-18; the rounding
    # of each ratio p / q costs up to an ulp of p, so the documented bound is absolute:
    # a few float64 ulp of sum_j p_j (1 + |log(p_j / q_j)|)
    p = np.array([0.5, 0.5])
    q = np.array([0.5 + 1e-9, 0.5 - 1e-9])
    want = -0.5 * np.log1p(1e-9 / 0.5) - 0.5 * np.log1p(-1e-9 / 0.5)
    np.testing.assert_allclose(fastloss.kl_divergence(p, q), want, rtol=0, atol=4e-16)


def test_kl_divergence_bitwise_across_thread_counts():
    rng = np.random.default_rng(8)
    p = rng.dirichlet(np.ones(200), size=3000)
    q = rng.dirichlet(np.ones(200), size=3000)
    for reduction in ("none", "sum", "mean"):
        base = fastloss.kl_divergence(p, q, reduction, n_threads=1)
        for nt in (2, 3, 8):
            np.testing.assert_array_equal(fastloss.kl_divergence(p, q, reduction, n_threads=nt),
                                          base, err_msg=case(reduction=reduction, n_threads=nt))


# ---- properties --------------------------------------------------------------------------

def _distributions(draw_shape=hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=8)):
    return hnp.arrays(np.float64, draw_shape, elements=st.floats(0.0, 1.0))


@given(p=_distributions(), data=st.data())
def test_kl_is_nonnegative_and_zero_on_itself(p, data):
    p = p + 1e-300 * (p.sum(axis=1, keepdims=True) == 0)   # no all-zero rows
    p = p / p.sum(axis=1, keepdims=True)
    q = data.draw(hnp.arrays(np.float64, p.shape, elements=st.floats(1e-6, 1.0)))
    q = q / q.sum(axis=1, keepdims=True)
    kl = fastloss.kl_divergence(p, q)
    # Gibbs' inequality, up to the rounding of the normalized rows
    assert np.all(kl >= -1e-12), kl
    np.testing.assert_array_equal(fastloss.kl_divergence(p, p), 0.0)
    with np.errstate(divide="ignore"):
        logp = np.log(p)
    # log t and the input's log differ by rounding only
    np.testing.assert_allclose(fastloss.kl_div(logp, p, reduction="sum"), 0.0, atol=1e-15)
    assert fastloss.kl_div(logp, logp, reduction="sum", log_target=True) == 0.0
    np.testing.assert_allclose(fastloss.kl_div(np.log(q), p, reduction="sum"), kl.sum(),
                               rtol=1e-9, atol=1e-12)


# ---- bad input -----------------------------------------------------------------------------

def test_kl_div_rejects_negative_targets():
    x = np.zeros((3, 4))
    t = np.full((3, 4), 0.25)
    t[2, 1] = -0.5
    t[2, 3] = -0.1
    with pytest.raises(ValueError, match=r"target must be >= 0 .*target\[2, 1\] = .*-0.5"):
        fastloss.KLDivLoss().value_and_grad(x, t)
    with pytest.raises(ValueError, match=r"target\[2, 1\]"):
        fastloss.kl_div(x, t, reduction="none")
    # the same values as log-probabilities are fine
    assert np.isfinite(fastloss.kl_div(x, t, log_target=True))
    # a long array: the first bad entry is found in a later block
    big = np.full(100_003, 0.5)
    big[99_999] = -1.0
    with pytest.raises(ValueError, match=r"target\[99999\]"):
        fastloss.kl_div(np.zeros_like(big), big, n_threads=2)


@pytest.mark.parametrize("call,exc,pattern", [
    (lambda: fastloss.KLDivLoss(reduction="avg"), ValueError,
     r"reduction must be one of \('batchmean', 'mean', 'sum', 'none'\), got 'avg'"),
    (lambda: fastloss.KLDivLoss(log_target=1), TypeError, r"log_target must be True or False"),
    (lambda: fastloss.KLDivLoss(n_threads=-1), ValueError, r"n_threads must be >= 1"),
    (lambda: fastloss.kl_div(np.zeros((2, 3)), np.zeros((3, 2))), ValueError,
     r"target must have the input's shape \(2, 3\), got \(3, 2\)"),
    (lambda: fastloss.kl_div(np.zeros(3, np.float32), np.full(3, 0.1)), TypeError,
     r"target of dtype float64 holds values that float32 \(the input's dtype\) cannot "
     r"represent exactly"),
    (lambda: fastloss.kl_div(np.zeros(3), np.array(["a", "b", "c"])), TypeError,
     r"target must be a numeric array, got dtype str"),
    (lambda: fastloss.kl_div(np.zeros(3, complex), np.zeros(3)), TypeError,
     r"input must be a float32 or float64"),
    (lambda: fastloss.KLDivLoss().value_and_grad(np.zeros(3), np.zeros(3),
                                                 out=np.zeros(4)), ValueError,
     r"out must have shape \(3,\), got \(4,\)"),
    (lambda: fastloss.KLDivLoss().value_and_grad(np.zeros(3), np.zeros(3),
                                                 out=np.zeros(3, np.float32)), TypeError,
     r"out must have dtype float64"),
    (lambda: fastloss.kl_divergence([0.5, 1.5], [0.5, 0.5]), ValueError,
     r"p must hold probabilities in \[0, 1\], got p\[1\] = .*1.5"),
    (lambda: fastloss.kl_divergence([[0.5, 0.5], [0.5, 0.5]], [[0.5, 0.5], [-0.1, 1.0]]),
     ValueError, r"q must hold probabilities in \[0, 1\], got q\[1, 0\] = .*-0.1"),
    (lambda: fastloss.kl_divergence([0.5, 0.5], [0.5, 0.5, 0.0]), ValueError,
     r"q must have the input's shape \(2,\), got \(3,\)"),
    (lambda: fastloss.kl_divergence(np.zeros((2, 2, 2)), np.zeros((2, 2, 2))), ValueError,
     r"p must be 1-D \(C,\) or 2-D \(N, C\), got shape \(2, 2, 2\)"),
    (lambda: fastloss.kl_divergence([0.5, 0.5], [0.5, 0.5], reduction="batchmean"),
     ValueError, r"reduction must be one of"),
])
def test_bad_input(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


def test_read_only_and_overlapping_out():
    x, t = make_kl_case(9, np.float64, (3, 4), False)
    loss = fastloss.KLDivLoss()
    read_only = np.empty_like(x)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match=r"out is read-only"):
        loss.value_and_grad(x, t, out=read_only)
    with pytest.raises(ValueError, match=r"out overlaps an input"):
        loss.value_and_grad(x, t, out=t)


def test_repr():
    assert repr(fastloss.KLDivLoss(reduction="sum", log_target=True)) == (
        "KLDivLoss(reduction='sum', log_target=True)")
