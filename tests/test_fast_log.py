"""The vectorizable log and log1p of the kernels (fastloss._kernels.log) over their range.

Documented bounds (csrc/fl_common.h): log within 2 ulp for every positive finite input,
subnormal ones included; log1p on [-1, 64] within 4 ulp; log(0) = -inf, log(x < 0) = NaN,
log(inf) = inf, log(NaN) = NaN. References: np.log / np.log1p in extended precision
(x87, 64-bit significand) when the platform has it, else float64 (enough for float32;
one more ulp allowed for float64).
"""
import numpy as np
import pytest

from fastloss import _kernels

EXTENDED = np.finfo(np.longdouble).nmant >= 63
REF = np.longdouble if EXTENDED else np.float64


def fast_log(x, log1p=False):
    x = np.ascontiguousarray(x)
    out = np.empty_like(x)
    _kernels.log(x, out, log1p)
    return out


def _ulp_error(x, got, true, dtype):
    """|got - true| in units of the last place of the true result (in `dtype`)."""
    _, e = np.frexp(true.astype(np.float64))
    ulp = np.ldexp(np.ones(e.shape, dtype=REF), e - (np.finfo(dtype).nmant + 1))
    return (np.abs(got.astype(REF) - true) / ulp).astype(np.float64)


def _bound(dtype, ulps):
    return ulps + (1.0 if dtype == np.float64 and not EXTENDED else 2.0 ** -10)


def _report(x, got, true, err):
    worst = np.argsort(-err)[:5]
    return "; ".join(f"x={x[i]!r}: got {got[i]!r}, true {float(true[i])!r}, {err[i]:.2f} ulp"
                     for i in worst)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_log_within_2_ulp_over_all_magnitudes(dtype):
    itype = np.int32 if dtype == np.float32 else np.int64
    rng = np.random.default_rng(11)
    # random positive bit patterns: every exponent, subnormals included
    bits = rng.integers(1, np.iinfo(itype).max, size=1_000_000, dtype=itype)
    x = np.concatenate([
        bits.view(dtype),
        np.linspace(0.5, 2.0, 1_000_001, dtype=dtype),        # the reduction's edges
        np.linspace(0.999, 1.001, 100_001, dtype=dtype),      # results near 0
        [np.finfo(dtype).smallest_subnormal, np.finfo(dtype).tiny, np.finfo(dtype).max],
    ]).astype(dtype)
    x = x[np.isfinite(x) & (x > 0) & (x != 1)]
    got = fast_log(x)
    true = np.log(x.astype(REF))
    err = _ulp_error(x, got, true, dtype)
    bad = ~(err <= _bound(dtype, 2.0))
    assert not bad.any(), _report(x[bad], got[bad], true[bad], err[bad])


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_log1p_within_4_ulp_on_its_range(dtype):
    rng = np.random.default_rng(12)
    tiny = rng.random(400_000) * 2.0 ** -rng.integers(0, 80, 400_000)
    x = np.concatenate([np.linspace(-1.0, 1.0, 2_000_001), tiny, -tiny,
                        rng.uniform(1.0, 64.0, 400_000)]).astype(dtype)
    x = x[(x > -1) & (x != 0)]
    got = fast_log(x, log1p=True)
    true = np.log1p(x.astype(REF))
    err = _ulp_error(x, got, true, dtype)
    bad = ~(err <= _bound(dtype, 4.0))
    assert not bad.any(), _report(x[bad], got[bad], true[bad], err[bad])


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_special_values(dtype):
    x = np.array([0.0, -0.0, -1.0, -np.inf, np.inf, np.nan, 1.0], dtype=dtype)
    got = fast_log(x)
    assert got[0] == -np.inf and got[1] == -np.inf
    assert np.isnan(got[2]) and np.isnan(got[3]) and np.isnan(got[5])
    assert got[4] == np.inf
    assert got[6] == 0.0
    one_p = fast_log(np.array([-1.0, 0.0, -0.0, 1.0, np.nan], dtype=dtype), log1p=True)
    assert one_p[0] == -np.inf and one_p[1] == 0.0 and one_p[2] == 0.0
    assert one_p[3] == np.asarray(np.log(2.0), dtype=dtype)
    assert np.isnan(one_p[4])
