"""softmax, log_softmax and logsumexp: against the NumPy reference, closed forms for
extreme and infinite logits, long rows (online rescaling across chunks), out=, and
hypothesis properties."""
import math
import zlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fastloss
from fastloss import reference as ref

from conftest import DTYPE_IDS, DTYPES, assert_close, case, make_dominated_rows, tol

FUNCS = {
    "softmax": (fastloss.softmax, ref.softmax),
    "log_softmax": (fastloss.log_softmax, ref.log_softmax),
    "logsumexp": (fastloss.logsumexp, ref.logsumexp),
}

SHAPES_AXES = [
    ((7, 10), -1),
    ((7, 10), 0),
    ((7, 10), 1),
    ((10,), -1),
    ((10,), 0),
    ((1,), -1),
    ((1, 1), -1),
    ((5, 1), -1),
    ((1, 5), 0),
    ((3, 4, 5), 0),
    ((3, 4, 5), 1),
    ((3, 4, 5), 2),
    ((3, 4, 5), -2),
    ((2, 3, 4, 5), 2),
    ((2, 3, 1, 6), 2),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("shape,axis", SHAPES_AXES)
@pytest.mark.parametrize("name", list(FUNCS))
def test_matches_reference(name, shape, axis, dtype):
    seed = zlib.crc32(repr((name, shape, axis)).encode())
    rng = np.random.default_rng(seed)
    x = (rng.normal(0.0, 3.0, size=shape)).astype(dtype)
    x_before = x.copy()
    fast, slow = FUNCS[name]
    got = fast(x, axis=axis)
    want = slow(x, axis=axis)
    msg = case(func=name, shape=shape, axis=axis, dtype=dtype, seed=seed)
    assert np.asarray(got).dtype == dtype, msg
    assert np.shape(got) == np.shape(want), msg
    assert_close(got, want, dtype, msg)
    np.testing.assert_array_equal(x, x_before, err_msg="input modified: " + msg)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_logsumexp_1d_returns_numpy_scalar(dtype):
    x = np.array([1.0, 2.0, 3.0], dtype=dtype)
    got = fastloss.logsumexp(x)
    assert isinstance(got, dtype), type(got)
    assert_close(got, math.log(math.e + math.e**2 + math.e**3), dtype)


# ---- long rows: several 2048-element chunks, the max in a late chunk ---------------------

def _long_rows(c, seed):
    rng = np.random.default_rng(seed)
    rows = [
        np.linspace(-30.0, 30.0, c),                 # max grows in every chunk
        np.linspace(30.0, -30.0, c),                 # max in chunk 0, no rescaling
        rng.normal(0.0, 1.0, c),                     # max anywhere
        rng.normal(0.0, 1.0, c),                     # spike in the last chunk
        rng.normal(0.0, 5.0, c),                     # two-step growth
        np.full(c, 7.0),                             # all equal: n_top = C
    ]
    rows[3][c - 37] = 25.0
    rows[4][c // 2] = 40.0
    rows[4][c - 5] = 60.0
    return np.stack(rows)


# ---- rows that end in a partial block: the last 64 entries are taken as one block that
# overlaps the one before it, and the overlap must be summed once ------------------------

def _partial_block_rows(c, seed):
    """Rows of length c with the max, its ties and a dominant entry placed where the
    last block overlaps the one before it (entries c - 64 .. 64 * (c // 64) - 1)."""
    rng = np.random.default_rng(seed)
    lo, hi = max(c - 64, 0), max(64 * (c // 64), 1)
    rows = [rng.normal(0.0, 2.0, c) for _ in range(4)]
    rows[0][lo] = 9.0                         # the max in the overlap
    rows[1][lo] = rows[1][hi - 1] = 9.0       # two tied maxima in the overlap
    rows[1][c - 1] = 9.0                      # and a third after it
    rows[2][(lo + hi) // 2] = 40.0            # one dominant entry: sum = 1 + tiny
    rows[3][:] = 3.0                          # all equal: n_top = C
    return np.stack(rows)


ROW_SETS = {"_long_rows": _long_rows, "_partial_block_rows": _partial_block_rows}


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("rows,c", [("_long_rows", c) for c in (2049, 5000, 70000)]
                         + [("_partial_block_rows", c)
                            for c in (33, 63, 65, 100, 127, 129, 1000, 2047)])
@pytest.mark.parametrize("name", list(FUNCS))
def test_rows_against_reference(name, rows, c, dtype):
    """Long rows (online rescaling across chunks) and rows ending in a partial block."""
    x = ROW_SETS[rows](c, seed=c).astype(dtype)
    fast, slow = FUNCS[name]
    got = fast(x)
    want = slow(x)
    for i in range(x.shape[0]):
        assert_close(got[i], want[i], dtype,
                     case(func=name, C=c, row=i, dtype=dtype, rows=f"{rows}(C, seed=C)"))


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("c", [5000, 70000])
def test_long_rows_sum_to_one(c, dtype):
    x = _long_rows(c, seed=c + 1).astype(dtype)
    s = fastloss.softmax(x).astype(np.float64).sum(axis=1)
    np.testing.assert_allclose(s, 1.0, rtol=0, atol=50 * c * np.finfo(dtype).eps,
                               err_msg=case(C=c, dtype=dtype))


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_equal_entries_closed_form_long_row(dtype):
    c = 70000
    x = np.full((2, c), -3.5, dtype=dtype)
    np.testing.assert_allclose(fastloss.softmax(x), 1.0 / c, rtol=tol(dtype)["rtol"])
    np.testing.assert_allclose(fastloss.log_softmax(x), -math.log(c), rtol=tol(dtype)["rtol"])
    np.testing.assert_allclose(fastloss.logsumexp(x), -3.5 + math.log(c),
                               rtol=tol(dtype)["rtol"])


# ---- extreme, infinite and NaN logits: closed forms -------------------------------------

def _separated(row, dtype):
    """Closed form for a finite row whose entries below the max are all >= 1e4 below it
    (every exp(x_j - m) underflows): with k entries at the max m,
    softmax = 1/k there and 0 elsewhere, log_softmax = (x - m) - log k, lse = m + log k."""
    x = np.asarray(row, dtype=dtype).astype(np.float64)
    m = x.max()
    assert np.all((x == m) | (x <= m - 1e4))
    k = np.count_nonzero(x == m)
    sm = np.where(x == m, 1.0 / k, 0.0)
    with np.errstate(over="ignore"):
        ls = ((x - m) - math.log(k)).astype(dtype)   # may overflow to -inf in float32
    return sm, ls, m + math.log(k)


LN2, LN3, LN4 = math.log(2), math.log(3), math.log(4)
NAN, INF = math.nan, math.inf

# (row, softmax, log_softmax, logsumexp), closed forms
LIMIT_ROWS = {
    "pinf_two_of_four": ([INF, 0.0, INF, -INF], [0.5, 0, 0.5, 0], [-LN2, -INF, -LN2, -INF], INF),
    "pinf_one": ([1.0, INF, -5.0], [0, 1, 0], [-INF, 0.0, -INF], INF),
    "pinf_with_ninf": ([INF, -INF], [1, 0], [0.0, -INF], INF),
    "pinf_only": ([INF], [1.0], [0.0], INF),
    "pinf_all_three": ([INF, INF, INF], [1 / 3] * 3, [-LN3] * 3, INF),
    "ninf_some": ([-INF, 0.0, LN3], [0, 0.25, 0.75], [-INF, -LN4, LN3 - LN4], LN4),
    "ninf_all_but_one": ([-INF, -INF, 2.5, -INF], [0, 0, 1, 0], [-INF, -INF, 0.0, -INF], 2.5),
    "ninf_all": ([-INF, -INF, -INF], [NAN] * 3, [NAN] * 3, NAN),
    "ninf_only": ([-INF], [NAN], [NAN], NAN),
    "nan_first": ([NAN, 0.0, 1.0], [NAN] * 3, [NAN] * 3, NAN),
    "nan_with_pinf": ([INF, NAN], [NAN] * 2, [NAN] * 2, NAN),
    "nan_with_ninf": ([-INF, NAN, -INF], [NAN] * 3, [NAN] * 3, NAN),
}

SEPARATED_ROWS = {
    "pm1e4": [1e4, 0.0, -1e4],
    "pm1e4_tie": [-1e4, 1e4, 1e4],
    "pm1e30": [1e30, 0.0, -1e30],
    "m1e30_all": [-1e30, -1e30, -1e30],
    "pm1e30_tie_last": [-1e30, 0.0, 1e30, 1e30],
    "pm3e38": [3e38, -3e38, 0.0],   # x - m = -6e38 overflows float32: log_softmax -inf
}


def _check_row(name, row, sm, ls, lse, dtype, axis_layout=False):
    x = np.array(row, dtype=dtype)
    msg = case(row_name=name, row=row, dtype=dtype)
    with np.errstate(all="ignore"):
        sm = np.asarray(sm, dtype=np.float64)
        ls = np.asarray(ls, dtype=np.float64)
    assert_close(fastloss.softmax(x), sm, dtype, "softmax " + msg)
    assert_close(fastloss.log_softmax(x), ls, dtype, "log_softmax " + msg)
    assert_close(fastloss.logsumexp(x), lse, dtype, "logsumexp " + msg)
    # the same row inside a batch, between two ordinary rows, and along axis 0
    batch = np.stack([np.linspace(0, 1, x.size), x, np.linspace(1, 0, x.size)]).astype(dtype)
    for axis, b in ((-1, batch), (0, batch.T.copy())):
        for fn, want in ((fastloss.softmax, sm), (fastloss.log_softmax, ls)):
            got = fn(b, axis=axis)
            got_row = got[1] if axis == -1 else got[:, 1]
            assert_close(got_row, want, dtype, f"{fn.__name__} in batch, axis={axis}, " + msg)
            for i in (0, 2):
                other = got[i] if axis == -1 else got[:, i]
                slow = ref.softmax if fn is fastloss.softmax else ref.log_softmax
                assert_close(other, slow(batch[i]), dtype,
                             f"row {i} next to a non-finite row changed: " + msg)
        lse_b = fastloss.logsumexp(b, axis=axis)
        assert_close(lse_b[1], lse, dtype, f"logsumexp in batch, axis={axis}, " + msg)
        assert_close(lse_b[[0, 2]], ref.logsumexp(b, axis=axis)[[0, 2]], dtype,
                     "rows next to a non-finite row changed: " + msg)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("name", list(LIMIT_ROWS))
def test_infinite_and_nan_limits(name, dtype):
    row, sm, ls, lse = LIMIT_ROWS[name]
    _check_row(name, row, sm, ls, lse, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("name", list(SEPARATED_ROWS))
def test_extreme_finite_logits(name, dtype):
    row = SEPARATED_ROWS[name]
    sm, ls, lse = _separated(row, dtype)
    _check_row(name, row, sm, ls, lse, dtype)


def test_extreme_finite_logits_float64_only():
    # x - m = -2e300 is finite in float64
    _check_row("pm1e300", [1e300, -1e300], [1.0, 0.0], [0.0, -2e300], 1e300, np.float64)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("special", ["pinf", "nan", "single_finite"])
def test_non_finite_in_late_chunk(special, dtype):
    """The row pass stops at the first chunk with an inf/NaN: put it in chunk 3 of 3."""
    c = 5000
    rng = np.random.default_rng(7)
    x = rng.normal(0, 1, size=(2, c))
    j = c - 11
    if special == "pinf":
        x[0, j] = np.inf
        sm = np.zeros(c)
        sm[j] = 1.0
        ls = np.full(c, -np.inf)
        ls[j] = 0.0
        lse = np.inf
    elif special == "nan":
        x[0, j] = np.nan
        sm = ls = np.full(c, np.nan)
        lse = np.nan
    else:
        x[0] = -np.inf
        x[0, j] = -2.0
        sm = np.zeros(c)
        sm[j] = 1.0
        ls = np.full(c, -np.inf)
        ls[j] = 0.0
        lse = -2.0
    x = x.astype(dtype)
    msg = case(special=special, C=c, index=j, dtype=dtype)
    assert_close(fastloss.softmax(x)[0], sm, dtype, msg)
    assert_close(fastloss.log_softmax(x)[0], ls, dtype, msg)
    assert_close(fastloss.logsumexp(x)[0], lse, dtype, msg)
    assert_close(fastloss.softmax(x)[1], ref.softmax(x[1]), dtype, "other row: " + msg)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("special", ["pinf", "nan"])
@pytest.mark.parametrize("c", [33, 47, 1000])
def test_non_finite_anywhere_in_a_row(c, special, dtype):
    """The chunk max runs over 16 lanes and takes the last 16 entries as one vector that
    overlaps the one before: an inf or a NaN is found at the first entry, at either side
    of a lane boundary, in the overlap and at the end."""
    rng = np.random.default_rng(c)
    positions = sorted({0, 15, 16, c - 17, c - 16, c - 9, c - 1})
    x = rng.normal(0, 1, size=(len(positions), c))
    for r, j in enumerate(positions):
        x[r, j] = np.inf if special == "pinf" else np.nan
    x = x.astype(dtype)
    labels = np.array([(j + 1) % c for j in positions])
    softmax, lse_of = fastloss.softmax(x), fastloss.logsumexp(x)
    losses = fastloss.cross_entropy(x, labels, reduction="none")
    for r, j in enumerate(positions):
        msg = case(special=special, C=c, index=j, dtype=dtype)
        if special == "pinf":
            sm = np.zeros(c)
            sm[j] = 1.0
            lse, loss = np.inf, np.inf  # log p of the label is -inf
        else:
            sm = np.full(c, np.nan)
            lse = loss = np.nan
        assert_close(softmax[r], sm, dtype, msg)
        assert_close(lse_of[r], lse, dtype, msg)
        assert_close(losses[r], loss, dtype, msg)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_logsumexp_near_zero_keeps_relative_accuracy(dtype):
    # lse([-11, 0]) = log1p(e^-11): found by hypothesis, where log(1 + e^-11) would lose
    # five digits
    got = fastloss.logsumexp(np.array([-11.0, 0.0], dtype=dtype))
    np.testing.assert_allclose(float(got), math.log1p(math.exp(-11.0)), rtol=tol(dtype)["rtol"])


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_log_softmax_of_dominant_entry_keeps_relative_accuracy(dtype):
    # log_softmax([40, 0, 0])[0] = -log1p(2 e^-40) ~ -8.5e-18
    x = np.array([40.0, 0.0, 0.0], dtype=dtype)
    want = -math.log1p(2 * math.exp(-40.0))
    got = fastloss.log_softmax(x)
    assert got[0] < 0, got
    np.testing.assert_allclose(float(got[0]), want, rtol=tol(dtype)["rtol"])
    np.testing.assert_allclose(float(fastloss.logsumexp(x)), 40.0 - want, rtol=1e-15)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("c", [40, 1000, 5000])
def test_dominant_entry_on_both_sides_of_the_split_sum(dtype, c):
    # The max leads the other entries by a margin that puts S - 1 = sum over the others
    # of exp(x_j - max) anywhere from 1e-9 to 2, in every chunk of a long row: the sum
    # is plain where S is large and split off the max where S is small (S < 1.5), and
    # log_softmax at the max, -log1p(S - 1), stays relatively exact on both sides.
    x, top, tail, _ = make_dominated_rows(c + 7, c, dtype)
    n = len(top)
    x64 = x.astype(np.float64)
    m = x64[np.arange(n), top]
    log_s = np.log1p(tail)
    rtol = tol(dtype)["rtol"]
    ls = fastloss.log_softmax(x)
    np.testing.assert_allclose(ls[np.arange(n), top], -log_s, rtol=rtol, atol=0)
    np.testing.assert_allclose(ls, (x64 - m[:, None]) - log_s[:, None], rtol=rtol, atol=0)
    np.testing.assert_allclose(fastloss.logsumexp(x, axis=-1), m + log_s, rtol=rtol, atol=0)


# ---- empty slices, out=, keepdims ---------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_empty_slices(dtype):
    x = np.empty((3, 0), dtype=dtype)
    lse = fastloss.logsumexp(x)
    assert lse.shape == (3,) and lse.dtype == dtype
    np.testing.assert_array_equal(lse, -np.inf)
    assert fastloss.softmax(x).shape == (3, 0)
    assert fastloss.log_softmax(x).shape == (3, 0)
    assert fastloss.logsumexp(np.empty(0, dtype=dtype)) == -np.inf
    # no rows: empty results of the right shapes
    y = np.empty((0, 5), dtype=dtype)
    assert fastloss.softmax(y).shape == (0, 5)
    assert fastloss.logsumexp(y).shape == (0,)
    np.testing.assert_array_equal(fastloss.logsumexp(y, axis=0), np.full(5, -np.inf))
    assert fastloss.logsumexp(np.empty((2, 0, 3), dtype=dtype), axis=1).shape == (2, 3)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape,axis", [((6, 9), -1), ((6, 9), 0), ((2, 3, 4), 1), ((5,), 0)])
def test_out_shares_memory(name, shape, axis, dtype):
    rng = np.random.default_rng(3)
    x = rng.normal(size=shape).astype(dtype)
    fast, slow = FUNCS[name]
    out = np.full(shape, -7.0, dtype=dtype)
    got = fast(x, axis=axis, out=out)
    msg = case(func=name, shape=shape, axis=axis, dtype=dtype)
    assert got is out, msg
    assert np.shares_memory(got, out), msg
    assert_close(out, slow(x, axis=axis), dtype, msg)
    np.testing.assert_array_equal(out, fast(x, axis=axis), err_msg=msg)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("shape,axis,keepdims", [
    ((6, 9), -1, False), ((6, 9), 0, False), ((6, 9), 1, True), ((6, 9), 0, True),
    ((2, 3, 4), 1, False), ((2, 3, 4), 1, True), ((5,), 0, True)])
def test_logsumexp_keepdims_and_out(shape, axis, keepdims, dtype):
    rng = np.random.default_rng(4)
    x = rng.normal(size=shape).astype(dtype)
    want = np.asarray(ref.logsumexp(x, axis=axis))
    if keepdims:
        want = np.expand_dims(want, axis)
    msg = case(shape=shape, axis=axis, keepdims=keepdims, dtype=dtype)
    got = fastloss.logsumexp(x, axis=axis, keepdims=keepdims)
    assert np.shape(got) == want.shape, msg
    assert_close(got, want, dtype, msg)
    # numpy's own keepdims shape convention
    assert np.shape(got) == np.sum(x, axis=axis, keepdims=keepdims).shape, msg
    out = np.empty(want.shape, dtype=dtype)
    res = fastloss.logsumexp(x, axis=axis, keepdims=keepdims, out=out)
    assert res is out, msg
    assert_close(out, want, dtype, msg)


def test_logsumexp_out_for_1d_input_is_0d():
    out = np.empty((), dtype=np.float64)
    res = fastloss.logsumexp(np.array([0.0, 0.0]), out=out)
    assert res is out
    assert float(out) == pytest.approx(math.log(2), rel=1e-15)


@pytest.mark.parametrize("name", list(FUNCS))
def test_axis_may_be_numpy_integer(name):
    x = np.random.default_rng(5).normal(size=(3, 4))
    fast, slow = FUNCS[name]
    assert_close(fast(x, axis=np.int64(0)), slow(x, axis=0), np.float64)


@pytest.mark.parametrize("name", list(FUNCS))
def test_non_contiguous_and_fortran_inputs(name):
    rng = np.random.default_rng(6)
    big = rng.normal(size=(8, 22))
    fast, _ = FUNCS[name]
    for x in (big[:, ::2], big[::2], np.asfortranarray(big), big.T,
              big.astype(big.dtype.newbyteorder())):
        np.testing.assert_array_equal(fast(x), fast(np.ascontiguousarray(x)),
                                      err_msg=case(func=name, strides=x.strides))


# ---- hypothesis properties ---------------------------------------------------------------

def _arrays(dtype, lo=-60.0, hi=60.0):
    width = 32 if dtype == np.float32 else 64
    return hnp.arrays(dtype, st.tuples(st.integers(1, 5), st.integers(1, 40)),
                      elements=st.floats(lo, hi, width=width))


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_property_softmax_rows_sum_to_one(dtype):
    @given(_arrays(dtype))
    def check(x):
        p = fastloss.softmax(x)
        assert np.all(p >= 0) and np.all(p <= 1)
        s = p.astype(np.float64).sum(axis=1)
        np.testing.assert_allclose(s, 1.0, atol=4 * x.shape[1] * np.finfo(dtype).eps,
                                   err_msg=repr(x))
    check()


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_property_log_softmax_is_log_of_softmax(dtype):
    @given(_arrays(dtype))
    def check(x):
        ls = fastloss.log_softmax(x).astype(np.float64)
        p = fastloss.softmax(x).astype(np.float64)
        ok = p >= np.finfo(dtype).tiny  # log(p) finite and p a normal number
        rtol = 4e-6 if dtype == np.float32 else 1e-13
        np.testing.assert_allclose(np.log(p[ok]), ls[ok], rtol=rtol, atol=rtol,
                                   err_msg=repr(x))
        assert np.all(ls <= 0), repr(x)
    check()


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_property_shift_invariance(dtype):
    # x on a 1/8 grid and integer shifts: x + c is exact in both dtypes
    @given(hnp.arrays(np.int64, st.tuples(st.integers(1, 4), st.integers(1, 30)),
                      elements=st.integers(-480, 480)),
           st.integers(-1000, 1000))
    def check(k, c):
        x = (k / 8.0).astype(dtype)
        xc = (x.astype(np.float64) + c).astype(dtype)
        msg = case(x=repr(x), shift=c)
        assert_close(fastloss.softmax(xc), fastloss.softmax(x), dtype, msg)
        # log_softmax entries can be ~0: compare with an absolute floor
        assert_close(fastloss.log_softmax(xc), fastloss.log_softmax(x), dtype, msg,
                     atol_scale=4 * np.finfo(dtype).eps)
        assert_close(fastloss.logsumexp(xc), fastloss.logsumexp(x).astype(np.float64) + c,
                     dtype, msg, atol_scale=4 * np.finfo(dtype).eps)
    check()


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_property_logsumexp_bounds_and_reference(dtype):
    @given(_arrays(dtype, -1e3, 1e3))
    def check(x):
        lse = fastloss.logsumexp(x).astype(np.float64)
        m = x.astype(np.float64).max(axis=1)
        slack = 4 * np.finfo(dtype).eps * np.maximum(np.abs(m), 1)
        assert np.all(lse >= m - slack), repr(x)
        assert np.all(lse <= m + math.log(x.shape[1]) + slack), repr(x)
        # absolute floor: the reference's m + log(sum) loses the relative accuracy of a
        # result near 0 (e.g. lse([-11, 0]) = log1p(e^-11)); fastloss uses log1p there
        np.testing.assert_allclose(lse, ref.logsumexp(x), rtol=tol(dtype)["rtol"],
                                   atol=4 * np.finfo(dtype).eps * (np.abs(m).max() + 1),
                                   err_msg=repr(x))
    check()


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("name", list(FUNCS))
def test_many_rows_against_reference(name, dtype):
    # more rows than the 256 fixed row blocks, enough work for several threads
    x = np.random.default_rng(8).normal(0, 3, size=(1001, 300)).astype(dtype)
    fast, slow = FUNCS[name]
    assert_close(fast(x, n_threads=2), slow(x), dtype, case(func=name, dtype=dtype, seed=8))


def _at_offset(a, offset):
    """A C-contiguous copy of a whose data starts `offset` entries into a fresh buffer."""
    buf = np.empty(a.size + 16, dtype=a.dtype)
    view = buf[offset:offset + a.size].reshape(a.shape)
    view[...] = a
    return view


@pytest.mark.parametrize("c", [1000, 5000], ids=["one-chunk", "several-chunks"])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_results_do_not_depend_on_where_the_arrays_start(c, dtype):
    # The kernels align some of their loads to cache lines; the bits must not move with
    # the address. Rows include ties of +0 and -0 at the max and a dominant entry.
    rng = np.random.default_rng(c)
    x = rng.normal(0.0, 3.0, size=(6, c)).astype(dtype)
    x[1] = 0.0
    x[1, ::3] = -0.0
    x[2, :] = -200.0
    x[2, c // 2] = 0.0
    labels = rng.integers(0, c, size=6)
    loss = fastloss.CrossEntropyLoss(reduction="none")

    def outputs(xs, out):
        value, grad = loss.value_and_grad(xs, labels, out=out)
        return (value, grad.copy(), fastloss.log_softmax(xs), fastloss.softmax(xs),
                fastloss.logsumexp(xs))

    base = outputs(_at_offset(x, 0), _at_offset(np.zeros_like(x), 0))
    for offset in range(1, 16):
        got = outputs(_at_offset(x, offset), _at_offset(np.zeros_like(x), 15 - offset))
        for k, (a, b) in enumerate(zip(base, got)):
            np.testing.assert_array_equal(
                np.signbit(a), np.signbit(b), err_msg=f"offset {offset}, output {k}")
            np.testing.assert_array_equal(a, b, err_msg=f"offset {offset}, output {k}")
