"""CompositeLoss and its auxiliary terms: values and gradients against
fastloss.reference, finite differences, PyTorch and closed forms; the breakdown and its
warning; the total as the exact sum of its parts; every rejected input."""
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fastloss
from fastloss import reference as ref

from conftest import DTYPE_IDS, DTYPES, LOSS_RTOL, assert_close, case, numerical_grad

A = np.random.default_rng(0).normal(size=(4, 6))  # a linear feature map for phi


def phi(x):
    return np.tanh(A @ np.asarray(x, dtype=np.float64))


def phi_vjp(x, v):
    return A.T @ ((1.0 - phi(x) ** 2) * v)


# name -> (fastloss term, its call arguments besides the input, reference twin)
def _terms(rng, dtype):
    groups = np.array([0, 1, 2, 0, 1, 2, 2, 0])
    target = rng.normal(size=6).astype(dtype)
    return {
        "temporal-squared": (fastloss.TemporalConsistency("squared"), {},
                             lambda x: ref.temporal_consistency_value_and_grad(x, "squared")),
        "temporal-l1-sum": (fastloss.TemporalConsistency("l1", "sum"), {},
                            lambda x: ref.temporal_consistency_value_and_grad(x, "l1", "sum")),
        "parity-range": (fastloss.DemographicParityGap(groups), {},
                         lambda x: ref.demographic_parity_gap_value_and_grad(x, groups)),
        "parity-mad": (fastloss.DemographicParityGap(kind="mad"), {"groups": groups},
                       lambda x: ref.demographic_parity_gap_value_and_grad(x, groups, "mad")),
        "gan-generator": (fastloss.GANGeneratorLoss(), {},
                          lambda x: ref.gan_generator_value_and_grad(x)),
        "gan-generator-sum": (fastloss.GANGeneratorLoss("sum"), {},
                              lambda x: ref.gan_generator_value_and_grad(x, "sum")),
        "perceptual": (fastloss.PerceptualLoss(phi, phi_vjp), {"target": target},
                       lambda x: ref.perceptual_value_and_grad(x, target, phi, phi_vjp)),
    }


INPUT_SHAPES = {"temporal-squared": (5, 3), "temporal-l1-sum": (6, 2, 2),
                "parity-range": (8,), "parity-mad": (8,), "gan-generator": (7,),
                "gan-generator-sum": (3, 4), "perceptual": (6,)}


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("name", list(INPUT_SHAPES))
def test_terms_match_reference_and_finite_differences(name, dtype):
    rng = np.random.default_rng(len(name))
    term, kwargs, reference = _terms(rng, dtype)[name]
    x = rng.normal(0.0, 2.0, size=INPUT_SHAPES[name]).astype(dtype)
    msg = case(term=name, dtype=dtype)
    value, grad = term.value_and_grad(x, **kwargs)
    want_value, want_grad = reference(x)
    assert isinstance(value, np.dtype(dtype).type), msg
    np.testing.assert_allclose(value, want_value, rtol=LOSS_RTOL[np.dtype(dtype)],
                               err_msg=msg)
    assert grad.dtype == dtype and grad.shape == x.shape, msg
    assert_close(grad, want_grad, dtype, msg)
    if dtype == np.float64:
        fd = numerical_grad(lambda z: reference(z)[0], x, h=1e-4)
        assert_close(grad, fd, np.float64, "finite differences: " + msg, rtol=1e-7,
                     atol_scale=1e-8)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gan_discriminator_matches_reference_and_torch(reduction, dtype):
    rng = np.random.default_rng(5)
    real = rng.normal(0, 3, size=(4, 3)).astype(dtype)
    fake = rng.normal(0, 3, size=(4, 3)).astype(dtype)
    value, (g_real, g_fake) = fastloss.GANDiscriminatorLoss(reduction).value_and_grad(
        real, fake)
    want, (w_real, w_fake) = ref.gan_discriminator_value_and_grad(real, fake, reduction)
    np.testing.assert_allclose(value, want, rtol=LOSS_RTOL[np.dtype(dtype)])
    assert_close(g_real, w_real, dtype)
    assert_close(g_fake, w_fake, dtype)
    assert fastloss.gan_discriminator_loss(real, fake, reduction).shape == np.shape(want)
    torch = pytest.importorskip("torch")
    r = torch.tensor(real, dtype=torch.float64, requires_grad=True)
    f = torch.tensor(fake, dtype=torch.float64, requires_grad=True)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    loss = (bce(r, torch.ones_like(r), reduction=reduction)
            + bce(f, torch.zeros_like(f), reduction=reduction))
    loss.backward(torch.ones_like(loss))
    np.testing.assert_allclose(value, loss.detach().numpy(), rtol=LOSS_RTOL[np.dtype(dtype)])
    assert_close(g_real, r.grad.numpy(), dtype)
    assert_close(g_fake, f.grad.numpy(), dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_gan_losses_stable_for_huge_logits(dtype):
    big = np.array([1e30, -1e30, 0.0, np.inf, -np.inf], dtype=dtype)
    value, grad = fastloss.GANGeneratorLoss("none").value_and_grad(big)
    np.testing.assert_array_equal(value, np.array([0.0, 1e30, np.log(2), 0.0, np.inf],
                                                  dtype=dtype))
    np.testing.assert_array_equal(grad, np.array([0.0, -1.0, -0.5, 0.0, -1.0], dtype=dtype))
    value, (g_real, g_fake) = fastloss.GANDiscriminatorLoss("none").value_and_grad(big, big)
    np.testing.assert_array_equal(value, np.array([1e30, 1e30, 2 * np.log(2), np.inf,
                                                   np.inf], dtype=dtype))
    np.testing.assert_array_equal(g_real, np.array([0.0, -1.0, -0.5, 0.0, -1.0], dtype=dtype))
    np.testing.assert_array_equal(g_fake, np.array([1.0, 0.0, 0.5, 1.0, 0.0], dtype=dtype))
    assert np.isnan(fastloss.gan_generator_loss(np.array([np.nan, 1.0])))


def test_closed_forms():
    # temporal: constant sequences cost nothing; a ramp costs its step
    assert fastloss.temporal_consistency(np.ones((4, 3))) == 0.0
    assert fastloss.temporal_consistency(np.arange(5.0)[:, None], kind="l1") == 1.0
    assert fastloss.temporal_consistency(np.arange(5.0) * 3, reduction="sum") == 36.0
    assert np.isnan(fastloss.temporal_consistency(np.ones((1, 3))))
    # parity: two groups give |m_a - m_b| (range) and half of it (mad)
    p, g = np.array([0.9, 0.7, 0.2, 0.4]), np.array(["a", "a", "b", "b"])
    assert fastloss.demographic_parity_gap(p, g) == pytest.approx(0.5, rel=1e-15)
    assert fastloss.demographic_parity_gap(p, g, "mad") == pytest.approx(0.25, rel=1e-15)
    assert fastloss.demographic_parity_gap(p, np.zeros(4)) == 0.0
    # equal means: gap 0, subgradient 0
    value, grad = fastloss.DemographicParityGap([0, 1, 0, 1]).value_and_grad(
        np.array([1.0, 2.0, 2.0, 1.0]))
    assert value == 0.0
    np.testing.assert_array_equal(grad, 0.0)
    # perceptual with the identity map is the mean squared error
    ident = fastloss.PerceptualLoss(lambda x: x, lambda x, v: v)
    y, t = np.array([1.0, 2.0, 4.0]), np.array([0.0, 2.0, 2.0])
    value, grad = ident.value_and_grad(y, t)
    assert value == 5.0 / 3.0
    np.testing.assert_allclose(grad, 2 * (y - t) / 3, rtol=1e-15)


@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, min_side=2,
                                                 max_side=6),
                    elements=st.floats(-1e3, 1e3)),
       kind=st.sampled_from(["squared", "l1"]))
def test_auxiliary_losses_are_nonnegative(x, kind):
    assert fastloss.temporal_consistency(x, kind) >= 0
    assert fastloss.gan_generator_loss(x) >= 0
    assert fastloss.gan_discriminator_loss(x, x[::-1]) >= 0
    flat = x.ravel()
    groups = np.arange(flat.size) % 3
    assert fastloss.demographic_parity_gap(flat, groups) >= 0
    assert fastloss.demographic_parity_gap(flat, groups, "mad") >= 0


# ---- CompositeLoss ------------------------------------------------------------------------

class LinearModel:
    """logits = X @ W + b, and the backward pass a NumPy user writes."""

    def __init__(self, seed, dtype, n=8, d=5, c=3):
        rng = np.random.default_rng(seed)
        self.X = rng.normal(size=(n, d)).astype(dtype)
        self.W = rng.normal(size=(d, c)).astype(dtype)
        self.b = rng.normal(size=c).astype(dtype)
        self.y = rng.integers(0, c, size=n)
        self.groups = np.arange(n) % 2

    def logits(self):
        return self.X @ self.W + self.b

    def params(self):
        return [("W", self.W), ("b", self.b)]

    def backward(self, grad_logits):
        return [self.X.T @ grad_logits, grad_logits.sum(axis=0)]


def _composite(l2=1e-2, smooth=0.1, gen=0.05):
    return fastloss.CompositeLoss(fastloss.CrossEntropyLoss(), {
        "smooth": (smooth, fastloss.TemporalConsistency("squared")),
        "generator": (gen, fastloss.GANGeneratorLoss()),
        "l2": (l2, fastloss.L2(1.0)),
        "l1": (l2, fastloss.L1(1.0)),
    })


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_composite_total_gradients_and_breakdown(dtype):
    m = LinearModel(1, dtype)
    z = m.logits()
    loss = _composite()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # balanced terms: no warning
        value, grad, param_grads, bd = loss.value_and_grad(
            z, m.y, params=m.params(), backward=m.backward)
    msg = case(dtype=dtype)
    # the total is exactly the task plus the weighted values, in this order
    parts = [bd[name].weighted_value for name in ("task", "smooth", "generator", "l2", "l1")]
    assert list(bd) == ["task", "smooth", "generator", "l2", "l1"]
    assert value == np.dtype(dtype).type(sum(parts[1:], parts[0])), msg
    # each part from independent sources
    ce_value, ce_grad = ref.cross_entropy_value_and_grad(z, m.y)
    t_value, t_grad = ref.temporal_consistency_value_and_grad(z)
    g_value, g_grad = ref.gan_generator_value_and_grad(z)
    W = m.W.astype(np.float64)
    l2_value, l1_value = 0.5 * np.sum(W ** 2), np.sum(np.abs(W))
    rtol = LOSS_RTOL[np.dtype(dtype)]
    for name, want in [("task", ce_value), ("smooth", t_value), ("generator", g_value),
                       ("l2", l2_value), ("l1", l1_value)]:
        np.testing.assert_allclose(bd[name].value, want, rtol=rtol, err_msg=name)
    want_grad = (ce_grad.astype(np.float64) + 0.1 * t_grad.astype(np.float64)
                 + 0.05 * g_grad.astype(np.float64))
    assert_close(grad, want_grad, dtype, msg)
    want_W = m.X.T.astype(np.float64) @ want_grad + 1e-2 * (W + np.sign(W))
    assert_close(param_grads[0], want_W, dtype, msg)
    assert_close(param_grads[1], want_grad.sum(axis=0), dtype, msg)
    # norms and ratios, each in its own space
    task_norm = np.linalg.norm(ce_grad.astype(np.float64))
    np.testing.assert_allclose(bd["smooth"].grad_norm, 0.1 * np.linalg.norm(t_grad), rtol=1e-5)
    np.testing.assert_allclose(bd["smooth"].ratio, bd["smooth"].grad_norm / task_norm,
                               rtol=1e-5)
    task_param_norm = np.linalg.norm(np.concatenate(
        [g.ravel() for g in m.backward(ce_grad.astype(np.float64))]))
    np.testing.assert_allclose(bd["l2"].grad_norm, 1e-2 * np.linalg.norm(W), rtol=1e-5)
    np.testing.assert_allclose(bd["l2"].ratio, bd["l2"].grad_norm / task_param_norm,
                               rtol=1e-4)
    assert not any(r.flagged for r in bd.values())
    assert loss(z, m.y, params=m.params()) == value


def test_composite_gradient_matches_finite_differences():
    m = LinearModel(2, np.float64)
    loss = _composite(l2=0.3, smooth=0.7, gen=0.2)

    def total_of(W):
        m2 = LinearModel(2, np.float64)
        m2.W = W
        z = m2.logits()
        return (ref.cross_entropy_value_and_grad(z, m2.y)[0]
                + 0.7 * ref.temporal_consistency_value_and_grad(z)[0]
                + 0.2 * ref.gan_generator_value_and_grad(z)[0]
                + 0.3 * (0.5 * np.sum(W ** 2) + np.sum(np.abs(W))))

    result = loss.value_and_grad(m.logits(), m.y, params=m.params(), backward=m.backward)
    assert_close(result.param_grads[0], numerical_grad(total_of, m.W, h=1e-4), np.float64,
                 rtol=1e-7, atol_scale=1e-8)


@given(lams=st.lists(st.floats(0.0, 100.0), min_size=3, max_size=3),
       seed=st.integers(0, 1000))
def test_total_is_sum_of_parts(lams, seed):
    m = LinearModel(seed, np.float64)
    loss = fastloss.CompositeLoss(fastloss.CrossEntropyLoss(reduction="sum"), {
        "parity": (lams[0], fastloss.DemographicParityGap()),
        "smooth": (lams[1], fastloss.TemporalConsistency("l1")),
        "enet": (lams[2], fastloss.ElasticNet(0.5, 0.5)),
    }, warn_ratio=1e300)
    z = m.logits()[:, 0].copy()
    task = SumOfSquares()
    loss.task = task
    result = loss.value_and_grad(z, None, params=m.params(), backward=lambda g: [
        np.outer(m.X.T @ g, np.ones(3)), np.zeros(3)], context={"parity": {"groups": m.groups}})
    bd = result.breakdown
    assert result.value == bd["task"].value + bd["parity"].weighted_value \
        + bd["smooth"].weighted_value + bd["enet"].weighted_value
    for name, lam in zip(["parity", "smooth", "enet"], lams):
        assert bd[name].weighted_value == lam * bd[name].value
        assert bd[name].value >= 0


class SumOfSquares:
    """A user-written task: sum of squares of the input (target unused)."""

    def value_and_grad(self, input, target):
        return float(np.sum(input ** 2)), 2.0 * input


def test_imbalance_is_flagged_and_warned():
    m = LinearModel(3, np.float64)
    z = m.logits()
    loss = fastloss.CompositeLoss(fastloss.CrossEntropyLoss(), {
        "smooth": (1e3, fastloss.TemporalConsistency()),
        "l2": (1e-6, fastloss.L2(1.0)),
    })
    with pytest.warns(fastloss.BalanceWarning) as caught:
        result = loss.value_and_grad(z, m.y, params=m.params(), backward=m.backward)
    bd = result.breakdown
    assert bd["smooth"].flagged and bd["smooth"].ratio > 10
    assert not bd["l2"].flagged
    assert len(caught) == 1
    text = str(caught[0].message)
    assert "'smooth'" in text and f"{bd['smooth'].ratio:.3g} times" in text
    # the threshold is the user's
    relaxed = fastloss.CompositeLoss(fastloss.CrossEntropyLoss(), {
        "smooth": (1e3, fastloss.TemporalConsistency())}, warn_ratio=1e9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not relaxed.value_and_grad(z, m.y).breakdown["smooth"].flagged


def test_zero_task_gradient_gives_infinite_ratio():
    task = SumOfSquares()
    loss = fastloss.CompositeLoss(task, {"gen": (1.0, fastloss.GANGeneratorLoss())})
    with pytest.warns(fastloss.BalanceWarning, match="'gen'"):
        result = loss.value_and_grad(np.zeros(4), None)
    assert result.breakdown["gen"].ratio == np.inf
    quiet = fastloss.CompositeLoss(task, {"smooth": (1.0, fastloss.TemporalConsistency())})
    assert quiet.value_and_grad(np.zeros((3, 2)), None).breakdown["smooth"].ratio == 0.0


def test_without_parameter_terms_param_grads_is_none():
    m = LinearModel(4, np.float32)
    loss = fastloss.CompositeLoss(fastloss.CrossEntropyLoss(), {})
    value, grad, param_grads, bd = loss.value_and_grad(m.logits(), m.y)
    assert param_grads is None and list(bd) == ["task"]
    assert value == fastloss.CrossEntropyLoss()(m.logits(), m.y)
    assert grad.dtype == np.float32
    np.testing.assert_array_equal(loss.grad(m.logits(), m.y), grad)


# ---- rejected inputs -----------------------------------------------------------------------

CE = fastloss.CrossEntropyLoss()
TC = fastloss.TemporalConsistency()


@pytest.mark.parametrize("make,exc,match", [
    (lambda: fastloss.CompositeLoss(object(), {}), TypeError, r"task.*value_and_grad.*object"),
    (lambda: fastloss.CompositeLoss(CE, [("a", (1.0, TC))]), TypeError, r"terms.*dict.*list"),
    (lambda: fastloss.CompositeLoss(CE, {"task": (1.0, TC)}), ValueError, r"'task'"),
    (lambda: fastloss.CompositeLoss(CE, {"a": TC}), TypeError, r"terms\['a'\].*pair"),
    (lambda: fastloss.CompositeLoss(CE, {"a": (-1.0, TC)}), ValueError,
     r"terms\['a'\] lambda.*>= 0.*-1\.0"),
    (lambda: fastloss.CompositeLoss(CE, {"a": (np.nan, TC)}), ValueError, r"lambda.*nan"),
    (lambda: fastloss.CompositeLoss(CE, {"a": (1.0, np.sum)}), TypeError,
     r"terms\['a'\].*Regularizer.*value_and_grad"),
    (lambda: fastloss.CompositeLoss(CE, {}, warn_ratio=0), ValueError, r"warn_ratio.*0"),
    (lambda: fastloss.CompositeLoss(CE, {}, warn_ratio="10"), TypeError, r"warn_ratio.*'10'"),
    (lambda: fastloss.TemporalConsistency("cubic"), ValueError, r"kind.*'cubic'"),
    (lambda: fastloss.TemporalConsistency(reduction="none"), ValueError, r"reduction.*'none'"),
    (lambda: fastloss.DemographicParityGap(kind="max"), ValueError, r"kind.*'max'"),
    (lambda: fastloss.GANGeneratorLoss("avg"), ValueError, r"reduction.*'avg'"),
    (lambda: fastloss.PerceptualLoss(phi, None), TypeError, r"phi_vjp.*NoneType"),
], ids=["task", "terms-list", "task-name", "not-pair", "neg-lambda", "nan-lambda",
        "bad-term", "ratio-0", "ratio-str", "temporal-kind", "temporal-none", "parity-kind",
        "gan-reduction", "vjp"])
def test_bad_options_rejected(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


class WrongShapeTerm:
    def value_and_grad(self, input):
        return 0.0, np.zeros((2, 3))


def _bad_calls():
    m = LinearModel(5, np.float64)
    z, y = m.logits(), m.y
    with_reg = fastloss.CompositeLoss(CE, {"l2": (1.0, fastloss.L2())})
    with_tc = fastloss.CompositeLoss(CE, {"smooth": (1.0, TC)})
    per_sample = fastloss.CompositeLoss(fastloss.CrossEntropyLoss(reduction="none"), {})
    bad_grad = fastloss.CompositeLoss(CE, {"p": (1.0, WrongShapeTerm())})
    return [
        ("no-params", lambda: with_reg.value_and_grad(z, y), ValueError, r"params.*\['l2'\]"),
        ("no-backward", lambda: with_reg.value_and_grad(z, y, params=m.params()), TypeError,
         r"backward.*\['l2'\]"),
        ("context", lambda: with_tc.value_and_grad(z, y, context={"smoth": {}}), ValueError,
         r"context.*\['smoth'\]"),
        ("task-none", lambda: per_sample.value_and_grad(z, y), ValueError,
         r"task.*scalar.*\(8,\)"),
        ("term-grad-shape", lambda: bad_grad.value_and_grad(z, y), ValueError,
         r"terms\['p'\].*shape \(2, 3\).*\(8, 3\)"),
        ("backward-grads", lambda: with_reg.value_and_grad(
            z, y, params=m.params(), backward=lambda g: [np.zeros(3)]), ValueError,
         r"grads.*2 params, 1 grads"),
        ("parity-no-groups", lambda: fastloss.DemographicParityGap()(np.ones(3)), ValueError,
         r"groups must be given"),
        ("parity-groups-shape", lambda: fastloss.DemographicParityGap([0, 1])(np.ones(3)),
         ValueError, r"groups.*\(3,\).*\(2,\)"),
        ("parity-2d", lambda: fastloss.demographic_parity_gap(np.ones((3, 2)), [0, 1, 0]),
         ValueError, r"input.*1-D.*\(3, 2\)"),
        ("temporal-0d", lambda: TC(np.float64(1.0)), ValueError, r"input.*time axis.*\(\)"),
        ("gan-shapes", lambda: fastloss.gan_discriminator_loss(np.ones(3), np.ones(4)),
         ValueError, r"same shape.*\(3,\).*\(4,\)"),
        ("gan-dtypes", lambda: fastloss.gan_discriminator_loss(
            np.ones(3), np.ones(3, np.float32)), TypeError, r"same dtype.*float64.*float32"),
        ("gan-str", lambda: fastloss.gan_generator_loss(np.array(["a"])), TypeError,
         r"fake_logits.*float32 or float64"),
        ("vjp-shape", lambda: fastloss.PerceptualLoss(lambda x: x, lambda x, v: v[:2])(
            np.ones(3), np.ones(3)), ValueError, r"phi_vjp.*\(3,\).*\(2,\)"),
        ("phi-shapes", lambda: fastloss.PerceptualLoss(lambda x: x, lambda x, v: v)(
            np.ones(3), np.ones(4)), ValueError, r"phi\(input\).*\(3,\).*\(4,\)"),
    ]


@pytest.mark.parametrize("what,call,exc,match", _bad_calls(), ids=[c[0] for c in _bad_calls()])
def test_bad_calls_rejected(what, call, exc, match):
    with pytest.raises(exc, match=match):
        call()
