"""L1, L2 and ElasticNet over lists of parameter arrays: values and in-place gradients
against fastloss.reference, finite differences, PyTorch and closed forms; masks;
determinism across threads; every rejected input."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fastloss
from fastloss import reference as ref

from conftest import DTYPE_IDS, DTYPES, assert_close, case, numerical_grad

THREAD_COUNTS = [1, 2, 3, 8]

# (regularizer, reference function of (params) -> (value, grads)), per option set
REGULARIZERS = {
    "L1": (lambda: fastloss.L1(0.3), lambda p: ref.l1_value_and_grad(p, 0.3)),
    "L2-half": (lambda: fastloss.L2(0.3), lambda p: ref.l2_value_and_grad(p, 0.3, "half")),
    "L2-full": (lambda: fastloss.L2(0.3, convention="full"),
                lambda p: ref.l2_value_and_grad(p, 0.3, "full")),
    "EN-0.5": (lambda: fastloss.ElasticNet(0.7, 0.5),
               lambda p: ref.elastic_net_value_and_grad(p, 0.7, 0.5)),
    "EN-0": (lambda: fastloss.ElasticNet(0.7, 0.0),
             lambda p: ref.elastic_net_value_and_grad(p, 0.7, 0.0)),
    "EN-1": (lambda: fastloss.ElasticNet(0.7, 1.0),
             lambda p: ref.elastic_net_value_and_grad(p, 0.7, 1.0)),
}
SHAPE_LISTS = {
    "one": [(5, 4)],
    "mixed": [(3, 4), (4,), (2, 3, 5), (1, 1), (0, 3), (7, 2)],
    "many-small": [(2, 3)] * 300,
}


def make_params(shapes, dtype, seed):
    rng = np.random.default_rng(seed)
    params = [rng.normal(0.0, 1.5, size=s).astype(dtype) for s in shapes]
    for p in params:  # exact zeros: the L1 subgradient there is 0
        p.reshape(-1)[::5] = 0.0
    grads = [rng.normal(size=s).astype(dtype) for s in shapes]
    return params, grads


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("shapes", list(SHAPE_LISTS), ids=list(SHAPE_LISTS))
@pytest.mark.parametrize("name", list(REGULARIZERS))
def test_value_and_grad_match_reference(name, shapes, dtype):
    make_reg, reference = REGULARIZERS[name]
    params, grads = make_params(SHAPE_LISTS[shapes], dtype, seed=len(shapes))
    before = [g.copy() for g in grads]
    penalized = [p for p in params if p.ndim >= 2]
    want_value, want_grads = reference(penalized)
    msg = case(reg=name, shapes=shapes, dtype=dtype)

    value = make_reg().value_and_grad(params, grads)
    assert isinstance(value, np.dtype(dtype).type), msg
    assert_close(value, want_value, dtype, msg)
    assert_close(make_reg()(params), want_value, dtype, msg)
    wanted = iter(want_grads)
    for k, (p, g, g0) in enumerate(zip(params, grads, before)):
        if p.ndim >= 2:
            expected = g0.astype(np.float64) + next(wanted).astype(np.float64)
            assert_close(g, expected, dtype, f"grads[{k}]: {msg}", scale=max(
                1.0, float(np.abs(expected).max(initial=0))))
        else:
            np.testing.assert_array_equal(g, g0, err_msg=f"bias grads[{k}] changed: {msg}")


@pytest.mark.parametrize("name", list(REGULARIZERS))
def test_gradient_matches_finite_differences(name):
    make_reg, _ = REGULARIZERS[name]
    rng = np.random.default_rng(3)
    # away from 0: |w| is smooth there
    w = rng.uniform(0.5, 2.0, size=(3, 4)) * rng.choice([-1.0, 1.0], size=(3, 4))
    reg = make_reg()
    fd = numerical_grad(lambda x: reg([x]), w)
    assert_close(reg.grad([w])[0], fd, np.float64, f"reg={name}", rtol=1e-9,
                 atol_scale=1e-10)


def test_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    w = rng.normal(size=(6, 5))
    w[0, :3] = 0.0
    t = torch.tensor(w, requires_grad=True)
    alpha, rho = 0.8, 0.3
    loss = alpha * (rho * t.abs().sum() + 0.5 * (1 - rho) * (t ** 2).sum())
    loss.backward()
    reg = fastloss.ElasticNet(alpha, rho)
    assert_close(reg([w]), loss.item(), np.float64)
    assert_close(reg.grad([w])[0], t.grad.numpy(), np.float64)


def test_l2_conventions_and_elastic_net_limits_closed_form():
    W = np.array([[1.0, -2.0], [0.0, 3.0]])   # sum |w| = 6, sum w^2 = 14
    assert fastloss.L1(2.0)([W]) == 12.0
    assert fastloss.L2(2.0)([W]) == 14.0
    assert fastloss.L2(2.0, convention="full")([W]) == 28.0
    np.testing.assert_array_equal(fastloss.L2(2.0).grad([W])[0], 2.0 * W)
    np.testing.assert_array_equal(fastloss.L2(2.0, convention="full").grad([W])[0], 4.0 * W)
    assert fastloss.ElasticNet(2.0, 1.0)([W]) == fastloss.L1(2.0)([W])
    assert fastloss.ElasticNet(2.0, 0.0)([W]) == fastloss.L2(2.0)([W])
    assert fastloss.ElasticNet(2.0, 0.25)([W]) == 2.0 * (0.25 * 6 + 0.375 * 14)
    np.testing.assert_array_equal(fastloss.L1(1.0).grad([W])[0], np.sign(W))


def test_functional_twins():
    W = [np.array([[1.0, -2.0], [0.0, 3.0]])]
    assert fastloss.l1_penalty(W, 2.0) == 12.0
    assert fastloss.l2_penalty(W, 2.0, "full") == 28.0
    assert fastloss.elastic_net_penalty(W, 2.0, 0.25) == 2.0 * (0.25 * 6 + 0.375 * 14)


# ---- masks and names -------------------------------------------------------------------

def test_default_mask_skips_biases_and_scalars():
    W, b, s = np.ones((2, 2)), np.ones(2), np.array(3.0)
    assert fastloss.L1(1.0)([W, b, s]) == 4.0
    g = fastloss.L1(1.0).grad([W, b, s])
    np.testing.assert_array_equal(g[1], 0.0)
    np.testing.assert_array_equal(g[2], 0.0)


def test_mask_list_and_predicate_on_names():
    W, b = np.ones((2, 2)), np.full(3, 2.0)
    assert fastloss.L1(1.0, penalize=[False, True])([W, b]) == 6.0
    named = [("0.weight", W), ("0.bias", b)]
    seen = []

    def not_bias(name, array):
        seen.append((name, array.shape))
        return not name.endswith("bias")

    assert fastloss.L2(2.0, penalize=not_bias)(named) == 4.0
    assert seen == [("0.weight", (2, 2)), ("0.bias", (3,))]
    everything = fastloss.L1(1.0, penalize=lambda name, a: True)
    assert everything({"w": W, "b": b}) == 10.0
    # unnamed arrays are named by their index
    assert fastloss.L1(1.0, penalize=lambda name, a: name == "1")([W, b]) == 6.0


def test_named_grads_and_dicts():
    W, b = np.ones((2, 2)), np.ones(2)
    grads = {"w": np.zeros((2, 2)), "b": np.zeros(2)}
    fastloss.L1(1.0).value_and_grad({"w": W, "b": b}, grads)
    np.testing.assert_array_equal(grads["w"], 1.0)
    with pytest.raises(ValueError, match=r"grads\[0\].*named 'b' for parameter 'w'"):
        fastloss.L1(1.0).value_and_grad([("w", W)], [("b", np.zeros((2, 2)))])


def test_mixed_dtypes_and_empty_lists():
    a, b = np.ones((3, 3), np.float32), np.full((2, 2), 2.0)
    ga, gb = np.zeros_like(a), np.zeros_like(b)
    value = fastloss.L2(1.0, convention="full").value_and_grad([a, b], [ga, gb])
    assert type(value) is np.float64 and value == 9.0 + 16.0
    np.testing.assert_array_equal(ga, 2.0)
    np.testing.assert_array_equal(gb, 4.0)
    assert ga.dtype == np.float32
    empty = fastloss.L1(1.0)([])
    assert type(empty) is np.float64 and empty == 0.0


def test_noncontiguous_params_are_read_correctly():
    big = np.arange(24, dtype=np.float64).reshape(4, 6) - 10
    view = big[:, ::2]
    assert fastloss.L1(1.0)([view]) == np.abs(view).sum()
    g = np.zeros(view.shape)
    fastloss.L1(1.0).value_and_grad([view], [g])
    np.testing.assert_array_equal(g, np.sign(view))


# ---- NaN, inf, zero strength ------------------------------------------------------------

def test_nan_and_inf_weights():
    w = np.array([[np.nan, 1.0], [np.inf, -np.inf]])
    g = np.zeros_like(w)
    assert np.isnan(fastloss.L1(1.0).value_and_grad([w], [g]))
    np.testing.assert_array_equal(g, [[np.nan, 1.0], [1.0, -1.0]])
    w_inf = np.array([[np.inf, 1.0]])
    assert fastloss.L1(1.0)([w_inf]) == np.inf
    assert fastloss.L2(1.0)([w_inf]) == np.inf
    g2 = fastloss.L2(1.0).grad([w_inf])[0]
    np.testing.assert_array_equal(g2, [[np.inf, 1.0]])
    # a term with coefficient 0 is left out: no 0 * inf = NaN
    assert fastloss.ElasticNet(1.0, 1.0)([w_inf]) == np.inf
    np.testing.assert_array_equal(fastloss.ElasticNet(1.0, 1.0).grad([w_inf])[0], [[1.0, 1.0]])
    assert fastloss.L1(0.0)([w_inf]) == 0.0


# ---- properties --------------------------------------------------------------------------

@given(arrays=st.lists(hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=3,
                                                               max_side=5),
                                  elements=st.floats(-1e6, 1e6)), min_size=1, max_size=5),
       alpha=st.floats(0.0, 10.0), ratio=st.floats(0.0, 1.0))
def test_penalty_is_nonnegative_and_fused_equals_value(arrays, alpha, ratio):
    reg = fastloss.ElasticNet(alpha, ratio)
    grads = [np.zeros_like(a) for a in arrays]
    value = reg.value_and_grad(arrays, grads)
    assert value >= 0.0
    assert value == reg(arrays)
    want, want_grads = ref.elastic_net_value_and_grad(arrays, alpha, ratio)
    np.testing.assert_allclose(value, want, rtol=1e-12)
    for g, w in zip(grads, want_grads):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12 * alpha)


# ---- threads -------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_bitwise_identical_across_thread_counts(dtype):
    rng = np.random.default_rng(11)
    sizes = rng.integers(1, 90000, size=37)
    params = [rng.normal(size=(int(n), 1)).astype(dtype) for n in sizes]
    params += [rng.normal(size=(5, 3)).astype(dtype) for _ in range(200)]
    total = sum(p.size for p in params)
    if fastloss.build_info()["openmp"]:
        assert fastloss._kernels.plan_threads(8, 2.0 * total) == 8, total
    results = []
    for nt in THREAD_COUNTS:
        grads = [np.full_like(p, 0.25) for p in params]
        value = fastloss.ElasticNet(0.3, 0.4, n_threads=nt).value_and_grad(params, grads)
        results.append((value, np.concatenate([g.ravel() for g in grads])))
    for nt, (value, grads) in zip(THREAD_COUNTS[1:], results[1:]):
        assert value == results[0][0], f"value: n_threads=1 vs {nt}, {dtype.__name__}"
        np.testing.assert_array_equal(grads, results[0][1],
                                      err_msg=f"grads: n_threads=1 vs {nt}")


def test_blocks_straddling_many_arrays_equal_one_array():
    rng = np.random.default_rng(12)
    flat = rng.normal(size=30000)
    pieces = [p.reshape(-1, 1) for p in np.split(flat, np.cumsum(rng.integers(1, 40, 1400)))
              if p.size]
    reg = fastloss.ElasticNet(1.0, 0.5)
    assert_close(reg(pieces), reg([flat.reshape(1, -1)]), np.float64)


# ---- rejected inputs -----------------------------------------------------------------------

@pytest.mark.parametrize("make,exc,match", [
    (lambda: fastloss.L1(-1.0), ValueError, r"strength.*>= 0.*-1\.0"),
    (lambda: fastloss.L1(float("nan")), ValueError, r"strength.*nan"),
    (lambda: fastloss.L2(float("inf")), ValueError, r"strength.*inf"),
    (lambda: fastloss.L1(True), TypeError, r"strength.*True"),
    (lambda: fastloss.L1("1"), TypeError, r"strength.*'1'"),
    (lambda: fastloss.L2(1.0, convention="squared"), ValueError, r"convention.*'squared'"),
    (lambda: fastloss.ElasticNet(-0.1), ValueError, r"alpha.*-0\.1"),
    (lambda: fastloss.ElasticNet(1.0, 1.5), ValueError, r"l1_ratio.*1\.5"),
    (lambda: fastloss.ElasticNet(1.0, -0.5), ValueError, r"l1_ratio.*-0\.5"),
    (lambda: fastloss.L1(1.0, penalize="all"), TypeError, r"penalize.*'all'"),
    (lambda: fastloss.L1(1.0, penalize=[True, 1]), TypeError, r"penalize\[1\].*1"),
    (lambda: fastloss.L1(1.0, n_threads=0), ValueError, r"n_threads.*0"),
], ids=["neg", "nan", "inf", "bool", "str", "convention", "alpha", "ratio>1", "ratio<0",
        "penalize-str", "penalize-int", "threads"])
def test_bad_options_rejected(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def _bad_call_cases():
    W = np.ones((3, 2))
    ro = np.zeros((3, 2))
    ro.flags.writeable = False
    shared = np.zeros((3, 2))
    base = np.zeros((6, 2))
    return [
        ("single-array", lambda r: r(W), TypeError, r"params.*list.*shape \(3, 2\)"),
        ("not-iterable", lambda r: r(3), TypeError, r"params.*int"),
        ("complex", lambda r: r([W.astype(complex)]), TypeError, r"params\[0\].*complex128"),
        ("lengths", lambda r: r.value_and_grad([W, W], [np.zeros((3, 2))]), ValueError,
         r"2 params, 1 grads"),
        ("shape", lambda r: r.value_and_grad([W], [np.zeros((2, 3))]), ValueError,
         r"grads\[0\].*shape \(3, 2\).*\(2, 3\)"),
        ("dtype", lambda r: r.value_and_grad([W], [np.zeros((3, 2), np.float32)]), TypeError,
         r"grads\[0\].*float64.*float32"),
        ("not-array", lambda r: r.value_and_grad([W], [[[0.0] * 2] * 3]), TypeError,
         r"grads\[0\].*numpy.ndarray.*list"),
        ("strided", lambda r: r.value_and_grad([W], [np.zeros((3, 4))[:, ::2]]), ValueError,
         r"grads\[0\].*C-contiguous"),
        ("read-only", lambda r: r.value_and_grad([W], [ro]), ValueError,
         r"grads\[0\].*read-only"),
        ("grad-is-param", lambda r: r.value_and_grad([shared], [shared]), ValueError,
         r"overlaps"),
        ("grads-share", lambda r: r.value_and_grad([W, W], [shared, shared]), ValueError,
         r"grads\[1\] overlaps"),
        ("grad-views", lambda r: r.value_and_grad([W, W], [base[:3], base[2:5]]), ValueError,
         r"grads\[1\] overlaps"),
        ("mask-length", lambda r: fastloss.L1(1.0, penalize=[True])([W, W]), ValueError,
         r"penalize.*2 arrays, got 1"),
    ]


@pytest.mark.parametrize("what,call,exc,match", _bad_call_cases(),
                         ids=[c[0] for c in _bad_call_cases()])
def test_bad_calls_rejected(what, call, exc, match):
    with pytest.raises(exc, match=match):
        call(fastloss.L1(1.0))


def test_params_may_share_memory_with_each_other():
    W = np.ones((3, 2))
    grads = [np.zeros((3, 2)), np.zeros((3, 2))]
    assert fastloss.L1(1.0).value_and_grad([W, W], grads) == 12.0
    np.testing.assert_array_equal(grads[1], 1.0)


def test_repr_names_the_options():
    assert repr(fastloss.L2(0.5, convention="full")) == \
        "L2(strength=0.5, convention='full', penalize=None)"
    assert "l1_ratio=0.25" in repr(fastloss.ElasticNet(1.0, 0.25))
