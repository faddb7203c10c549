"""MultiMarginLoss / multi_margin_loss: the option matrix against the reference twin and
PyTorch, the CS231n example, finite-difference gradients, the kink, NaN and inf, entry
points and out=, bitwise determinism across thread counts, hypothesis properties, and
every bad input."""
import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fastloss
import fastloss.margin
from fastloss import reference as ref

from conftest import DTYPE_IDS, DTYPES, LOSS_RTOL, assert_close, case, numerical_grad, tol

REDUCTIONS = ["mean", "sum", "none"]
MATRIX = list(itertools.product(DTYPES, [1, 2], [False, True], REDUCTIONS, [True, False],
                                ["int32", "int64"]))
MATRIX_IDS = [f"{np.dtype(d).name}-p{p}-{'w' if w else 'now'}-{r}-"
              f"{'norm' if nz else 'sum'}-{lab}" for d, p, w, r, nz, lab in MATRIX]


def make_case(seed, dtype, n=13, c=7, weighted=False, label_dtype="int64", scale=1.0):
    """Scores ~ N(0, scale^2) (about half the hinge terms active at margin 1), uniform
    labels, weights uniform in [0.2, 2] with the last class weighted 0."""
    rng = np.random.default_rng(seed)
    x = (rng.normal(0.0, scale, size=(n, c))).astype(dtype)
    y = rng.integers(0, c, size=n).astype(label_dtype)
    w = None
    if weighted:
        w = rng.uniform(0.2, 2.0, size=c)
        w[-1] = 0.0
    return x, y, w


@pytest.mark.parametrize("dtype,p,weighted,reduction,normalize,label_dtype", MATRIX,
                         ids=MATRIX_IDS)
def test_matches_reference(dtype, p, weighted, reduction, normalize, label_dtype):
    x, y, w = make_case(3, dtype, weighted=weighted, label_dtype=label_dtype)
    opts = dict(p=p, margin=0.7, weight=w, reduction=reduction, normalize=normalize)
    msg = case(seed=3, dtype=dtype, weighted=weighted, label_dtype=label_dtype,
               **{k: v for k, v in opts.items() if k != "weight"})
    value, grad = fastloss.MultiMarginLoss(**opts).value_and_grad(x, y)
    want_value, want_grad = ref.multi_margin_loss_value_and_grad(x, y, **opts)
    if reduction == "none":
        assert isinstance(value, np.ndarray) and value.dtype == dtype, msg
        assert value.shape == (13,), msg
        assert_close(value, want_value, dtype, "value: " + msg)
    else:
        assert isinstance(value, np.dtype(dtype).type), (type(value), msg)
        np.testing.assert_allclose(value, want_value, rtol=LOSS_RTOL[np.dtype(dtype)],
                                   err_msg="value: " + msg)
    assert grad.shape == x.shape and grad.dtype == dtype and grad.flags.c_contiguous, msg
    assert_close(grad, want_grad, dtype, "grad: " + msg)


@pytest.mark.parametrize("dtype,p,weighted,reduction,normalize,label_dtype", MATRIX,
                         ids=MATRIX_IDS)
def test_entry_points_agree_bitwise(dtype, p, weighted, reduction, normalize, label_dtype):
    x, y, w = make_case(4, dtype, weighted=weighted, label_dtype=label_dtype)
    opts = dict(p=p, margin=1.5, weight=w, reduction=reduction, normalize=normalize)
    loss = fastloss.MultiMarginLoss(**opts)
    value, grad = loss.value_and_grad(x, y)
    np.testing.assert_array_equal(loss(x, y), value)
    np.testing.assert_array_equal(loss.grad(x, y), grad)
    np.testing.assert_array_equal(fastloss.multi_margin_loss(x, y, **opts), value)
    np.testing.assert_array_equal(
        fastloss.multi_margin_loss(x, y, p, 1.5, w, reduction, normalize), value)
    out = np.full_like(x, 7.0)
    value_out, grad_out = loss.value_and_grad(x, y, out=out)
    assert grad_out is out
    np.testing.assert_array_equal(out, grad)
    np.testing.assert_array_equal(value_out, value)


# ---- PyTorch ----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [1.0, 0.3, -0.5])
def test_matches_torch(dtype, p, weighted, reduction, margin):
    torch = pytest.importorskip("torch")
    x, y, w = make_case(5, dtype, n=17, c=6, weighted=weighted)
    xt = torch.from_numpy(x.copy()).requires_grad_()
    wt = None if w is None else torch.from_numpy(w.astype(dtype))
    lt = torch.nn.MultiMarginLoss(p=p, margin=margin, weight=wt, reduction=reduction)(
        xt, torch.from_numpy(y))
    lt.backward(torch.ones_like(lt))
    value, grad = fastloss.MultiMarginLoss(p=p, margin=margin, weight=w,
                                           reduction=reduction).value_and_grad(x, y)
    msg = case(dtype=dtype, p=p, weighted=weighted, reduction=reduction, margin=margin)
    # torch works in the input's dtype: float32 agrees to float32 rounding
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(value, lt.detach().numpy(), rtol=rtol, atol=rtol * 1e-2,
                               err_msg=msg)
    np.testing.assert_allclose(grad, xt.grad.numpy(), rtol=rtol, atol=rtol * 1e-2,
                               err_msg=msg)


def test_matches_torch_1d_input_and_kink():
    torch = pytest.importorskip("torch")
    for x, y in [(np.array([0.3, 1.2, -0.5, 0.9]), 1),
                 (np.array([1.0, 0.0, 0.5]), 0)]:   # z = 0 exactly for class 1
        for p in (1, 2):
            xt = torch.from_numpy(x.copy()).requires_grad_()
            lt = torch.nn.functional.multi_margin_loss(xt, torch.tensor(y), p=p)
            lt.backward()
            value, grad = fastloss.MultiMarginLoss(p=p).value_and_grad(x, y)
            np.testing.assert_allclose(value, lt.item(), rtol=1e-15)
            np.testing.assert_allclose(grad, xt.grad.numpy(), rtol=1e-15)


# ---- closed forms -------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_cs231n_example(dtype):
    """Seed 003: scores -96.8 (true class), 437.9, 61.95, margin 1 -> 695.45."""
    scores = np.array([[-96.8, 437.9, 61.95]], dtype=dtype)
    svm = fastloss.MultiMarginLoss(normalize=False, reduction="sum")
    value, grad = svm.value_and_grad(scores, np.array([0]))
    s = scores.astype(np.float64)[0]   # the float32-rounded scores, exactly
    want = (s[1] - s[0] + 1) + (s[2] - s[0] + 1)
    np.testing.assert_allclose(value, want, rtol=LOSS_RTOL[np.dtype(dtype)])
    np.testing.assert_allclose(value, 695.45, rtol=1e-12 if dtype == np.float64 else 1e-6)
    np.testing.assert_array_equal(grad, [[-2.0, 1.0, 1.0]])
    # PyTorch's normalization divides by C = 3; squared hinge: 535.7^2 + 159.75^2
    np.testing.assert_allclose(fastloss.MultiMarginLoss()(scores, [0]), want / 3,
                               rtol=LOSS_RTOL[np.dtype(dtype)])
    np.testing.assert_allclose(
        fastloss.MultiMarginLoss(p=2, normalize=False)(scores, [0]),
        (s[1] - s[0] + 1) ** 2 + (s[2] - s[0] + 1) ** 2, rtol=LOSS_RTOL[np.dtype(dtype)])


@pytest.mark.parametrize("p", [1, 2])
def test_kink_has_zero_slope_and_satisfied_margins_give_zero(p):
    # z_j = margin - x_y + x_j: class 1 sits exactly at the kink, class 2 is inactive
    x = np.array([[2.0, 1.0, -5.0]])
    value, grad = fastloss.MultiMarginLoss(p=p, reduction="sum").value_and_grad(x, [0])
    assert value == 0.0
    np.testing.assert_array_equal(grad, [[0.0, 0.0, 0.0]])
    assert not np.signbit(grad).any(), "no -0 in the gradient"


def test_one_class_has_no_terms():
    value, grad = fastloss.MultiMarginLoss().value_and_grad(np.array([[3.0], [-1.0]]), [0, 0])
    assert value == 0.0
    np.testing.assert_array_equal(grad, [[0.0], [0.0]])


def test_empty_batch():
    x = np.zeros((0, 4), dtype=np.float32)
    y = np.zeros(0, dtype=np.int64)
    value, grad = fastloss.MultiMarginLoss().value_and_grad(x, y)
    assert np.isnan(value) and value.dtype == np.float32
    assert grad.shape == (0, 4)
    assert fastloss.multi_margin_loss(x, y, reduction="sum") == 0.0
    assert fastloss.multi_margin_loss(x, y, reduction="none").shape == (0,)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_nan_and_inf(dtype):
    x = np.array([[0.0, np.nan, 0.0],      # NaN at a non-target class
                  [np.nan, 0.0, 0.0],      # NaN at the target
                  [0.0, np.inf, 0.0],      # +inf: infinite loss, finite slope (p=1)
                  [0.0, -np.inf, 0.0],     # -inf at a non-target class: inactive
                  [0.5, -0.25, 1.0]], dtype=dtype)
    y = np.array([0, 0, 0, 0, 2])
    value, grad = fastloss.MultiMarginLoss(reduction="none").value_and_grad(x, y)
    assert np.isnan(value[0]) and np.isnan(value[1])
    assert np.isnan(grad[0]).any() and np.isnan(grad[1]).all()
    assert value[2] == np.inf
    assert_close(grad[2], np.array([-2, 1, 1]) / 3, dtype)
    np.testing.assert_allclose(value[3], 1 / 3, rtol=tol(dtype)["rtol"])
    assert_close(grad[3], np.array([-1, 0, 1]) / 3, dtype)
    want_v, want_g = ref.multi_margin_loss_value_and_grad(x[4:], y[4:], reduction="none")
    assert_close(value[4:], want_v, dtype)
    assert_close(grad[4:], want_g, dtype)


# ---- gradients by finite differences (float64) -------------------------------------------

@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("normalize", [True, False])
def test_gradient_by_finite_differences(p, reduction, normalize):
    x, y, w = make_case(21, np.float64, n=6, c=5, weighted=True, scale=2.0)
    # keep every hinge argument away from the kink, where the loss is not smooth
    z = 0.8 - x[np.arange(6), y][:, None] + x
    assert np.abs(z).min() > 1e-2, "re-seed: an argument is at the kink"
    loss = fastloss.MultiMarginLoss(p=p, margin=0.8, weight=w, reduction=reduction,
                                    normalize=normalize)
    grad = loss.grad(x, y)
    if reduction == "none":
        v = np.random.default_rng(22).normal(size=6)
        fd = numerical_grad(lambda t: v @ loss(t, y), x, h=1e-4)
        grad = v[:, None] * grad
    else:
        fd = numerical_grad(lambda t: loss(t, y), x, h=1e-4)
    np.testing.assert_allclose(grad, fd, rtol=1e-7, atol=1e-9,
                               err_msg=case(p=p, reduction=reduction, normalize=normalize))


# ---- threads ---------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bitwise_across_thread_counts(dtype, p, reduction):
    x, y, w = make_case(8, dtype, n=3000, c=200, weighted=True, scale=0.2)
    if fastloss.build_info()["openmp"]:
        assert fastloss._kernels.plan_threads(8, 3000 * 232.0) == 8
    loss_for = lambda nt: fastloss.MultiMarginLoss(p=p, weight=w, reduction=reduction,  # noqa: E731
                                                   n_threads=nt)
    base_v, base_g = loss_for(1).value_and_grad(x, y)
    for nt in (2, 3, 8):
        v, g = loss_for(nt).value_and_grad(x, y)
        msg = case(dtype=dtype, p=p, reduction=reduction, n_threads=nt)
        np.testing.assert_array_equal(v, base_v, err_msg=msg)
        np.testing.assert_array_equal(g, base_g, err_msg=msg)


# ---- properties --------------------------------------------------------------------------

@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1,
                                                  max_side=9),
                    elements=st.floats(-1e6, 1e6)),
       data=st.data(), p=st.sampled_from([1, 2]),
       margin=st.floats(-10, 10), normalize=st.booleans())
def test_losses_are_nonnegative_and_zero_when_margins_hold(x, data, p, margin, normalize):
    n, c = x.shape
    y = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    losses, grad = fastloss.MultiMarginLoss(p=p, margin=margin, reduction="none",
                                            normalize=normalize).value_and_grad(x, y)
    assert np.all(losses >= 0)
    # the target's slope balances the others: every row of the gradient sums to 0
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-9 * max(1.0, np.abs(grad).max()))
    # lifting the true class by more than every gap plus the margin zeroes the loss
    lifted = x.copy()
    lifted[np.arange(n), y] = x.max(axis=1) + abs(margin) + 1.0
    assert np.all(fastloss.multi_margin_loss(lifted, y, p=p, margin=margin,
                                             reduction="none") == 0)


# ---- bad input -----------------------------------------------------------------------------

X = np.zeros((3, 4))
Y = np.array([0, 1, 2])


@pytest.mark.parametrize("kwargs,exc,pattern", [
    (dict(p=3), ValueError, r"p must be 1 or 2, got 3"),
    (dict(p=0), ValueError, r"p must be 1 or 2"),
    (dict(p=True), ValueError, r"p must be 1 or 2, got True"),
    (dict(p=1.0), ValueError, r"p must be 1 or 2, got 1.0"),
    (dict(margin=float("nan")), ValueError, r"margin must be finite, got nan"),
    (dict(margin=float("inf")), ValueError, r"margin must be finite"),
    (dict(margin="1"), TypeError, r"margin must be a real number, got '1'"),
    (dict(weight=[1.0, -1.0, 1.0, 1.0]), ValueError, r"weight must be finite and >= 0, got weight\[1\] = .*-1.0"),
    (dict(weight=[1.0, np.nan, 1.0, 1.0]), ValueError, r"weight.*finite"),
    (dict(weight=[[1.0]]), ValueError, r"weight must be 1-D"),
    (dict(reduction="batchmean"), ValueError, r"reduction must be one of.*'batchmean'"),
    (dict(normalize=1), TypeError, r"normalize must be True or False, got 1"),
    (dict(n_threads=0), ValueError, r"n_threads must be >= 1"),
])
def test_bad_options(kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        fastloss.MultiMarginLoss(**kwargs)
    with pytest.raises(exc, match=pattern):
        fastloss.multi_margin_loss(X, Y, **kwargs)


@pytest.mark.parametrize("x,y,exc,pattern", [
    (X, [0, 1, 4], ValueError, r"target: label 4 at row 2 is outside \[0, 4\)"),
    (X, [0, -1, 2], ValueError, r"label -1 at row 1 is outside \[0, 4\)"),
    (X, np.array([0, 1, 2**40]), ValueError, r"label 1099511627776 at row 2"),
    (X, np.array([0, 1, 2], dtype=np.int32)[:2], ValueError, r"target labels must have shape \(3,\)"),
    (X, [[0, 1, 2]], ValueError, r"target labels must have shape"),
    (X[0], [1], ValueError, r"target labels must have shape \(\)"),
    (X, np.array([0.0, 1.0, 2.0]), TypeError, r"target must hold integer class labels"),
    (X, np.array([0, 1, 2], dtype=np.uint64), TypeError, r"do not fit int64"),
    (np.zeros((2, 3, 4)), Y, ValueError, r"input must be 1-D \(C,\) or 2-D \(N, C\), got shape \(2, 3, 4\)"),
    (np.zeros((3, 0)), Y, ValueError, r"input must have at least one class"),
    (X.astype(np.complex128), Y, TypeError, r"input must be a float32 or float64"),
    (X.astype(object), Y, TypeError, r"input must be a float32 or float64"),
])
def test_bad_input(x, y, exc, pattern):
    with pytest.raises(exc, match=pattern):
        fastloss.multi_margin_loss(x, y)
    with pytest.raises(exc, match=pattern):
        fastloss.MultiMarginLoss().value_and_grad(x, y)


def test_weight_length_must_match_classes():
    with pytest.raises(ValueError, match=r"weight must have one entry per class: expected "
                                         r"length 4, got 3"):
        fastloss.MultiMarginLoss(weight=[1.0, 2.0, 3.0])(X, Y)


def test_bad_out():
    loss = fastloss.MultiMarginLoss()
    x = np.ones((3, 4), dtype=np.float32)
    with pytest.raises(ValueError, match=r"out must have shape \(3, 4\), got \(4, 3\)"):
        loss.value_and_grad(x, Y, out=np.empty((4, 3), np.float32))
    with pytest.raises(TypeError, match=r"out must have dtype float32, got float64"):
        loss.value_and_grad(x, Y, out=np.empty((3, 4)))
    read_only = np.empty((3, 4), np.float32)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match=r"out is read-only"):
        loss.value_and_grad(x, Y, out=read_only)
    with pytest.raises(ValueError, match=r"out must be C-contiguous"):
        loss.value_and_grad(x, Y, out=np.empty((4, 3), np.float32).T)
    with pytest.raises(ValueError, match=r"out overlaps an input"):
        loss.value_and_grad(x, Y, out=x)
    with pytest.raises(TypeError, match=r"out must be a numpy.ndarray, got list"):
        loss.value_and_grad(x, Y, out=[[0.0] * 4] * 3)


def test_layouts_and_conversions():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(6, 5))
    y = rng.integers(0, 5, 6)
    want = ref.multi_margin_loss(x, y)
    fortran = np.asfortranarray(x)
    np.testing.assert_allclose(fastloss.multi_margin_loss(fortran, y), want, rtol=1e-12)
    np.testing.assert_allclose(fastloss.multi_margin_loss(x[:, ::-1].copy()[:, ::-1], y),
                               want, rtol=1e-12)
    assert fastloss.multi_margin_loss(x.astype(np.float16), y).dtype == np.float32
    assert fastloss.multi_margin_loss(x.astype(">f8"), y.astype(">i8")).dtype == np.float64
    assert fastloss.multi_margin_loss(x, y.astype(np.uint8)) == want


def test_repr():
    assert repr(fastloss.MultiMarginLoss(p=2, weight=[1, 2])) == (
        "MultiMarginLoss(p=2, margin=1.0, weight=array(shape=(2,)), reduction='mean', "
        "normalize=True)")
