"""CrossEntropyLoss / cross_entropy: the whole option matrix against the reference,
finite-difference gradients, closed forms, extreme and infinite logits, long rows,
entry points against each other, memory layouts, out=, and hypothesis properties."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fastloss
from fastloss import reference as ref

from conftest import (DTYPE_IDS, DTYPES, LOSS_RTOL, REDUCTIONS, SMOOTHINGS, assert_close,
                     case, check_class_loss_against_reference, CLASS_LOSS_MATRIX as MATRIX,
                     CLASS_LOSS_MATRIX_IDS as MATRIX_IDS, make_class_case, make_dominated_rows,
                     numerical_grad, tol)


@pytest.mark.parametrize("dtype,target_kind,weighted,label_smoothing,reduction,ignored",
                         MATRIX, ids=MATRIX_IDS)
def test_matches_reference(dtype, target_kind, weighted, label_smoothing, reduction, ignored):
    check_class_loss_against_reference(False, dtype, target_kind, weighted, label_smoothing,
                                       reduction, ignored, seed=11)


@pytest.mark.parametrize("dtype,target_kind,weighted,label_smoothing,reduction,ignored",
                         MATRIX, ids=MATRIX_IDS)
def test_entry_points_agree_bitwise(dtype, target_kind, weighted, label_smoothing, reduction,
                                    ignored):
    """Fused value_and_grad == __call__ and grad; functional == class."""
    x, target, weight, ignore_index = make_class_case(
        12, dtype, target_kind, weighted=weighted, ignored=ignored)
    opts = dict(weight=weight, ignore_index=ignore_index, reduction=reduction,
                label_smoothing=label_smoothing)
    msg = case(seed=12, dtype=dtype, target_kind=target_kind, weighted=weighted,
               ignored=ignored, **{k: v for k, v in opts.items() if k != "weight"})
    loss = fastloss.CrossEntropyLoss(**opts)
    value, grad = loss.value_and_grad(x, target)
    np.testing.assert_array_equal(loss(x, target), value, err_msg="__call__: " + msg)
    np.testing.assert_array_equal(loss.grad(x, target), grad, err_msg="grad: " + msg)
    np.testing.assert_array_equal(fastloss.cross_entropy(x, target, **opts), value,
                                  err_msg="functional: " + msg)
    np.testing.assert_array_equal(
        fastloss.cross_entropy(x, target, weight, ignore_index, reduction, label_smoothing),
        value, err_msg="functional, positional: " + msg)


# ---- gradients by finite differences (float64) ------------------------------------------

FD_CASES = [
    # (target_kind, weighted, label_smoothing, reduction, ignored)
    ("int64", True, 0.1, "mean", True),
    ("int32", False, 0.0, "mean", False),
    ("int64", True, 1.0, "mean", False),
    ("probs", True, 0.1, "sum", True),
    ("probs", False, 0.0, "mean", False),
    ("int64", False, 0.0, "none", True),
    ("int32", True, 0.1, "none", False),
    ("probs", True, 1.0, "none", True),
]


@pytest.mark.parametrize("target_kind,weighted,label_smoothing,reduction,ignored", FD_CASES)
def test_gradient_by_finite_differences(target_kind, weighted, label_smoothing, reduction,
                                        ignored):
    seed = 21
    x, target, weight, ignore_index = make_class_case(
        seed, np.float64, target_kind, n=6, c=5, weighted=weighted, ignored=ignored)
    loss = fastloss.CrossEntropyLoss(weight=weight, ignore_index=ignore_index,
                                     reduction=reduction, label_smoothing=label_smoothing)
    msg = case(seed=seed, target_kind=target_kind, weighted=weighted,
               label_smoothing=label_smoothing, reduction=reduction, ignored=ignored)
    _, grad = loss.value_and_grad(x, target)
    if reduction == "none":
        # d/dx of sum_i v_i l_i(x) = v_i * (row i of the per-sample gradient)
        v = np.random.default_rng(seed + 1).normal(size=x.shape[0])
        fd = numerical_grad(lambda z: v @ loss(z, target), x)
        want = v[:, None] * grad
    else:
        fd = numerical_grad(lambda z: loss(z, target), x)
        want = grad
    np.testing.assert_allclose(want, fd, rtol=1e-7, atol=1e-9, err_msg=msg)


def test_gradient_by_finite_differences_1d_input():
    x = np.array([0.3, -1.2, 2.0, 0.7])
    for target in (np.int64(2), np.array([0.1, 0.2, 0.3, 0.4])):
        for reduction in REDUCTIONS:
            loss = fastloss.CrossEntropyLoss(reduction=reduction, label_smoothing=0.2,
                                             weight=[1.0, 2.0, 0.5, 1.5])
            grad = loss.grad(x, target)
            fd = numerical_grad(lambda z: loss(z, target), x)
            np.testing.assert_allclose(grad, fd, rtol=1e-7, atol=1e-9,
                                       err_msg=case(target=target, reduction=reduction))


# ---- closed forms -----------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("c", [1, 2, 7, 5000])
@pytest.mark.parametrize("label_smoothing", SMOOTHINGS)
def test_equal_logits_give_log_c(c, label_smoothing, dtype):
    n = 5
    x = np.full((n, c), 3.25, dtype=dtype)
    labels = np.arange(n) % c
    msg = case(C=c, label_smoothing=label_smoothing, dtype=dtype)
    rtol = LOSS_RTOL[np.dtype(dtype)]
    loss = fastloss.CrossEntropyLoss(label_smoothing=label_smoothing)
    value, grad = loss.value_and_grad(x, labels)
    np.testing.assert_allclose(value, math.log(c), rtol=rtol, atol=1e-300, err_msg=msg)
    np.testing.assert_allclose(
        fastloss.cross_entropy(x, labels, reduction="sum", label_smoothing=label_smoothing),
        n * math.log(c), rtol=rtol, atol=1e-300, err_msg=msg)
    np.testing.assert_allclose(
        fastloss.cross_entropy(x, labels, reduction="none", label_smoothing=label_smoothing),
        np.full(n, math.log(c)), rtol=rtol, atol=1e-300, err_msg=msg)
    # d/dx = (1/C - b) / N with b = (1 - eps) onehot + eps / C
    b = np.full((n, c), label_smoothing / c)
    b[np.arange(n), labels] += 1 - label_smoothing
    assert_close(grad, (1.0 / c - b) / n, dtype, msg, scale=1.0 / n)
    # a target distribution that sums to 1, and class weights with eps = 0: still log C
    probs = np.random.default_rng(c).dirichlet(np.ones(c), size=n).astype(dtype)
    np.testing.assert_allclose(fastloss.cross_entropy(x, probs, label_smoothing=label_smoothing),
                               math.log(c), rtol=10 * rtol, atol=1e-300, err_msg=msg)
    w = np.linspace(0.5, 2.0, c)
    np.testing.assert_allclose(fastloss.cross_entropy(x, labels, weight=w), math.log(c),
                               rtol=rtol, atol=1e-300, err_msg=msg)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("a,b", [(0.0, 0.0), (1.0, -1.0), (-3.0, 2.5), (20.0, 0.0),
                                 (0.0, 30.0), (-0.125, 0.375)])
def test_two_classes_is_softplus(a, b, dtype):
    # label 0: loss = log(1 + e^(b - a)); grad = [p0 - 1, p1] with p1 = 1 / (1 + e^(a - b))
    x = np.array([[a, b]], dtype=dtype)
    value, grad = fastloss.CrossEntropyLoss().value_and_grad(x, np.array([0]))
    d = b - a
    want = d + math.log1p(math.exp(-d)) if d > 0 else math.log1p(math.exp(d))
    p1 = 1.0 / (1.0 + math.exp(a - b))
    msg = case(a=a, b=b, dtype=dtype)
    np.testing.assert_allclose(value, want, rtol=LOSS_RTOL[np.dtype(dtype)], err_msg=msg)
    assert_close(grad, [[-p1, p1]], dtype, msg)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("eps", SMOOTHINGS)
def test_label_smoothing_closed_form(eps, dtype):
    # x = [0, ln 3]: p = [1/4, 3/4]; label 0: b = [1 - eps/2, eps/2]
    x = np.array([[0.0, math.log(3.0)]], dtype=dtype)
    want = (1 - eps / 2) * math.log(4.0) + (eps / 2) * (math.log(4.0) - math.log(3.0))
    value, grad = fastloss.CrossEntropyLoss(label_smoothing=eps).value_and_grad(x, [0])
    np.testing.assert_allclose(value, want, rtol=2 * LOSS_RTOL[np.dtype(dtype)],
                               err_msg=case(eps=eps, dtype=dtype))
    assert_close(grad, [[0.25 - (1 - eps / 2), 0.75 - eps / 2]], dtype, case(eps=eps))


def test_full_smoothing_is_lse_minus_mean():
    rng = np.random.default_rng(31)
    x = rng.normal(size=(4, 6))
    want = np.log(np.exp(x).sum(axis=1)) - x.mean(axis=1)
    got = fastloss.cross_entropy(x, rng.integers(0, 6, 4), label_smoothing=1.0,
                                 reduction="none")
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_weighted_mean_is_weighted_average_of_plain_losses():
    rng = np.random.default_rng(32)
    x = rng.normal(size=(9, 4))
    y = rng.integers(0, 4, 9)
    w = rng.uniform(0.1, 3.0, 4)
    plain = np.log(np.exp(x).sum(axis=1)) - x[np.arange(9), y]
    want = np.sum(w[y] * plain) / np.sum(w[y])
    np.testing.assert_allclose(fastloss.cross_entropy(x, y, weight=w), want, rtol=1e-12)
    np.testing.assert_allclose(fastloss.cross_entropy(x, y, weight=w, reduction="none"),
                               w[y] * plain, rtol=1e-12)


def test_tiny_loss_keeps_relative_accuracy_float64():
    # logits [40, 0, 0], label 0: loss = log1p(2 e^-40) ~ 8.5e-18; d loss / d x_0 =
    # p_0 - 1 = -(2 e^-40) / (1 + 2 e^-40); the others e^-40 / (1 + 2 e^-40)
    x = np.array([[40.0, 0.0, 0.0]])
    e = math.exp(-40.0)
    value, grad = fastloss.CrossEntropyLoss().value_and_grad(x, np.array([0]))
    np.testing.assert_allclose(value, math.log1p(2 * e), rtol=1e-12, atol=0)
    np.testing.assert_allclose(grad[0, 0], -(2 * e) / (1 + 2 * e), rtol=1e-12, atol=0)
    np.testing.assert_allclose(grad[0, 1:], e / (1 + 2 * e), rtol=1e-12, atol=0)
    # the same with probabilities [1, 0, 0], and for 1-D input. (For a distribution the
    # documented gradient is softmax - target, computed as such: relative accuracy at
    # p ~ 1 is promised for hard labels only, so the target entry is checked absolutely.)
    v2, g2 = fastloss.CrossEntropyLoss().value_and_grad(x, np.array([[1.0, 0.0, 0.0]]))
    np.testing.assert_allclose(v2, math.log1p(2 * e), rtol=1e-12, atol=0)
    np.testing.assert_allclose(g2[0, 1:], e / (1 + 2 * e), rtol=1e-12, atol=0)
    np.testing.assert_allclose(g2[0, 0], -(2 * e) / (1 + 2 * e), rtol=0, atol=1e-16)
    np.testing.assert_allclose(fastloss.cross_entropy(x[0], 0), math.log1p(2 * e),
                               rtol=1e-12, atol=0)


def test_tiny_loss_in_a_long_row_float64():
    # label at the max in the last chunk of 3; the other entries 50 below it
    c = 5000
    x = np.full((1, c), -50.0)
    x[0, c - 3] = 0.0
    s = (c - 1) * math.exp(-50.0)
    value, grad = fastloss.CrossEntropyLoss().value_and_grad(x, np.array([c - 3]))
    np.testing.assert_allclose(value, math.log1p(s), rtol=1e-12, atol=0)
    np.testing.assert_allclose(grad[0, c - 3], -s / (1 + s), rtol=1e-12, atol=0)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("c", [40, 1000, 5000])
def test_dominant_label_on_both_sides_of_the_split_sum(dtype, c):
    # The label's logit leads the others by a margin that puts S - 1 = sum over the
    # other entries of exp(x_j - x_y) anywhere from 1e-9 to 2: the kernel sums exp
    # plainly and splits off the max entries only where S is small (S < 1.5), and both
    # sides keep the per-sample loss and the label's gradient 1/S - 1 relatively exact.
    x, y, tail, e = make_dominated_rows(c, c, dtype)
    n = len(y)
    # closed forms in float64 (x_y is the max): loss = log1p(S - 1), p_j = exp(x_j - x_y) / S
    # and the label's gradient p_y - 1 = -(S - 1) / S, with S - 1 summed exactly
    want_value = np.log1p(tail)
    want_p = e / (1.0 + tail)[:, None]
    want_p[np.arange(n), y] = 1.0 / (1.0 + tail)
    want_grad = want_p.copy()
    want_grad[np.arange(n), y] = -tail / (1.0 + tail)

    value, grad = fastloss.CrossEntropyLoss(reduction="none").value_and_grad(x, y)
    rtol = tol(dtype)["rtol"]
    np.testing.assert_allclose(value, want_value, rtol=rtol, atol=0)
    np.testing.assert_allclose(grad, want_grad, rtol=rtol, atol=0)
    np.testing.assert_allclose(fastloss.softmax(x), want_p, rtol=rtol, atol=0)


# ---- extreme and infinite logits ---------------------------------------------------------

INF, NAN = math.inf, math.nan


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("big", [1e4, 1e30])
@pytest.mark.parametrize("label", [0, 1, 2])
@pytest.mark.parametrize("eps", [0.0, 0.1])
def test_extreme_finite_logits(big, label, eps, dtype):
    # x = [B, 0, -B] with e^-B = 0: p = [1, 0, 0]; the loss is a sum of exact gaps
    x = np.array([[big, 0.0, -big]], dtype=dtype)
    xd = x.astype(np.float64)[0]
    m = xd.max()
    want = (1 - eps) * (m - xd[label]) + eps / 3 * np.sum(m - xd)
    b = np.full(3, eps / 3)
    b[label] += 1 - eps
    want_grad = np.array([1.0, 0.0, 0.0]) - b
    msg = case(big=big, label=label, eps=eps, dtype=dtype)
    value, grad = fastloss.CrossEntropyLoss(label_smoothing=eps).value_and_grad(x, [label])
    np.testing.assert_allclose(value, want, rtol=LOSS_RTOL[np.dtype(dtype)], atol=0,
                               err_msg=msg)
    assert_close(grad[0], want_grad, dtype, msg)
    # and as a probability target
    t = np.zeros((1, 3), dtype=dtype)
    t[0, label] = 1
    value, grad = fastloss.CrossEntropyLoss(label_smoothing=eps).value_and_grad(x, t)
    np.testing.assert_allclose(value, want, rtol=LOSS_RTOL[np.dtype(dtype)], atol=0,
                               err_msg="probs: " + msg)
    assert_close(grad[0], want_grad, dtype, "probs: " + msg)


# (row, target (label or distribution), label_smoothing, weight, loss, grad (sum reduction))
LIMIT_CASES = {
    "pinf_label_elsewhere": ([INF, 0, 0], 1, 0.0, None, INF, [1, -1, 0]),
    "pinf_label_at_inf": ([INF, 0, 0], 0, 0.0, None, 0.0, [0, 0, 0]),
    "two_pinf_label_at_one": ([INF, INF, 0], 0, 0.0, None, math.log(2), [-0.5, 0.5, 0]),
    "two_pinf_label_finite": ([INF, INF, 0], 2, 0.0, None, INF, [0.5, 0.5, -1]),
    "ninf_label_finite": ([-INF, 0, 0], 1, 0.0, None, math.log(2), [0, -0.5, 0.5]),
    "ninf_label_at_ninf": ([-INF, 0, 0], 0, 0.0, None, INF, [-1, 0.5, 0.5]),
    "ninf_smoothing": ([-INF, 0, 0], 1, 0.3, None, INF, [-0.1, -0.3, 0.4]),
    # weight 0 on the -inf class: its smoothing term has b = 0 and contributes 0, not NaN
    "ninf_zero_weight_smoothing": ([-INF, 0, 0], 1, 0.3, [0.0, 1.0, 1.0],
                                   0.9 * math.log(2), [0, -0.35, 0.35]),
    "pinf_smoothing": ([INF, 0, 0], 0, 0.3, None, INF, [1 - 0.8, -0.1, -0.1]),
    "probs_zero_at_ninf": ([-INF, 0, 0], [0, 0.5, 0.5], 0.0, None, math.log(2), [0, 0, 0]),
    "probs_mass_at_ninf": ([-INF, 0, 0], [0.2, 0.4, 0.4], 0.0, None, INF, [-0.2, 0.1, 0.1]),
    "probs_pinf": ([INF, 0, 0], [0.5, 0.5, 0], 0.0, None, INF, [0.5, -0.5, 0]),
    "all_ninf": ([-INF, -INF, -INF], 1, 0.0, None, NAN, [NAN, NAN, NAN]),
    "nan_logit": ([0, NAN, 1], 0, 0.0, None, NAN, [NAN, NAN, NAN]),
    "nan_logit_probs": ([0, NAN, 1], [1, 0, 0], 0.0, None, NAN, [NAN, NAN, NAN]),
    "pinf_with_ninf": ([INF, -INF, 0], 0, 0.0, None, 0.0, [0, 0, 0]),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("name", list(LIMIT_CASES))
def test_infinite_logits_limits(name, dtype):
    row, target, eps, weight, want, want_grad = LIMIT_CASES[name]
    ordinary = np.array([0.5, -0.25, 1.0])
    x = np.array([ordinary, row, ordinary[::-1]], dtype=dtype)  # the case is row 1
    if isinstance(target, list):
        t = np.array([[0.2, 0.3, 0.5], target, [1.0, 0.0, 0.0]], dtype=dtype)
    else:
        t = np.array([2, target, 0])
    loss = fastloss.CrossEntropyLoss(weight=weight, reduction="none", label_smoothing=eps)
    msg = case(name=name, row=row, target=target, eps=eps, weight=weight, dtype=dtype)
    with np.errstate(all="ignore"):
        value, grad = loss.value_and_grad(x, t)
    np.testing.assert_allclose(value[1], want, rtol=LOSS_RTOL[np.dtype(dtype)], atol=1e-300,
                               err_msg=msg)
    assert_close(grad[1], want_grad, dtype, msg, scale=1.0)
    if not math.isnan(want):
        assert np.all(np.isfinite(grad[1])), "gradient must stay finite: " + msg
    # the rows around it are unaffected
    ordinary_rows = x[[0, 2]]
    want_v, want_g = ref.cross_entropy_value_and_grad(
        ordinary_rows, t[[0, 2]], weight=weight, reduction="none", label_smoothing=eps)
    np.testing.assert_allclose(value[[0, 2]], want_v, rtol=tol(dtype)["rtol"], err_msg=msg)
    assert_close(grad[[0, 2]], want_g, dtype, msg)
    # the reduced values follow the limit
    total = fastloss.CrossEntropyLoss(weight=weight, reduction="sum",
                                      label_smoothing=eps)(x, t)
    assert math.isnan(total) == math.isnan(want) and (math.isinf(total) == math.isinf(want)), msg


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_infinite_logit_in_late_chunk(dtype):
    c = 5000
    rng = np.random.default_rng(41)
    x = rng.normal(size=(2, c)).astype(dtype)
    x[0, c - 9] = np.inf
    labels = np.array([c - 9, 5])
    value, grad = fastloss.CrossEntropyLoss(reduction="none").value_and_grad(x, labels)
    assert value[0] == 0.0
    np.testing.assert_array_equal(grad[0], np.zeros(c))
    value, grad = fastloss.CrossEntropyLoss(reduction="none").value_and_grad(x, [3, 5])
    assert value[0] == np.inf
    want = np.zeros(c)
    want[c - 9] = 1.0
    want[3] = -1.0
    np.testing.assert_array_equal(grad[0], want)
    want_v, want_g = ref.cross_entropy_value_and_grad(x[1:], np.array([5]), reduction="none")
    np.testing.assert_allclose(value[1:], want_v, rtol=tol(dtype)["rtol"])
    assert_close(grad[1:], want_g, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_nan_logit_makes_mean_nan(dtype):
    x = np.array([[0.0, 1.0], [np.nan, 0.0]], dtype=dtype)
    for reduction in ("mean", "sum"):
        assert np.isnan(fastloss.cross_entropy(x, [0, 1], reduction=reduction)), reduction


def test_ignored_row_holding_nan_contributes_nothing():
    """Ignored rows contribute no loss and no gradient whatever their logits (docs; torch
    gives 0 too). Checked for fastloss and for its NumPy reference."""
    x = np.array([[np.nan, 0.0, 1.0], [0.0, 1.0, 2.0]])
    t = np.array([-100, 1])
    p = np.exp([0.0, 1.0, 2.0]) / np.exp([0.0, 1.0, 2.0]).sum()
    want_none = np.array([0.0, -math.log(p[1])])
    want_grad = np.array([[0.0, 0.0, 0.0], p - [0.0, 1.0, 0.0]])
    for name, fn in (("fastloss", lambda **kw: fastloss.CrossEntropyLoss(**kw)
                      .value_and_grad(x, t)),
                     ("reference", lambda **kw: ref.cross_entropy_value_and_grad(x, t, **kw))):
        value, grad = fn(reduction="none")
        np.testing.assert_allclose(value, want_none, rtol=1e-12,
                                   err_msg=f"{name}: cross_entropy({x!r}, {t!r}, "
                                           "reduction='none')")
        np.testing.assert_allclose(grad, want_grad, rtol=1e-12, atol=1e-15, err_msg=name)
        value, _ = fn(reduction="mean")
        np.testing.assert_allclose(value, want_none[1], rtol=1e-12, err_msg=name + " mean")


# ---- long rows: several chunks, the label at a late max --------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("c", [5000, 70000])
@pytest.mark.parametrize("variant", ["labels", "labels_eps_weight", "probs_eps_weight"])
def test_long_rows(c, variant, dtype):
    rng = np.random.default_rng(c)
    x = np.stack([
        np.linspace(-20.0, 20.0, c),   # increasing: max (and label) at the end
        np.linspace(-20.0, 20.0, c),   # label at the minimum, chunk 0
        rng.normal(0, 1, c),           # spike in the last chunk, label there
        rng.normal(0, 1, c),           # spike in the last chunk, label in chunk 0
        rng.normal(0, 3, c),           # random label
    ])
    x[2, c - 37] = 30.0
    x[3, c - 37] = 30.0
    x = x.astype(dtype)
    labels = np.array([c - 1, 0, c - 37, 17, int(rng.integers(0, c))])
    weight = None
    eps = 0.0
    target = labels
    if variant != "labels":
        weight = rng.uniform(0.5, 1.5, c)
        eps = 0.1
    if variant == "probs_eps_weight":
        t = rng.random((5, c)) ** 8
        t[np.arange(5), labels] += 50.0
        target = (t / t.sum(axis=1, keepdims=True)).astype(dtype)
    msg = case(C=c, variant=variant, dtype=dtype, seed=c)
    for reduction in ("none", "mean"):
        loss = fastloss.CrossEntropyLoss(weight=weight, reduction=reduction,
                                         label_smoothing=eps)
        value, grad = loss.value_and_grad(x, target)
        want_v, want_g = ref.cross_entropy_value_and_grad(
            x, target, weight=weight, reduction=reduction, label_smoothing=eps)
        rtol = tol(dtype)["rtol"] if reduction == "none" else LOSS_RTOL[np.dtype(dtype)]
        # Row 2's loss is ~1e-8 (its label is a dominant max): the reference's
        # log(sum) is only accurate to ~1e-16 absolute there, fastloss's log1p to 1e-16
        # relative (checked against mpmath; see test_tiny_loss_in_a_long_row_float64).
        atol = 1e-14 if dtype == np.float64 else 0.0
        np.testing.assert_allclose(value, want_v, rtol=rtol, atol=atol,
                                   err_msg=f"{reduction}: " + msg)
        # the gradient's natural scale is that of the whole batch (row 2's is ~1e-8, and
        # the reference's p - 1 there is only accurate to ~1e-16 absolute)
        scale = float(np.abs(want_g).max())
        for i in range(x.shape[0]):
            assert_close(grad[i], want_g[i], dtype, f"{reduction}, row {i}: " + msg,
                         scale=scale)


# ---- 1-D input --------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("target_kind", ["label", "int32_label", "python_int", "probs"])
def test_one_dimensional_input(target_kind, reduction, dtype):
    rng = np.random.default_rng(51)
    x = rng.normal(size=6).astype(dtype)
    target = {"label": np.int64(4), "int32_label": np.array(4, dtype=np.int32),
              "python_int": 4,
              "probs": rng.dirichlet(np.ones(6)).astype(dtype)}[target_kind]
    opts = dict(weight=rng.uniform(0.5, 2, 6), reduction=reduction, label_smoothing=0.1)
    value, grad = fastloss.CrossEntropyLoss(**opts).value_and_grad(x, target)
    msg = case(target_kind=target_kind, reduction=reduction, dtype=dtype)
    assert isinstance(value, np.dtype(dtype).type), (type(value), msg)
    assert grad.shape == (6,) and grad.dtype == dtype, msg
    t2 = np.asarray(target).reshape(1, -1) if target_kind == "probs" else np.array([target])
    want_v, want_g = ref.cross_entropy_value_and_grad(x[None], t2, **opts)
    if reduction == "none":
        want_v = want_v[0]
    np.testing.assert_allclose(value, want_v, rtol=LOSS_RTOL[np.dtype(dtype)], err_msg=msg)
    assert_close(grad, want_g[0], dtype, msg)
    # the 1-D reference agrees too
    rv, rg = ref.cross_entropy_value_and_grad(x, target, **opts)
    np.testing.assert_allclose(value, rv, rtol=LOSS_RTOL[np.dtype(dtype)], err_msg=msg)
    # 1-D out=
    out = np.empty(6, dtype=dtype)
    v2, g2 = fastloss.CrossEntropyLoss(**opts).value_and_grad(x, target, out=out)
    assert g2 is out, msg
    np.testing.assert_array_equal(out, grad, err_msg=msg)
    np.testing.assert_array_equal(v2, value, err_msg=msg)


# ---- memory layouts and out= -------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("target_kind", ["int64", "probs"])
@pytest.mark.parametrize("layout", ["fortran", "strided_cols", "strided_rows", "byteswapped",
                                    "transposed_view"])
def test_layouts_agree_with_c_order(layout, target_kind, dtype):
    rng = np.random.default_rng(61)
    big = rng.normal(size=(10, 16)).astype(dtype)
    x = {"fortran": np.asfortranarray(big[:, :8]),
         "strided_cols": big[:, ::2],
         "strided_rows": big[::2, :8],
         "byteswapped": big[:, :8].astype(big.dtype.newbyteorder()),
         "transposed_view": np.ascontiguousarray(big[:, :8].T).T}[layout]
    n, c = x.shape
    if target_kind == "probs":
        tbig = rng.dirichlet(np.ones(c), size=2 * n).astype(dtype)
        target = tbig[::2]               # strided too
    else:
        target = rng.integers(0, c, size=2 * n)[::2]
    xc = np.ascontiguousarray(x, dtype=x.dtype.newbyteorder("="))
    tc = np.ascontiguousarray(target)
    msg = case(layout=layout, target_kind=target_kind, dtype=dtype)
    for reduction in REDUCTIONS:
        loss = fastloss.CrossEntropyLoss(reduction=reduction, label_smoothing=0.1)
        v, g = loss.value_and_grad(x, target)
        vc, gc = loss.value_and_grad(xc, tc)
        np.testing.assert_array_equal(v, vc, err_msg=f"{reduction}: " + msg)
        np.testing.assert_array_equal(g, gc, err_msg=f"{reduction}: " + msg)
        assert g.dtype == np.dtype(dtype) and g.dtype.isnative, msg


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_out_shares_memory(reduction, dtype):
    x, target, weight, ii = make_class_case(71, dtype, "int64", weighted=True, ignored=True)
    loss = fastloss.CrossEntropyLoss(weight=weight, reduction=reduction, label_smoothing=0.1)
    v0, g0 = loss.value_and_grad(x, target)
    out = np.full_like(x, 123.0)
    v, g = loss.value_and_grad(x, target, out=out)
    assert g is out and np.shares_memory(g, out)
    np.testing.assert_array_equal(out, g0)
    np.testing.assert_array_equal(v, v0)
    out2 = np.full_like(x, -5.0)
    g2 = loss.grad(x, target, out=out2)
    assert g2 is out2
    np.testing.assert_array_equal(out2, g0)
    # ignored rows are overwritten with zeros, not left as they were
    np.testing.assert_array_equal(out2[[1, 4, x.shape[0] - 1]], 0.0)


# ---- hypothesis properties ---------------------------------------------------------------

@st.composite
def class_problems(draw, dtype, allow_weight=True, allow_ignore=True, grid=False):
    """(x, target, weight, label_smoothing): labels may be -1 (pass ignore_index=-1);
    with `grid`, logits are multiples of 1/8 so that shifted copies are exact."""
    n = draw(st.integers(1, 6))
    c = draw(st.integers(1, 9))
    width = 32 if dtype == np.float32 else 64
    if grid:
        k = draw(hnp.arrays(np.int64, (n, c), elements=st.integers(-320, 320)))
        x = (k / 8.0).astype(dtype)
    else:
        x = draw(hnp.arrays(dtype, (n, c), elements=st.floats(-40, 40, width=width)))
    kind = draw(st.sampled_from(["labels", "probs"]))
    if kind == "labels":
        target = np.array(draw(st.lists(st.integers(-1 if allow_ignore else 0, c - 1),
                                        min_size=n, max_size=n)), dtype=np.int64)
    else:
        target = draw(hnp.arrays(dtype, (n, c), elements=st.floats(0, 1, width=width)))
    weight = None
    if allow_weight and draw(st.booleans()):
        weight = draw(hnp.arrays(np.float64, (c,), elements=st.floats(0, 3)))
    eps = draw(st.sampled_from([0.0, 0.05, 0.5, 1.0]))
    return x, target, weight, eps


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_property_nonnegative(dtype):
    @given(class_problems(dtype))
    def check(problem):
        x, target, weight, eps = problem
        v = fastloss.cross_entropy(x, target, weight=weight, ignore_index=-1,
                                   reduction="none", label_smoothing=eps)
        assert np.all(v >= 0), (v, problem)
    check()


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_property_row_shift_invariance(dtype):
    @given(class_problems(dtype, grid=True), st.data())
    def check(problem, data):
        x, target, weight, eps = problem
        # integer shifts of logits on a 1/8 grid: x + shift is exact in both dtypes
        shifts = np.array(data.draw(st.lists(st.integers(-1000, 1000), min_size=x.shape[0],
                                             max_size=x.shape[0])), dtype=np.float64)
        xs = (x.astype(np.float64) + shifts[:, None]).astype(dtype)
        loss = fastloss.CrossEntropyLoss(weight=weight, ignore_index=-1, reduction="none",
                                         label_smoothing=eps)
        v, g = loss.value_and_grad(x, target)
        vs, gs = loss.value_and_grad(xs, target)
        msg = case(problem=problem, shifts=shifts)
        assert_close(vs, v, dtype, msg)
        assert_close(gs, g, dtype, msg)
    check()


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_property_grad_rows_sum_to_zero(dtype):
    @given(class_problems(dtype, allow_weight=False, allow_ignore=False))
    def check(problem):
        x, target, _, eps = problem
        if target.dtype.kind == "f":
            s = target.astype(np.float64).sum(axis=1, keepdims=True)
            if np.any(s == 0):
                return
            target = (target / s).astype(dtype)   # a distribution per row
        g = fastloss.CrossEntropyLoss(reduction="sum", label_smoothing=eps).grad(x, target)
        atol = 1e-13 if dtype == np.float64 else 4e-6
        np.testing.assert_allclose(g.astype(np.float64).sum(axis=1), 0.0, atol=atol,
                                   err_msg=repr(problem))
    check()


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_property_zero_smoothing_is_plain_and_sum_is_n_mean(dtype):
    @given(class_problems(dtype, allow_weight=False, allow_ignore=False))
    def check(problem):
        x, target, _, _ = problem
        plain = fastloss.CrossEntropyLoss()
        zero = fastloss.CrossEntropyLoss(label_smoothing=0.0)
        np.testing.assert_array_equal(zero(x, target), plain(x, target))
        np.testing.assert_array_equal(zero.grad(x, target), plain.grad(x, target))
        s = fastloss.cross_entropy(x, target, reduction="sum")
        m = fastloss.cross_entropy(x, target, reduction="mean")
        np.testing.assert_allclose(float(s), x.shape[0] * float(m),
                                   rtol=4 * np.finfo(dtype).eps, atol=1e-300,
                                   err_msg=repr(problem))
    check()


# ---- many rows: more rows than the 256 fixed blocks -------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("target_kind", ["int32", "probs"])
@pytest.mark.parametrize("n", [257, 1001])
def test_many_rows_against_reference(n, target_kind, dtype):
    for reduction in REDUCTIONS:
        check_class_loss_against_reference(False, dtype, target_kind, True, 0.1, reduction,
                                           True, seed=n, n=n, c=40)
