"""NLLLoss / nll_loss: the option matrix against the reference, nll_loss(log_softmax(x))
== cross_entropy(x) for every option, closed forms, infinite log-probabilities, layouts,
out= and properties."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fastloss

from conftest import (DTYPE_IDS, DTYPES, LOSS_RTOL, REDUCTIONS, assert_close, case,
                     check_class_loss_against_reference, CLASS_LOSS_MATRIX as MATRIX,
                     CLASS_LOSS_MATRIX_IDS as MATRIX_IDS, make_class_case, numerical_grad,
                     tol)


@pytest.mark.parametrize("dtype,target_kind,weighted,label_smoothing,reduction,ignored",
                         MATRIX, ids=MATRIX_IDS)
def test_matches_reference(dtype, target_kind, weighted, label_smoothing, reduction, ignored):
    check_class_loss_against_reference(True, dtype, target_kind, weighted, label_smoothing,
                                       reduction, ignored, seed=13)


@pytest.mark.parametrize("dtype,target_kind,weighted,label_smoothing,reduction,ignored",
                         MATRIX, ids=MATRIX_IDS)
def test_entry_points_agree_bitwise(dtype, target_kind, weighted, label_smoothing, reduction,
                                    ignored):
    x, target, weight, ignore_index = make_class_case(
        14, dtype, target_kind, weighted=weighted, ignored=ignored, nll=True)
    opts = dict(weight=weight, ignore_index=ignore_index, reduction=reduction,
                label_smoothing=label_smoothing)
    msg = case(seed=14, dtype=dtype, target_kind=target_kind, weighted=weighted,
               ignored=ignored, **{k: v for k, v in opts.items() if k != "weight"})
    loss = fastloss.NLLLoss(**opts)
    value, grad = loss.value_and_grad(x, target)
    np.testing.assert_array_equal(loss(x, target), value, err_msg="__call__: " + msg)
    np.testing.assert_array_equal(loss.grad(x, target), grad, err_msg="grad: " + msg)
    np.testing.assert_array_equal(fastloss.nll_loss(x, target, **opts), value,
                                  err_msg="functional: " + msg)


@pytest.mark.parametrize("dtype,target_kind,weighted,label_smoothing,reduction,ignored",
                         MATRIX, ids=MATRIX_IDS)
def test_nll_of_log_softmax_is_cross_entropy(dtype, target_kind, weighted, label_smoothing,
                                             reduction, ignored):
    """nll_loss(log_softmax(x), t, **opts) == cross_entropy(x, t, **opts), and the chain
    rule through log_softmax maps NLL's gradient onto CE's:
    dCE/dx = g - softmax(x) * sum_j g_j with g = dNLL/d(log p)."""
    x, target, weight, ignore_index = make_class_case(
        15, dtype, target_kind, weighted=weighted, ignored=ignored)
    opts = dict(weight=weight, ignore_index=ignore_index, reduction=reduction,
                label_smoothing=label_smoothing)
    msg = case(seed=15, dtype=dtype, target_kind=target_kind, weighted=weighted,
               ignored=ignored, **{k: v for k, v in opts.items() if k != "weight"})
    logp = fastloss.log_softmax(x)
    v_nll, g_nll = fastloss.NLLLoss(**opts).value_and_grad(logp, target)
    v_ce, g_ce = fastloss.CrossEntropyLoss(**opts).value_and_grad(x, target)
    np.testing.assert_array_equal(fastloss.nll_loss(logp, target, **opts), v_nll)
    # float32: log_softmax is rounded to float32 before NLL reads it
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(v_nll, v_ce, rtol=rtol, atol=0, err_msg=msg)
    g = g_nll.astype(np.float64)
    p = fastloss.softmax(x.astype(np.float64))
    chained = g - p * g.sum(axis=1, keepdims=True)
    assert_close(g_ce, chained, dtype, msg, rtol=rtol)


# ---- gradients --------------------------------------------------------------------------

@pytest.mark.parametrize("target_kind,weighted,label_smoothing,reduction,ignored", [
    ("int64", True, 0.1, "mean", True),
    ("int32", False, 1.0, "sum", False),
    ("probs", True, 0.1, "mean", True),
    ("int64", True, 0.0, "none", True),
    ("probs", False, 0.3, "none", False),
])
def test_gradient_by_finite_differences(target_kind, weighted, label_smoothing, reduction,
                                        ignored):
    seed = 22
    x, target, weight, ignore_index = make_class_case(
        seed, np.float64, target_kind, n=6, c=5, weighted=weighted, ignored=ignored, nll=True)
    loss = fastloss.NLLLoss(weight=weight, ignore_index=ignore_index, reduction=reduction,
                            label_smoothing=label_smoothing)
    msg = case(seed=seed, target_kind=target_kind, weighted=weighted,
               label_smoothing=label_smoothing, reduction=reduction, ignored=ignored)
    grad = loss.grad(x, target)
    if reduction == "none":
        v = np.random.default_rng(seed + 1).normal(size=x.shape[0])
        fd = numerical_grad(lambda z: v @ loss(z, target), x)
        want = v[:, None] * grad
    else:
        fd = numerical_grad(lambda z: loss(z, target), x)
        want = grad
    np.testing.assert_allclose(want, fd, rtol=1e-7, atol=1e-9, err_msg=msg)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_gradient_closed_form_does_not_depend_on_input(dtype):
    # labels [0, 2, ignored, 1], w = [1, 2, 3], eps = 0.3, mean: divisor 1 + 3 + 2 = 6;
    # b_i = 0.1 * w + 0.7 * w[y_i] onehot(y_i); grad = -b / 6
    w = np.array([1.0, 2.0, 3.0])
    y = np.array([0, 2, -100, 1])
    b = np.zeros((4, 3))
    for i, yi in enumerate(y):
        if yi >= 0:
            b[i] = 0.1 * w
            b[i, yi] += 0.7 * w[yi]
    loss = fastloss.NLLLoss(weight=w, label_smoothing=0.3)
    rng = np.random.default_rng(23)
    for _ in range(3):
        x = rng.normal(size=(4, 3)).astype(dtype)
        value, grad = loss.value_and_grad(x, y)
        assert_close(grad, -b / 6.0, dtype, case(x=x))
        np.testing.assert_allclose(value, -np.sum(b * x.astype(np.float64)) / 6.0,
                                   rtol=LOSS_RTOL[np.dtype(dtype)], err_msg=case(x=x))


# ---- closed forms and limits ---------------------------------------------------------------

LN2, LN4 = math.log(2), math.log(4)
INF, NAN = math.inf, math.nan

# (log-probabilities, target, label_smoothing, weight, loss, grad) for reduction="sum"
CLOSED = {
    "label0": ([-LN2, -LN4, -LN4], 0, 0.0, None, LN2, [-1, 0, 0]),
    "label1": ([-LN2, -LN4, -LN4], 1, 0.0, None, LN4, [0, -1, 0]),
    "probs": ([-LN2, -LN4, -LN4], [0.5, 0.5, 0.0], 0.0, None, 1.5 * LN2, [-0.5, -0.5, 0]),
    "smoothing": ([-LN2, -LN4, -LN4], 0, 0.3, None, 0.8 * LN2 + 0.2 * LN4,
                  [-0.8, -0.1, -0.1]),
    "weighted": ([-LN2, -LN4, -LN4], 1, 0.0, [1.0, 3.0, 1.0], 3 * LN4, [0, -3, 0]),
    "ninf_untargeted": ([-INF, -LN2, -LN2], 1, 0.0, None, LN2, [0, -1, 0]),
    "ninf_targeted": ([-INF, -LN2, -LN2], 0, 0.0, None, INF, [-1, 0, 0]),
    "ninf_smoothing": ([-INF, -LN2, -LN2], 1, 0.3, None, INF, [-0.1, -0.8, -0.1]),
    "ninf_zero_weight": ([-INF, -LN2, -LN2], 1, 0.3, [0.0, 1.0, 1.0], 0.9 * LN2,
                         [0, -0.8, -0.1]),
    "ninf_probs_zero": ([-INF, -LN2, -LN2], [0.0, 0.5, 0.5], 0.0, None, LN2, [0, -0.5, -0.5]),
    "nan_untargeted": ([NAN, -LN2, -LN2], 2, 0.0, None, LN2, [0, 0, -1]),
    "nan_targeted": ([NAN, -LN2, -LN2], 0, 0.0, None, NAN, [-1, 0, 0]),
    "positive_input": ([1.5, -2.0, 0.25], 0, 0.0, None, -1.5, [-1, 0, 0]),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("name", list(CLOSED))
def test_closed_forms(name, dtype):
    row, target, eps, weight, want, want_grad = CLOSED[name]
    x = np.array([row], dtype=dtype)
    t = np.array([target], dtype=dtype) if isinstance(target, list) else np.array([target])
    msg = case(name=name, row=row, target=target, eps=eps, weight=weight, dtype=dtype)
    loss = fastloss.NLLLoss(weight=weight, reduction="sum", label_smoothing=eps)
    value, grad = loss.value_and_grad(x, t)
    np.testing.assert_allclose(value, want, rtol=2 * LOSS_RTOL[np.dtype(dtype)], err_msg=msg)
    assert_close(grad[0], want_grad, dtype, msg, scale=1.0)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_one_dimensional_input(dtype):
    logp = np.log(np.array([0.5, 0.25, 0.125, 0.125])).astype(dtype)
    for reduction in REDUCTIONS:
        value, grad = fastloss.NLLLoss(reduction=reduction).value_and_grad(logp, 2)
        assert isinstance(value, np.dtype(dtype).type), (reduction, type(value))
        np.testing.assert_allclose(value, math.log(8), rtol=LOSS_RTOL[np.dtype(dtype)])
        np.testing.assert_array_equal(grad, [0, 0, -1, 0])
        out = np.empty(4, dtype=dtype)
        assert fastloss.NLLLoss(reduction=reduction).grad(logp, 2, out=out) is out
        np.testing.assert_array_equal(out, grad)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("layout", ["fortran", "strided_cols", "byteswapped"])
def test_layouts_agree_with_c_order(layout, dtype):
    rng = np.random.default_rng(62)
    big = rng.normal(size=(9, 14)).astype(dtype)
    x = {"fortran": np.asfortranarray(big[:, :7]), "strided_cols": big[:, ::2],
         "byteswapped": big[:, :7].astype(big.dtype.newbyteorder())}[layout]
    xc = np.ascontiguousarray(x, dtype=np.dtype(dtype))
    y = rng.integers(0, 7, 18)[::2]
    for reduction in REDUCTIONS:
        loss = fastloss.NLLLoss(reduction=reduction, label_smoothing=0.2)
        v, g = loss.value_and_grad(x, y)
        vc, gc = loss.value_and_grad(xc, np.ascontiguousarray(y))
        np.testing.assert_array_equal(v, vc, err_msg=case(layout=layout, reduction=reduction))
        np.testing.assert_array_equal(g, gc, err_msg=case(layout=layout, reduction=reduction))


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_out_shares_memory(dtype):
    x, target, weight, _ = make_class_case(72, dtype, "probs", weighted=True, nll=True)
    loss = fastloss.NLLLoss(weight=weight, label_smoothing=0.1)
    v0, g0 = loss.value_and_grad(x, target)
    out = np.full_like(x, 9.0)
    v, g = loss.value_and_grad(x, target, out=out)
    assert g is out and np.shares_memory(g, out)
    np.testing.assert_array_equal(out, g0)
    np.testing.assert_array_equal(v, v0)


# ---- properties ----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_property_value_is_minus_weighted_sum(dtype):
    """loss_i = -sum_j b_ij x_ij, computed here directly from the definition."""
    width = 32 if dtype == np.float32 else 64

    @given(st.integers(1, 6), st.integers(1, 8), st.data())
    def check(n, c, data):
        x = data.draw(hnp.arrays(dtype, (n, c), elements=st.floats(-50, 5, width=width)))
        y = np.array(data.draw(st.lists(st.integers(-1, c - 1), min_size=n, max_size=n)))
        w = data.draw(hnp.arrays(np.float64, (c,), elements=st.floats(0, 3)))
        eps = data.draw(st.sampled_from([0.0, 0.2, 1.0]))
        b = np.zeros((n, c))
        for i, yi in enumerate(y):
            if yi >= 0:
                b[i] = eps / c * w
                b[i, yi] += (1 - eps) * w[yi]
        want = -(b * x.astype(np.float64)).sum(axis=1)
        got = fastloss.nll_loss(x, y, weight=w, ignore_index=-1, reduction="none",
                                label_smoothing=eps)
        scale = np.abs(b * x.astype(np.float64)).sum(axis=1)
        np.testing.assert_allclose(got, want, rtol=tol(dtype)["rtol"],
                                   atol=float(scale.max()) * 4 * np.finfo(dtype).eps,
                                   err_msg=case(x=x, y=y, w=w, eps=eps))
        g = fastloss.NLLLoss(weight=w, ignore_index=-1, reduction="sum",
                             label_smoothing=eps).grad(x, y)
        assert_close(g, -b, dtype, case(x=x, y=y, w=w, eps=eps), scale=max(1.0, w.max()))
    check()


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_property_sum_is_n_mean(dtype):
    @given(st.integers(1, 6), st.integers(1, 8), st.data())
    def check(n, c, data):
        rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
        x = np.log(rng.dirichlet(np.ones(c), size=n)).astype(dtype)
        y = rng.integers(0, c, n)
        s = fastloss.nll_loss(x, y, reduction="sum")
        m = fastloss.nll_loss(x, y, reduction="mean")
        np.testing.assert_allclose(float(s), n * float(m), rtol=4 * np.finfo(dtype).eps,
                                   atol=1e-300)
        np.testing.assert_array_equal(fastloss.nll_loss(x, y, label_smoothing=0.0),
                                      fastloss.nll_loss(x, y))
    check()


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("target_kind", ["int64", "probs"])
def test_many_rows_against_reference(target_kind, dtype):
    for reduction in REDUCTIONS:
        check_class_loss_against_reference(True, dtype, target_kind, True, 0.1, reduction,
                                           True, seed=3, n=1001, c=40)
