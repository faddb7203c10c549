"""fastloss against PyTorch (skipped when torch is not installed): values and autograd
gradients of F.cross_entropy / F.nll_loss for every option, and softmax, log_softmax,
logsumexp.

Documented deviations, not compared here: fastloss gives the limits for +inf logits where
torch gives NaN, and a zero-weight term with a -inf log-probability contributes 0 in
fastloss (NaN in torch). Only finite inputs are compared.
"""
import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

import fastloss  # noqa: E402

from conftest import DTYPE_IDS, DTYPES, REDUCTIONS, SMOOTHINGS, case  # noqa: E402

RTOL = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-5}
ATOL_SCALE = {np.dtype(np.float64): 1e-14, np.dtype(np.float32): 1e-6}


def _torch_value_and_grad(fn, x, target, reduction, **kwargs):
    """(value, d value / d x) from torch autograd; for reduction="none" the gradient of
    sum(losses), whose row i is the gradient of sample i's own loss."""
    xt = torch.from_numpy(np.array(x)).requires_grad_(True)
    t = torch.from_numpy(np.asarray(target))
    if t.dtype in (torch.int32, torch.int16, torch.uint8):
        t = t.long()
    w = kwargs.pop("weight", None)
    if w is not None:
        w = torch.from_numpy(np.asarray(w, dtype=np.asarray(x).dtype))
    out = fn(xt, t, weight=w, reduction=reduction, **kwargs)
    (out.sum() if reduction == "none" else out).backward()
    return out.detach().numpy(), xt.grad.numpy()


def _compare(value, grad, want_value, want_grad, dtype, msg):
    dtype = np.dtype(dtype)
    np.testing.assert_allclose(np.asarray(value, dtype=np.float64),
                               np.asarray(want_value, dtype=np.float64),
                               rtol=RTOL[dtype], atol=0, err_msg="value: " + msg)
    scale = float(np.abs(want_grad).max()) if want_grad.size else 1.0
    np.testing.assert_allclose(grad.astype(np.float64), want_grad.astype(np.float64),
                               rtol=RTOL[dtype], atol=ATOL_SCALE[dtype] * scale,
                               err_msg="grad: " + msg)


def _case(seed, dtype, n, c, target_kind, weighted, ignored, ignore_index):
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 2.0, size=(n, c)).astype(dtype)
    weight = rng.uniform(0.2, 2.0, size=c) if weighted else None
    if weighted and c > 1:
        weight[1] = 0.0
    if target_kind == "probs":
        target = rng.dirichlet(np.ones(c), size=n).astype(dtype) if n else np.empty((0, c), dtype)
    else:
        target = rng.integers(0, c, size=n).astype(target_kind)
        if ignored:
            target[::3] = ignore_index
    return x, target, weight


# ignore_index does not apply to probability targets: only "none" for them
MATRIX = [m for m in itertools.product(DTYPES, ["int32", "int64", "probs"], [False, True],
                                       SMOOTHINGS, REDUCTIONS, ["none", "default", "in_range"])
          if m[1] != "probs" or m[5] == "none"]


@pytest.mark.parametrize("dtype,target_kind,weighted,eps,reduction,ignore", MATRIX,
                         ids=[f"{np.dtype(m[0]).name}-{m[1]}-{'w' if m[2] else 'now'}-"
                              f"eps{m[3]}-{m[4]}-ign_{m[5]}" for m in MATRIX])
def test_cross_entropy_matches_torch(dtype, target_kind, weighted, eps, reduction, ignore):
    ignore_index = {"none": -100, "default": -100, "in_range": 2}[ignore]
    x, target, weight = _case(101, dtype, 11, 6, target_kind, weighted, ignore != "none",
                              ignore_index)
    msg = case(seed=101, dtype=dtype, target_kind=target_kind, weighted=weighted,
               label_smoothing=eps, reduction=reduction, ignore_index=ignore_index)
    value, grad = fastloss.CrossEntropyLoss(
        weight=weight, ignore_index=ignore_index, reduction=reduction,
        label_smoothing=eps).value_and_grad(x, target)
    want_value, want_grad = _torch_value_and_grad(
        F.cross_entropy, x, target, reduction, weight=weight, ignore_index=ignore_index,
        label_smoothing=eps)
    _compare(value, grad, want_value, want_grad, dtype, msg)
    # NLL of log_softmax: the same numbers (beyond torch's NLL, which has neither
    # label_smoothing nor probability targets)
    v_nll = fastloss.nll_loss(fastloss.log_softmax(x.astype(np.float64)), target,
                              weight=weight, ignore_index=ignore_index, reduction=reduction,
                              label_smoothing=eps)
    np.testing.assert_allclose(np.asarray(v_nll), want_value.astype(np.float64),
                               rtol=RTOL[np.dtype(dtype)], err_msg="nll_loss: " + msg)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("label_dtype", ["int32", "int64"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("ignore", ["none", "default", "in_range"])
def test_nll_matches_torch(dtype, label_dtype, weighted, reduction, ignore):
    ignore_index = {"none": -100, "default": -100, "in_range": 2}[ignore]
    x, target, weight = _case(102, np.float64, 11, 6, label_dtype, weighted, ignore != "none",
                              ignore_index)
    logp = (x - np.log(np.exp(x).sum(axis=1, keepdims=True))).astype(dtype)
    msg = case(seed=102, dtype=dtype, label_dtype=label_dtype, weighted=weighted,
               reduction=reduction, ignore_index=ignore_index)
    value, grad = fastloss.NLLLoss(weight=weight, ignore_index=ignore_index,
                                   reduction=reduction).value_and_grad(logp, target)
    want_value, want_grad = _torch_value_and_grad(F.nll_loss, logp, target, reduction,
                                                  weight=weight, ignore_index=ignore_index)
    _compare(value, grad, want_value, want_grad, dtype, msg)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("target_kind", ["int64", "probs"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("eps", [0.0, 0.2])
def test_one_dimensional_input_matches_torch(dtype, target_kind, reduction, eps):
    rng = np.random.default_rng(103)
    x = rng.normal(size=7).astype(dtype)
    target = (np.array(3) if target_kind == "int64"
              else rng.dirichlet(np.ones(7)).astype(dtype))
    weight = rng.uniform(0.5, 2.0, 7)
    value, grad = fastloss.CrossEntropyLoss(weight=weight, reduction=reduction,
                                            label_smoothing=eps).value_and_grad(x, target)
    want_value, want_grad = _torch_value_and_grad(F.cross_entropy, x, target, reduction,
                                                  weight=weight, label_smoothing=eps)
    _compare(value, grad, want_value, want_grad, dtype,
             case(dtype=dtype, target_kind=target_kind, reduction=reduction, eps=eps))
    assert np.ndim(value) == 0 and grad.shape == (7,)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("situation", ["no_rows", "all_ignored"])
@pytest.mark.parametrize("weighted", [False, True])
def test_degenerate_batches_match_torch(dtype, reduction, situation, weighted):
    c = 4
    rng = np.random.default_rng(104)
    weight = rng.uniform(0.5, 2.0, c) if weighted else None
    if situation == "no_rows":
        x = np.empty((0, c), dtype=dtype)
        target = np.empty(0, dtype=np.int64)
    else:
        x = rng.normal(size=(5, c)).astype(dtype)
        target = np.full(5, -100)
    msg = case(dtype=dtype, reduction=reduction, situation=situation, weighted=weighted)
    for eps in (0.0, 0.1):
        value, grad = fastloss.CrossEntropyLoss(weight=weight, reduction=reduction,
                                                label_smoothing=eps).value_and_grad(x, target)
        want_value, want_grad = _torch_value_and_grad(F.cross_entropy, x, target, reduction,
                                                      weight=weight, label_smoothing=eps)
        np.testing.assert_array_equal(np.asarray(value, dtype=np.float64),
                                      want_value.astype(np.float64), err_msg=msg)
        np.testing.assert_array_equal(grad, want_grad, err_msg=msg)
    if situation == "no_rows":
        value = fastloss.cross_entropy(x, np.empty((0, c), dtype=dtype), reduction=reduction)
        want = F.cross_entropy(torch.from_numpy(x), torch.from_numpy(np.empty((0, c), dtype)),
                               reduction=reduction).numpy()
        np.testing.assert_array_equal(np.asarray(value, dtype=np.float64),
                                      want.astype(np.float64), err_msg="probs: " + msg)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("shape,axis", [((6, 9), -1), ((6, 9), 0), ((2, 3, 4), 1), ((9,), 0),
                                        ((3, 5000), -1)])
def test_softmax_family_matches_torch(shape, axis, dtype):
    rng = np.random.default_rng(105)
    x = rng.normal(0.0, 4.0, size=shape).astype(dtype)
    xt = torch.from_numpy(x)
    msg = case(shape=shape, axis=axis, dtype=dtype)
    rtol = RTOL[np.dtype(dtype)]
    np.testing.assert_allclose(fastloss.softmax(x, axis=axis),
                               torch.softmax(xt, dim=axis).numpy(), rtol=rtol,
                               atol=1e-300, err_msg="softmax: " + msg)
    lsm = torch.log_softmax(xt, dim=axis).numpy()
    np.testing.assert_allclose(fastloss.log_softmax(x, axis=axis), lsm, rtol=rtol,
                               atol=ATOL_SCALE[np.dtype(dtype)] * np.abs(lsm).max(),
                               err_msg="log_softmax: " + msg)
    lse = torch.logsumexp(xt, dim=axis).numpy()
    np.testing.assert_allclose(fastloss.logsumexp(x, axis=axis), lse, rtol=rtol,
                               atol=ATOL_SCALE[np.dtype(dtype)] * np.abs(x).max(),
                               err_msg="logsumexp: " + msg)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_finite_extreme_logits_match_torch(dtype):
    x = np.array([[1e4, 0.0, -1e4], [-1e30, 1e30, 0.0], [-80.0, 80.0, 79.0]], dtype=dtype)
    y = np.array([1, 2, 0])
    for eps in (0.0, 0.3):
        value, grad = fastloss.CrossEntropyLoss(reduction="none",
                                                label_smoothing=eps).value_and_grad(x, y)
        want_value, want_grad = _torch_value_and_grad(F.cross_entropy, x, y, "none",
                                                      label_smoothing=eps)
        _compare(value, grad, want_value, want_grad, dtype, case(x=x, y=y, eps=eps))


@pytest.mark.parametrize("eps", [0.0, 0.1])
def test_zero_total_weight_matches_torch(eps):
    """Every label's class has weight 0, no row ignored: the "mean" divisor is 0. The
    docs promise to match torch in every combination of options; torch gives NaN."""
    x = np.random.default_rng(106).normal(size=(3, 3))
    y = np.array([0, 0, 1])
    w = np.array([0.0, 0.0, 1.0])
    value, grad = fastloss.CrossEntropyLoss(weight=w, label_smoothing=eps).value_and_grad(x, y)
    want_value, want_grad = _torch_value_and_grad(F.cross_entropy, x, y, "mean", weight=w,
                                                  label_smoothing=eps)
    msg = (f"CrossEntropyLoss(weight={w!r}, label_smoothing={eps}).value_and_grad(x, {y!r}) "
           "with x = np.random.default_rng(106).normal(size=(3, 3))")
    np.testing.assert_array_equal(value, want_value, err_msg="value: " + msg)
    np.testing.assert_array_equal(grad, want_grad, err_msg="grad: " + msg)
