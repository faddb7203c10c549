"""The vectorizable exp of the kernels (fastloss._kernels.exp) over the whole range.

Documented bound (csrc/fl_common.h): <= 2 ulp relative error against the true exp for
results >= the smallest normal number; smaller results may be flushed to 0 (absolute
error < FLT_MIN / DBL_MIN); exp(NaN) = NaN, exp(-inf) = 0, exp(x) = +inf beyond the
overflow point; exp(0) == 1 exactly.

References: float32 against np.exp in float64 (error ~1e-16, far below a float32 ulp);
float64 against np.exp in x87 extended precision (64-bit significand, 2^-11 of a double
ulp) when the platform has it, else np.exp in float64 with one more ulp allowed.
"""
import math

import numpy as np
import pytest

from fastloss import _kernels

F32 = np.finfo(np.float32)
F64 = np.finfo(np.float64)
LN2 = math.log(2.0)


def fast_exp(x):
    x = np.ascontiguousarray(x)
    out = np.empty_like(x)
    _kernels.exp(x, out)
    return out


def _neighbours(points, dtype, count):
    """`count` consecutive representable values on each side of every point."""
    itype = np.int32 if dtype == np.float32 else np.int64
    p = np.asarray(points, dtype=dtype)
    bits = p.view(itype)[:, None]
    steps = np.arange(-count, count + 1, dtype=itype)[None, :]
    # for negative floats the bit pattern runs the other way: both directions are covered
    out = (bits + steps).astype(itype).view(dtype).ravel()
    return out[np.isfinite(out)]


def _sweep(dtype, lo, hi, n_grid, seed):
    """A dense grid over [lo, hi], every value near the critical points, random bit
    patterns (all magnitudes, down to subnormal inputs) and exact reductions' edges."""
    itype, utype = (np.int32, np.uint32) if dtype == np.float32 else (np.int64, np.uint64)
    tiny = F32.tiny if dtype == np.float32 else F64.tiny
    big = F32.max if dtype == np.float32 else F64.max
    grid = np.linspace(lo, hi, n_grid).astype(dtype)
    k_lo, k_hi = int(math.floor(lo / LN2)) - 1, int(math.ceil(hi / LN2)) + 1
    # round(x / ln 2) switches k at (k + 1/2) ln 2: the largest |r| is there
    k_edges = (np.arange(k_lo, k_hi) + 0.5) * LN2
    critical = [0.0, -0.0, math.log(tiny), math.log(big), lo, hi, -88.0, 89.0, -709.0, 710.0,
                -87.0, 88.0, 709.0, -708.0]
    near = _neighbours(np.r_[k_edges, critical], dtype, 60 if dtype == np.float32 else 30)
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, np.iinfo(utype).max, size=400_000, dtype=utype, endpoint=True)
    random = bits.view(itype).view(dtype)
    x = np.concatenate([grid, near, random]).astype(dtype)
    return np.unique(x[np.isfinite(x) & (x >= lo) & (x <= hi)])


def _report(x, got, want, err, bad, unit):
    idx = np.flatnonzero(bad)
    worst = idx[np.argsort(-np.nan_to_num(err[idx], nan=np.inf, posinf=np.inf))[:8]]
    lines = [f"{idx.size} of {x.size} inputs out of bounds; x in [{x[idx].min()!r}, "
             f"{x[idx].max()!r}]; worst:"]
    for i in worst:
        lines.append(f"  exp({x[i]!r}) = {got[i]!r}, true {want[i]!r}, error {err[i]!r} {unit}")
    return "\n".join(lines)


# ---- float32 --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def f32_sweep():
    x = _sweep(np.float32, -104.0, 89.0, 3_000_001, seed=32)
    got = fast_exp(x)
    with np.errstate(over="ignore"):
        true = np.exp(x.astype(np.float64))
        rounded = true.astype(np.float32)
    return x, got, true, rounded


def test_f32_sweep_is_dense(f32_sweep):
    x = f32_sweep[0]
    assert x.size > 3_000_000
    assert np.max(np.diff(x.astype(np.float64))) < 1e-4


def test_f32_within_2_ulp_for_normal_results(f32_sweep):
    x, got, true, rounded = f32_sweep
    sel = (true >= F32.tiny) & np.isfinite(rounded)   # the true result is a normal float32
    _, e = np.frexp(true[sel])
    ulp = np.ldexp(1.0, e - 24)                        # 2^(floor(log2 y) - 23)
    with np.errstate(invalid="ignore"):
        err = np.abs(got[sel].astype(np.float64) - true[sel]) / ulp
    bad = ~(err <= 2.0)
    assert not bad.any(), _report(x[sel], got[sel], true[sel], err, bad, "ulp")


def test_f32_results_below_flt_min(f32_sweep):
    x, got, true, _ = f32_sweep
    sel = true < F32.tiny
    assert sel.sum() > 1000
    err = np.abs(got[sel].astype(np.float64) - true[sel])
    bad = ~((err < F32.tiny) & (got[sel] >= 0))
    assert not bad.any(), _report(x[sel], got[sel], true[sel], err, bad, "absolute")


def test_f32_overflow(f32_sweep):
    x, got, true, rounded = f32_sweep
    sel = np.isinf(rounded)
    assert sel.sum() > 100
    assert np.all(np.isposinf(got[sel])), x[sel][~np.isposinf(got[sel])][:8]


# ---- float64 --------------------------------------------------------------------------------

EXTENDED = np.finfo(np.longdouble).nmant >= 63


@pytest.fixture(scope="module")
def f64_sweep():
    x = _sweep(np.float64, -746.0, 710.0, 3_000_001, seed=64)
    got = fast_exp(x)
    with np.errstate(over="ignore"):
        if EXTENDED:
            true = np.exp(x.astype(np.longdouble))
        else:
            true = np.exp(x)
        rounded = true.astype(np.float64)
    return x, got, true, rounded


def test_f64_sweep_is_dense(f64_sweep):
    x = f64_sweep[0]
    assert x.size > 3_000_000
    assert np.max(np.diff(x)) < 1e-3


def test_f64_within_2_ulp_for_normal_results(f64_sweep):
    x, got, true, rounded = f64_sweep
    sel = (true >= F64.tiny) & np.isfinite(rounded)
    _, e = np.frexp(true[sel])
    ulp = np.ldexp(np.ones(e.shape, dtype=true.dtype), e - 53)
    with np.errstate(invalid="ignore"):
        err = (np.abs(got[sel].astype(true.dtype) - true[sel]) / ulp).astype(np.float64)
    bound = 2.0 + (2.0 ** -10 if EXTENDED else 1.0)    # + the reference's own error
    bad = ~(err <= bound)
    assert not bad.any(), _report(x[sel], got[sel], true[sel].astype(np.float64), err, bad,
                                  "ulp")


def test_f64_results_below_dbl_min(f64_sweep):
    x, got, true, _ = f64_sweep
    sel = true < F64.tiny
    assert sel.sum() > 1000
    err = np.abs(got[sel].astype(true.dtype) - true[sel]).astype(np.float64)
    bad = ~((err < F64.tiny) & (got[sel] >= 0))
    assert not bad.any(), _report(x[sel], got[sel], true[sel].astype(np.float64), err, bad,
                                  "absolute")


def test_f64_overflow(f64_sweep):
    x, got, true, rounded = f64_sweep
    sel = np.isinf(rounded)
    assert sel.sum() > 100
    assert np.all(np.isposinf(got[sel])), x[sel][~np.isposinf(got[sel])][:8]


# ---- special values, both types ---------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_special_values(dtype):
    fi = np.finfo(dtype)
    nan_bits = np.array([np.nan, -np.nan], dtype=dtype)
    x = np.array([0.0, -0.0, np.inf, -np.inf, fi.max, -fi.max, 1e30, -1e30,
                  fi.smallest_subnormal, -fi.smallest_subnormal, fi.tiny, -fi.tiny,
                  fi.eps, -fi.epsneg], dtype=dtype)
    got = fast_exp(np.r_[x, nan_bits].astype(dtype))
    msg = f"exp({list(x)})"
    assert got[0] == 1.0 and got[1] == 1.0, "exp(+-0) must be exactly 1: " + msg
    assert got[2] == np.inf, msg
    assert got[3] == 0.0 and not np.signbit(got[3]), msg
    assert got[4] == np.inf and got[6] == np.inf, msg
    assert got[5] == 0.0 and got[7] == 0.0, msg
    # |x| far below an ulp of 1: exp(x) rounds to 1 (or its neighbour below, for -x)
    np.testing.assert_array_equal(got[8:12], 1.0, err_msg=msg)
    assert abs(float(got[12]) - (1.0 + float(fi.eps))) <= float(fi.eps), msg
    assert abs(float(got[13]) - (1.0 - float(fi.epsneg))) <= float(fi.epsneg), msg
    assert np.all(np.isnan(got[-2:])), "exp(NaN) must be NaN"


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_exact_at_zero_inside_a_vector(dtype):
    # exp(0) == 1 exactly whatever SIMD lane it lands in (the kernels count row maxima so)
    x = np.zeros(37, dtype=dtype)
    x[::3] = -1.5
    got = fast_exp(x)
    np.testing.assert_array_equal(got[x == 0], 1.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_empty_and_odd_lengths(dtype):
    assert fast_exp(np.empty(0, dtype=dtype)).shape == (0,)
    for n in (1, 3, 7, 15, 17, 33):
        x = np.linspace(-3, 3, n).astype(dtype)
        np.testing.assert_allclose(fast_exp(x), np.exp(x.astype(np.float64)),
                                   rtol=3 * np.finfo(dtype).eps)


# ---- the kernels' form: x <= 0 only ------------------------------------------------------

def fast_exp_nonpositive(x):
    x = np.ascontiguousarray(x)
    out = np.empty_like(x)
    _kernels.exp(x, out, nonpositive=True)
    return out


@pytest.mark.parametrize("dtype,low", [(np.float32, -104.0), (np.float64, -746.0)],
                         ids=["f32", "f64"])
def test_nonpositive_form_equals_full_form_bitwise(dtype, low):
    # The softmax kernels use the cheaper form on x - max <= 0: on that domain it must
    # give exactly the bits the full-range form gives (whose error the sweeps bound).
    rng = np.random.default_rng(7)
    x = np.concatenate([
        np.linspace(low, 0.0, 1_000_001),
        -rng.exponential(5.0, 100_000),
        [0.0, -0.0, -np.inf, np.nan, -np.finfo(dtype).tiny, -np.finfo(dtype).max],
    ]).astype(dtype)
    got = fast_exp_nonpositive(x)
    full = fast_exp(x)
    same = (got.view(np.uint32 if dtype == np.float32 else np.uint64)
            == full.view(np.uint32 if dtype == np.float32 else np.uint64))
    same |= np.isnan(got) & np.isnan(full)
    assert same.all(), f"first difference at x = {x[~same][:5]!r}"
