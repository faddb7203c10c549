"""Bad input gets a clear ValueError/TypeError naming the argument; edge shapes (N = 0,
C = 0, every row ignored) give the documented results; dtype conversions; read-only
inputs; out= checks."""
import re

import numpy as np
import pytest

import fastloss
from fastloss import reference as ref

from conftest import DTYPE_IDS, DTYPES, LOSS_RTOL, case

LOSS_CLASSES = [fastloss.CrossEntropyLoss, fastloss.NLLLoss]
LOSS_FUNCS = [fastloss.cross_entropy, fastloss.nll_loss]


def _x(n=5, c=10, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).normal(size=(n, c)).astype(dtype)


def _rejected_by_every_loss(exc, match, x, y, **option):
    """The loss classes refuse `option` (at construction or at the call) and so do the
    functional forms."""
    for cls in LOSS_CLASSES:
        with pytest.raises(exc, match=match):
            cls(**option)(x, y)
    for fn in LOSS_FUNCS:
        with pytest.raises(exc, match=match):
            fn(x, y, **option)


def _all_entry_points(input, target, **opts):
    """Call every public entry point of both losses; each must raise the same way."""
    calls = []
    for cls in LOSS_CLASSES:
        calls.append((f"{cls.__name__}.__call__", lambda cls=cls: cls(**opts)(input, target)))
        calls.append((f"{cls.__name__}.value_and_grad",
                      lambda cls=cls: cls(**opts).value_and_grad(input, target)))
        calls.append((f"{cls.__name__}.grad", lambda cls=cls: cls(**opts).grad(input, target)))
    for fn in LOSS_FUNCS:
        calls.append((fn.__name__, lambda fn=fn: fn(input, target, **opts)))
    return calls


def _raises_everywhere(exc, match, input, target, **opts):
    for name, call in _all_entry_points(input, target, **opts):
        with pytest.raises(exc, match=match):
            call()
            pytest.fail(f"{name} accepted input={input!r}, target={target!r}, "
                        f"options={opts!r}")


# ---- input --------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(), (2, 3, 4), (1, 1, 1, 1)])
def test_input_must_be_1d_or_2d(shape):
    x = np.zeros(shape)
    _raises_everywhere(ValueError, r"input must be 1-D .* got shape " + re.escape(str(shape)),
                       x, np.zeros(shape[:1], dtype=np.int64))


@pytest.mark.parametrize("shape", [(3, 0), (0,), (0, 0)])
def test_zero_classes_rejected(shape):
    target = np.zeros(shape[:1], dtype=np.int64) if len(shape) == 2 else np.int64(0)
    _raises_everywhere(ValueError, r"input must have at least one class", np.zeros(shape),
                       target)


@pytest.mark.parametrize("dtype", [np.int64, np.uint64, np.complex128, np.bool_, object,
                                   np.dtype("U3"), np.longdouble])
def test_input_dtype_without_lossless_conversion_rejected(dtype):
    x = np.zeros((3, 4), dtype=dtype)
    _raises_everywhere(TypeError, r"input must be a float32 or float64 array", x,
                       np.zeros(3, dtype=np.int64))
    with pytest.raises(TypeError, match=r"\bx must be a float32 or float64"):
        fastloss.softmax(x)


@pytest.mark.parametrize("dtype,result", [(np.float16, np.float32), (np.int8, np.float64),
                                          (np.int16, np.float64), (np.int32, np.float64),
                                          (np.uint8, np.float64), (np.uint16, np.float64),
                                          (np.uint32, np.float64)])
def test_input_dtype_conversions(dtype, result):
    x = np.array([[1, 2, 3], [0, 5, -1]]).astype(dtype) if np.dtype(dtype).kind != "u" else \
        np.array([[1, 2, 3], [0, 5, 1]]).astype(dtype)
    y = np.array([2, 0])
    xf = x.astype(result)
    for cls in LOSS_CLASSES:
        for reduction in ("mean", "none"):
            v, g = cls(reduction=reduction).value_and_grad(x, y)
            assert np.asarray(v).dtype == result and g.dtype == result, (cls, reduction)
            v2, g2 = cls(reduction=reduction).value_and_grad(xf, y)
            np.testing.assert_array_equal(v, v2)
            np.testing.assert_array_equal(g, g2)
    for fn in (fastloss.softmax, fastloss.log_softmax, fastloss.logsumexp):
        got = fn(x)
        assert got.dtype == result, fn.__name__
        np.testing.assert_array_equal(got, fn(xf))
    # out= must then have the converted dtype
    out = np.empty((2, 3), dtype=result)
    assert fastloss.CrossEntropyLoss().grad(x, y, out=out) is out


def test_python_lists_are_accepted():
    v = fastloss.cross_entropy([[0.0, 0.0], [0.0, 0.0]], [0, 1])
    assert v.dtype == np.float64
    np.testing.assert_allclose(v, np.log(2), rtol=1e-15)


# ---- target -------------------------------------------------------------------------------

def test_label_shape_mismatch():
    x = _x(5, 10)
    _raises_everywhere(ValueError, r"target labels must have shape \(5,\).*got \(6,\)", x,
                       np.zeros(6, dtype=np.int64))
    _raises_everywhere(ValueError, r"target labels must have shape \(5,\).*got \(5, 1\)", x,
                       np.zeros((5, 1), dtype=np.int64))
    _raises_everywhere(ValueError, r"target labels must have shape \(\).*got \(1,\)", x[0],
                       np.zeros(1, dtype=np.int64))


def test_probability_shape_mismatch():
    x = _x(5, 10)
    _raises_everywhere(ValueError, r"target probabilities must have the input's shape "
                                   r"\(5, 10\), got \(5, 9\)", x, np.zeros((5, 9)))
    _raises_everywhere(ValueError, r"target probabilities must have the input's shape",
                       x[0], np.zeros((1, 10)))


@pytest.mark.parametrize("label_dtype", [np.int32, np.int64, np.int16, np.uint8])
def test_label_out_of_range_names_first_bad_row_and_label(label_dtype):
    x = _x(6, 10)
    y = np.array([0, 1, 2, 12, 3, 11], dtype=label_dtype)
    _raises_everywhere(ValueError, r"target: label 12 at row 3 is outside \[0, 10\)", x, y)
    y = np.array([0, 1, 2, 3, 4, 10], dtype=label_dtype)
    _raises_everywhere(ValueError, r"label 10 at row 5 is outside \[0, 10\)", x, y)


@pytest.mark.parametrize("label_dtype", [np.int32, np.int64])
def test_negative_label_other_than_ignore_index(label_dtype):
    x = _x(4, 3)
    y = np.array([0, -1, -100, 2], dtype=label_dtype)
    _raises_everywhere(ValueError, r"label -1 at row 1 is outside \[0, 3\)", x, y)
    _raises_everywhere(ValueError, r"label -100 at row 2", x, y, ignore_index=-1)
    # 1-D input: row 0
    _raises_everywhere(ValueError, r"label -5 at row 0", x[0], np.array(-5, dtype=label_dtype))


def test_invalid_label_leaves_out_untouched():
    x = _x(4, 3)
    out = np.full((4, 3), 7.0)
    with pytest.raises(ValueError, match="label 3 at row 2"):
        fastloss.CrossEntropyLoss().grad(x, np.array([0, 1, 3, 0]), out=out)
    np.testing.assert_array_equal(out, 7.0)


def test_float_labels_are_a_type_error():
    x = _x(5, 10)
    _raises_everywhere(TypeError, r"class labels must be integers", x, np.zeros(5))
    _raises_everywhere(TypeError, r"class labels must be integers", x,
                       np.zeros(5, dtype=np.float32))


@pytest.mark.parametrize("target", [np.zeros(5, dtype=bool), np.zeros(5, dtype=np.complex128),
                                    np.array(["a"] * 5)])
def test_non_numeric_targets_rejected(target):
    _raises_everywhere(TypeError, r"target must hold integer class labels", _x(5, 10), target)


def test_uint64_labels_rejected():
    x = _x(2, 10)
    for y in (np.array([2**63 + 5, 1], dtype=np.uint64), np.array([1, 2], dtype=np.uint64)):
        _raises_everywhere(TypeError, r"target labels of dtype uint64", x, y)


def test_uint32_labels_converted():
    x = _x(3, 5)
    y = np.array([4, 0, 2], dtype=np.uint32)
    np.testing.assert_array_equal(fastloss.cross_entropy(x, y),
                                  fastloss.cross_entropy(x, y.astype(np.int64)))


def test_probabilities_must_convert_without_loss():
    x = _x(5, 10, dtype=np.float32)
    _raises_everywhere(TypeError, r"target dtype float64 does not convert to the input's "
                                  r"dtype float32", x, np.full((5, 10), 0.1))
    # float16 and float32 probabilities with float32 input are fine
    for tdtype in (np.float16, np.float32):
        t = np.full((5, 10), 0.1, dtype=tdtype)
        want = ref.cross_entropy(x, t.astype(np.float32))
        np.testing.assert_allclose(fastloss.cross_entropy(x, t), want,
                                   rtol=LOSS_RTOL[np.dtype(np.float32)])


# ---- options ------------------------------------------------------------------------------

@pytest.mark.parametrize("weight,exc,match", [
    (np.ones(9), ValueError, r"weight must have one entry per class: expected length 10, "
                             r"got 9"),
    (np.ones(11), ValueError, r"weight must have one entry per class"),
    (np.r_[np.ones(9), -1.0], ValueError, r"weight must be finite and >= 0, got "
                                          r"weight\[9\] = -1.0$"),
    (np.r_[np.nan, np.ones(9)], ValueError, r"weight must be finite and >= 0, got "
                                            r"weight\[0\] = .*nan"),
    (np.r_[np.inf, np.ones(9)], ValueError, r"weight must be finite and >= 0"),
    (np.ones((2, 5)), ValueError, r"weight must be 1-D"),
    (np.ones((1, 10)), ValueError, r"weight must be 1-D"),
    (np.array(["a"] * 10), TypeError, r"weight must be a 1-D array of floats"),
    (np.ones(10, dtype=complex), TypeError, r"weight"),
])
def test_bad_weight(weight, exc, match):
    x, y = _x(5, 10), np.arange(5)
    _rejected_by_every_loss(exc, match, x, y, weight=weight)


@pytest.mark.parametrize("value,exc", [(-0.1, ValueError), (1.1, ValueError),
                                       (float("nan"), ValueError), (float("inf"), ValueError),
                                       ("0.1", TypeError), (None, TypeError), (True, TypeError),
                                       (np.array([0.1]), TypeError), (0.1j, TypeError)])
def test_bad_label_smoothing(value, exc):
    x, y = _x(5, 10), np.arange(5)
    _rejected_by_every_loss(exc, r"label_smoothing", x, y, label_smoothing=value)


@pytest.mark.parametrize("value", [0, 1, np.float32(0.5), np.float64(1.0), 0.25])
def test_label_smoothing_accepts_real_numbers(value):
    x, y = _x(5, 10), np.arange(5)
    np.testing.assert_allclose(fastloss.cross_entropy(x, y, label_smoothing=value),
                               ref.cross_entropy(x, y, label_smoothing=float(value)),
                               rtol=1e-12)


@pytest.mark.parametrize("value", ["avg", "MEAN", None, "", "elementwise_mean"])
def test_unknown_reduction(value):
    x, y = _x(5, 10), np.arange(5)
    _rejected_by_every_loss(ValueError, r"reduction must be one of", x, y, reduction=value)


@pytest.mark.parametrize("value,exc", [(1.5, TypeError), (-100.0, TypeError),
                                       ("-100", TypeError), (None, TypeError),
                                       (True, TypeError), (2**70, ValueError)])
def test_bad_ignore_index(value, exc):
    x, y = _x(5, 10), np.arange(5)
    _rejected_by_every_loss(exc, r"ignore_index", x, y, ignore_index=value)


def test_ignore_index_inside_the_class_range():
    # like torch: a valid class index may be ignored; rows with that label contribute 0
    x = _x(6, 4, seed=3)
    y = np.array([0, 2, 1, 2, 3, 0])
    for reduction in ("mean", "sum", "none"):
        v, g = fastloss.CrossEntropyLoss(ignore_index=2, reduction=reduction,
                                         label_smoothing=0.1).value_and_grad(x, y)
        rv, rg = ref.cross_entropy_value_and_grad(x, y, ignore_index=2, reduction=reduction,
                                                  label_smoothing=0.1)
        np.testing.assert_allclose(v, rv, rtol=1e-12, err_msg=reduction)
        np.testing.assert_allclose(g, rg, rtol=1e-12, atol=1e-15, err_msg=reduction)
        np.testing.assert_array_equal(g[[1, 3]], 0.0)
    np.testing.assert_allclose(fastloss.cross_entropy(x, y, ignore_index=np.int32(2)),
                               ref.cross_entropy(x, y, ignore_index=2), rtol=1e-12)


@pytest.mark.parametrize("value,exc", [(0, ValueError), (-1, ValueError), (1.5, TypeError),
                                       ("2", TypeError), (True, TypeError)])
def test_bad_n_threads(value, exc):
    x, y = _x(5, 10), np.arange(5)
    calls = [lambda: fastloss.CrossEntropyLoss(n_threads=value),
             lambda: fastloss.NLLLoss(n_threads=value),
             lambda: fastloss.cross_entropy(x, y, n_threads=value),
             lambda: fastloss.nll_loss(x, y, n_threads=value),
             lambda: fastloss.softmax(x, n_threads=value),
             lambda: fastloss.log_softmax(x, n_threads=value),
             lambda: fastloss.logsumexp(x, n_threads=value)]
    for call in calls:
        with pytest.raises(exc, match=r"n_threads"):
            call()


def test_n_threads_accepts_numpy_integers():
    x, y = _x(5, 10), np.arange(5)
    np.testing.assert_array_equal(fastloss.cross_entropy(x, y, n_threads=np.int32(2)),
                                  fastloss.cross_entropy(x, y, n_threads=1))


# ---- out= ---------------------------------------------------------------------------------

def _grad_calls(x, y, out):
    calls = []
    for cls in LOSS_CLASSES:
        calls.append(lambda cls=cls: cls().value_and_grad(x, y, out=out))
        calls.append(lambda cls=cls: cls().grad(x, y, out=out))
    return calls


def _read_only(a):
    a.flags.writeable = False
    return a


@pytest.mark.parametrize("make_out,exc,match", [
    (lambda x: np.empty((5, 9)), ValueError, r"out must have shape \(5, 10\), got \(5, 9\)"),
    (lambda x: np.empty(50), ValueError, r"out must have shape"),
    (lambda x: np.empty((5, 10), dtype=np.float32), TypeError,
     r"out must have dtype float64, got float32"),
    (lambda x: _read_only(np.empty((5, 10))), ValueError, r"out is read-only"),
    (lambda x: np.empty((5, 20))[:, ::2], ValueError, r"out must be C-contiguous"),
    (lambda x: np.empty((10, 5)).T, ValueError, r"out must be C-contiguous"),
    (lambda x: x, ValueError, r"out overlaps an input array"),
    (lambda x: np.zeros((5, 10)).tolist(), TypeError, r"out must be a numpy.ndarray, got list"),
    (lambda x: np.zeros((5, 10)), None, None),   # a good buffer: fine
])
def test_bad_out_for_losses(make_out, exc, match):
    x, y = _x(5, 10), np.arange(5)
    for call in _grad_calls(x, y, make_out(x)):
        if exc is None:
            call()
            continue
        with pytest.raises(exc, match=match):
            call()


def test_out_overlapping_probability_target():
    x = _x(4, 3)
    buf = np.full((2, 4, 3), 1.0 / 3)
    with pytest.raises(ValueError, match=r"out overlaps"):
        fastloss.CrossEntropyLoss().grad(x, buf[0], out=buf[0])
    # a disjoint part of the same buffer is fine
    g = fastloss.CrossEntropyLoss().grad(x, buf[0], out=buf[1])
    np.testing.assert_allclose(g, ref.cross_entropy_value_and_grad(x, np.full((4, 3), 1 / 3))[1],
                               rtol=1e-12, atol=1e-15)


def test_out_overlapping_the_class_weights():
    """The loss object keeps the caller's weight array (as torch keeps the tensor); an out=
    buffer that shares memory with it must be rejected, or the result must still be right
    (the kernel reads the weights while it writes the gradient)."""
    x = _x(6, 4, seed=9)
    y = np.array([0, 1, 2, 3, 0, 1])
    buf = np.ones((6, 4))
    loss = fastloss.CrossEntropyLoss(weight=buf[5], reduction="sum")
    want_v, want_g = ref.cross_entropy_value_and_grad(x, y, weight=np.ones(4), reduction="sum")
    try:
        v, g = loss.value_and_grad(x, y, out=buf)
    except ValueError as e:
        assert "out" in str(e)
    else:
        np.testing.assert_allclose(v, want_v, rtol=1e-12,
                                   err_msg="CrossEntropyLoss(weight=buf[5], reduction='sum')"
                                           ".value_and_grad(x, y, out=buf)")
        np.testing.assert_allclose(g, want_g, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("func", ["softmax", "log_softmax"])
@pytest.mark.parametrize("make_out,exc,match", [
    (lambda x: np.empty((5, 9)), ValueError, r"out must have shape"),
    (lambda x: np.empty((5, 10), dtype=np.float32), TypeError, r"out must have dtype float64"),
    (lambda x: _read_only(np.empty((5, 10))), ValueError, r"out is read-only"),
    (lambda x: np.empty((5, 20))[:, ::2], ValueError, r"out must be C-contiguous"),
    (lambda x: x, ValueError, r"out overlaps an input array"),
    (lambda x: x[::-1], ValueError, r"out must be C-contiguous|out overlaps"),
    (lambda x: [0.0] * 50, TypeError, r"out must be a numpy.ndarray"),
])
def test_bad_out_for_softmax(func, make_out, exc, match):
    x = _x(5, 10)
    for axis in (-1, 0):
        with pytest.raises(exc, match=match):
            getattr(fastloss, func)(x, axis=axis, out=make_out(x))


@pytest.mark.parametrize("make_out,exc,match", [
    (lambda x: np.empty(4), ValueError, r"out must have shape \(5,\)"),
    (lambda x: np.empty((5, 1)), ValueError, r"out must have shape"),
    (lambda x: np.empty(5, dtype=np.float32), TypeError, r"out must have dtype"),
    (lambda x: _read_only(np.empty(5)), ValueError, r"read-only"),
    (lambda x: np.empty(10)[::2], ValueError, r"C-contiguous"),
    (lambda x: x[:, 0].copy().tolist(), TypeError, r"numpy.ndarray"),
    (lambda x: x[0, :5], ValueError, r"overlaps"),
])
def test_bad_out_for_logsumexp(make_out, exc, match):
    x = _x(5, 10)
    with pytest.raises(exc, match=match):
        fastloss.logsumexp(x, out=make_out(x))


# ---- softmax axis and shapes ----------------------------------------------------------------

@pytest.mark.parametrize("func", ["softmax", "log_softmax", "logsumexp"])
def test_softmax_axis_checks(func):
    fn = getattr(fastloss, func)
    x = _x(3, 4)
    for axis in (2, -3, 10):
        with pytest.raises(ValueError, match=rf"axis {axis} is out of bounds for x of shape "
                                             r"\(3, 4\)"):
            fn(x, axis=axis)
    for axis in (1.0, "0", None, True):
        with pytest.raises(TypeError, match=r"axis must be an integer"):
            fn(x, axis=axis)


@pytest.mark.parametrize("func", ["softmax", "log_softmax", "logsumexp"])
def test_softmax_rejects_0d(func):
    # documented: "x must have at least one dimension, got a scalar"
    for scalar in (np.array(2.0), np.array(2.0, np.float32), np.float64(1.0), 3.0):
        with pytest.raises(ValueError, match=r"x must have at least one dimension"):
            getattr(fastloss, func)(scalar)
            pytest.fail(f"fastloss.{func}({scalar!r}) accepted a 0-d input")


# ---- N = 0 and every row ignored ------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("cls", LOSS_CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("target_kind", ["labels", "probs"])
def test_no_rows(cls, target_kind, dtype):
    x = np.empty((0, 5), dtype=dtype)
    t = np.empty(0, dtype=np.int64) if target_kind == "labels" else np.empty((0, 5), dtype=dtype)
    msg = case(loss=cls.__name__, target_kind=target_kind, dtype=dtype)
    v, g = cls().value_and_grad(x, t)
    assert isinstance(v, np.dtype(dtype).type) and np.isnan(v), msg
    assert g.shape == (0, 5) and g.dtype == dtype, msg
    v, g = cls(reduction="sum").value_and_grad(x, t)
    assert isinstance(v, np.dtype(dtype).type) and v == 0, msg
    v, g = cls(reduction="none").value_and_grad(x, t)
    assert isinstance(v, np.ndarray) and v.shape == (0,) and v.dtype == dtype, msg
    assert g.shape == (0, 5), msg
    out = np.empty((0, 5), dtype=dtype)
    assert cls().grad(x, t, out=out) is out
    for reduction in ("mean", "sum", "none"):
        kwargs = dict(weight=np.ones(5), label_smoothing=0.1, reduction=reduction)
        got = cls(**kwargs)(x, t)
        assert np.shape(got) == (() if reduction != "none" else (0,)), msg


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("cls", LOSS_CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("eps", [0.0, 0.2])
def test_every_row_ignored(cls, eps, dtype):
    x = _x(4, 3, dtype=dtype)
    y = np.full(4, -100)
    msg = case(loss=cls.__name__, eps=eps, dtype=dtype)
    for weight in (None, np.array([1.0, 2.0, 3.0])):
        v, g = cls(weight=weight, label_smoothing=eps).value_and_grad(x, y)
        assert isinstance(v, np.dtype(dtype).type) and np.isnan(v), msg
        np.testing.assert_array_equal(g, np.zeros((4, 3)), err_msg=msg)
        assert not np.any(np.signbit(g)), "gradient of ignored rows should be +0: " + msg
        v, g = cls(weight=weight, reduction="sum", label_smoothing=eps).value_and_grad(x, y)
        assert v == 0, msg
        np.testing.assert_array_equal(g, np.zeros((4, 3)), err_msg=msg)
        v, g = cls(weight=weight, reduction="none", label_smoothing=eps).value_and_grad(x, y)
        np.testing.assert_array_equal(v, np.zeros(4), err_msg=msg)
        np.testing.assert_array_equal(g, np.zeros((4, 3)), err_msg=msg)
    # 1-D input whose only sample is ignored
    v = cls()(x[0], -100)
    assert np.isnan(v), msg
    np.testing.assert_array_equal(cls().grad(x[0], -100), np.zeros(3), err_msg=msg)


# ---- read-only inputs -------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("target_kind", ["labels", "probs"])
def test_read_only_inputs_work(target_kind, dtype):
    rng = np.random.default_rng(81)
    x = rng.normal(size=(6, 5)).astype(dtype)
    if target_kind == "labels":
        t = rng.integers(0, 5, 6)
    else:
        t = rng.dirichlet(np.ones(5), 6).astype(dtype)
    w = rng.uniform(0.5, 2.0, 5)
    want = {}
    for cls in LOSS_CLASSES:
        want[cls] = cls(weight=w, label_smoothing=0.1).value_and_grad(x, t)
    for a in (x, t, w):
        a.flags.writeable = False
    for cls in LOSS_CLASSES:
        v, g = cls(weight=w, label_smoothing=0.1).value_and_grad(x, t)
        np.testing.assert_array_equal(v, want[cls][0])
        np.testing.assert_array_equal(g, want[cls][1])
        assert g.flags.writeable
    for fn in (fastloss.softmax, fastloss.log_softmax, fastloss.logsumexp):
        got = fn(x)
        assert got.flags.writeable or np.ndim(got) == 0
        np.testing.assert_array_equal(got, fn(x.copy()))
