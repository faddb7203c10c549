"""Shared helpers for the fastloss test suite.

Conventions:
- every random input comes from ``np.random.default_rng(seed)`` with the seed in the
  test's parameters or in the assertion message, so a failure names its case;
- tolerances are per dtype (``TOL``), and expected values come from
  ``fastloss.reference``, closed forms, finite differences or PyTorch, never from
  fastloss's own output;
- ``case(...)`` formats the parameters of a case for assertion messages.
"""
import itertools
import math
import pathlib
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# Deterministic, modest hypothesis runs: the suite must stay fast and reproducible.
settings.register_profile(
    "fastloss",
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("fastloss")

DTYPES = [np.float32, np.float64]
DTYPE_IDS = ["f32", "f64"]

# Relative tolerances against the float64 reference (which rounds to the input dtype).
#   rtol: for values (softmax entries, losses) that keep relative accuracy;
#   atol: absolute floor for values that can legitimately cancel to ~0, used as a
#         multiple of the largest magnitude in the expected array (see `assert_close`).
TOL = {
    np.dtype(np.float64): dict(rtol=1e-12, atol=1e-14),
    np.dtype(np.float32): dict(rtol=2e-6, atol=1e-6),
}

# Losses reduced over rows ("mean"/"sum"): the spec's bounds.
LOSS_RTOL = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-6}

FLT_MIN = float(np.finfo(np.float32).tiny)
DBL_MIN = float(np.finfo(np.float64).tiny)


def tol(dtype):
    return TOL[np.dtype(dtype)]


def case(**params):
    """A one-line description of a test case for assertion messages."""
    parts = []
    for k, v in params.items():
        if isinstance(v, type) and issubclass(v, np.generic):
            v = v.__name__
        elif isinstance(v, np.dtype):
            v = v.name
        elif isinstance(v, np.ndarray):
            v = f"array(shape={v.shape}, dtype={v.dtype.name})" if v.size > 8 else repr(v)
        parts.append(f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}")
    return ", ".join(parts)


def assert_close(actual, expected, dtype, msg="", rtol=None, atol_scale=None, scale=None):
    """assert_allclose with the dtype's tolerances.

    The absolute tolerance is ``atol_scale * max(|expected| over finite entries, 1e-300)``
    so that arrays of small gradients (divided by N in "mean") keep a meaningful floor;
    pass `scale` where the expected array may be all zeros.
    Infinities and NaNs must match exactly (assert_allclose's default).
    """
    t = tol(dtype)
    rtol = t["rtol"] if rtol is None else rtol
    atol_scale = t["atol"] if atol_scale is None else atol_scale
    expected = np.asarray(expected, dtype=np.float64)
    finite = expected[np.isfinite(expected)]
    if scale is None:
        scale = float(np.max(np.abs(finite))) if finite.size else 1.0
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected, rtol=rtol,
                               atol=atol_scale * max(scale, 1e-300), err_msg=msg)


def numerical_grad(f, x, h=1e-3):
    """Fourth-order central differences of a scalar function of a float64 array.

    ``(-f(x + 2h) + 8 f(x + h) - 8 f(x - h) + f(x - 2h)) / (12 h)`` per entry: truncation
    error O(h^4 f^(5)), rounding error O(eps |f| / h) (about 1e-13 for h = 1e-3 and
    losses of order 1).
    """
    x = np.array(x, dtype=np.float64)
    g = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        orig = x[idx]
        vals = []
        for step in (2 * h, h, -h, -2 * h):
            x[idx] = orig + step
            vals.append(float(f(x)))
        x[idx] = orig
        g[idx] = (-vals[0] + 8 * vals[1] - 8 * vals[2] + vals[3]) / (12 * h)
    return g


# ---- classification cases ---------------------------------------------------------------

TARGET_KINDS = ["int32", "int64", "probs"]


def make_class_case(seed, dtype, target_kind, n=13, c=7, weighted=False, ignored=False,
                    nll=False, ignore_index=-100):
    """(input, target, weight, ignore_index) for a classification-loss case.

    - input: logits ~ N(0, 2^2) (CE) or their float64 log-softmax (NLL), cast to dtype;
    - hard labels (int32/int64): uniform in [0, c); with `ignored`, rows 1 and 4 (and
      the last) get `ignore_index`;
    - probabilities: rows of a Dirichlet draw (they sum to 1) and, with `ignored`, rows
      1 and 4 set to all zeros (they contribute nothing) and row 2 scaled by 1.5 (need
      not sum to 1); `ignore_index` is set to 0 to show it never applies to them;
    - weight: uniform in [0.2, 2] with the last class weighted 0.
    """
    rng = np.random.default_rng(seed)
    logits = rng.normal(0.0, 2.0, size=(n, c))
    if nll:
        z = logits - logits.max(axis=1, keepdims=True)
        logits = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    x = logits.astype(dtype)
    weight = None
    if weighted:
        weight = rng.uniform(0.2, 2.0, size=c)
        weight[-1] = 0.0
    if target_kind == "probs":
        t = rng.dirichlet(np.ones(c), size=n)
        if ignored:
            t[[1, 4]] = 0.0
            t[2] *= 1.5
            ignore_index = 0
        target = t.astype(dtype)
    else:
        labels = rng.integers(0, c, size=n)
        if ignored:
            labels[[1, 4, n - 1]] = ignore_index
        target = labels.astype(target_kind)
    return x, target, weight, ignore_index


# Where the sum S of exp(x_j - max) over a row crosses the kernels' switch between a
# plain sum and one split into the max entry and the rest (S < 1.5): S - 1 from 1e-9 to 2.
S_MINUS_1_ACROSS_THE_SPLIT = [1e-9, 1e-4, 0.3, 0.45, 0.5, 0.55, 0.8, 0.95, 1.0, 1.05, 1.3, 2.0]


def make_dominated_rows(seed, c, dtype):
    """Rows of c logits, one per value of S_MINUS_1_ACROSS_THE_SPLIT, each led by one
    entry at a random place: (x in dtype, where the max is, S - 1 of the rounded x summed
    exactly in float64, exp(x_j - max) in float64 with 0 at the max)."""
    rng = np.random.default_rng(seed)
    n = len(S_MINUS_1_ACROSS_THE_SPLIT)
    x = rng.normal(size=(n, c))
    top = rng.integers(0, c, n)
    for i, s_minus_1 in enumerate(S_MINUS_1_ACROSS_THE_SPLIT):
        others = np.delete(x[i], top[i])
        x[i, top[i]] = others.max() + np.log(np.exp(others - others.max()).sum() / s_minus_1)
    x = x.astype(dtype)
    x64 = x.astype(np.float64)
    e = np.exp(x64 - x64[np.arange(n), top][:, None])
    e[np.arange(n), top] = 0.0
    tail = np.array([math.fsum(row) for row in e])
    return x, top, tail, e


@pytest.fixture
def restore_threads():
    """Undo any fastloss.set_num_threads a test makes."""
    import fastloss
    yield
    fastloss.set_num_threads(None)


REDUCTIONS = ["mean", "sum", "none"]
SMOOTHINGS = [0.0, 0.1, 1.0]


def class_loss_matrix_ids(dtype, target_kind, weighted, label_smoothing, reduction, ignored):
    return (f"{np.dtype(dtype).name}-{target_kind}-{'w' if weighted else 'now'}-"
            f"eps{label_smoothing}-{reduction}-{'ign' if ignored else 'noign'}")


def check_class_loss_against_reference(nll, dtype, target_kind, weighted, label_smoothing,
                                       reduction, ignored, seed=0, n=13, c=7):
    """One cell of the option matrix: value and gradient against fastloss.reference,
    and the documented return types."""
    import fastloss
    from fastloss import reference as ref

    x, target, weight, ignore_index = make_class_case(
        seed, dtype, target_kind, n=n, c=c, weighted=weighted, ignored=ignored, nll=nll)
    cls = fastloss.NLLLoss if nll else fastloss.CrossEntropyLoss
    opts = dict(weight=weight, ignore_index=ignore_index, reduction=reduction,
                label_smoothing=label_smoothing)
    msg = ("make_class_case(" + case(seed=seed, dtype=dtype, target_kind=target_kind, n=n,
                                     c=c, weighted=weighted, ignored=ignored, nll=nll)
           + f"); {cls.__name__}(" + case(ignore_index=ignore_index, reduction=reduction,
                                          label_smoothing=label_smoothing) + ")")
    value, grad = cls(**opts).value_and_grad(x, target)
    ref_fn = ref.nll_loss_value_and_grad if nll else ref.cross_entropy_value_and_grad
    want_value, want_grad = ref_fn(x, target, **opts)

    if reduction == "none":
        assert isinstance(value, np.ndarray), msg
        assert value.shape == (n,) and value.dtype == dtype, msg
        # per-sample losses are sums of non-negative terms: relative accuracy throughout
        np.testing.assert_allclose(value, want_value, rtol=tol(dtype)["rtol"], atol=0,
                                   err_msg="value: " + msg)
    else:
        assert isinstance(value, np.dtype(dtype).type), (type(value), msg)
        np.testing.assert_allclose(value, want_value, rtol=LOSS_RTOL[np.dtype(dtype)],
                                   atol=0, err_msg="value: " + msg)
    assert grad.shape == x.shape and grad.dtype == dtype, msg
    assert grad.flags.c_contiguous, msg
    assert_close(grad, want_grad, dtype, "grad: " + msg)
    return x, target, opts


# Every option combination of a classification loss:
# (dtype, target kind, weighted, label_smoothing, reduction, with ignored rows).
CLASS_LOSS_MATRIX = list(itertools.product(DTYPES, TARGET_KINDS, [False, True], SMOOTHINGS,
                                           REDUCTIONS, [False, True]))
CLASS_LOSS_MATRIX_IDS = [class_loss_matrix_ids(*m) for m in CLASS_LOSS_MATRIX]


def run_python_blocks(relative_path):
    """Run every ```python block of a Markdown file of the source tree (a path from the
    project root), each in a fresh namespace; skip when the tests run without the
    sources beside them."""
    page = pathlib.Path(__file__).resolve().parents[1] / relative_path
    if not page.exists():
        pytest.skip(f"{relative_path} is not beside the tests (installed without the sources)")
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)
    assert blocks, f"{relative_path} has no python block"
    for code in blocks:
        exec(compile(code, str(page), "exec"), {})
