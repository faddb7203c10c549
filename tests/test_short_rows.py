"""Short rows (C <= 32), which the kernels process in transposed tiles of 16 rows: every
row length up to one past the tile limit, row counts below, at and past a tile, rows
with infinities or NaN inside a tile, and outputs that must end exactly at the last row
(the tiles store whole vectors inside the output and copy the rows at its end)."""
import numpy as np
import pytest

import fastloss
from fastloss import reference as ref

from conftest import DTYPE_IDS, DTYPES, assert_close, case, check_class_loss_against_reference

ROW_LENGTHS = [1, 2, 3, 5, 10, 15, 16, 17, 24, 31, 32, 33]
ROW_COUNTS = [1, 7, 16, 17, 45]

# (target kind, weighted, label_smoothing, reduction, ignored): each tile path (hard
# labels with and without smoothing, target distributions) and each output
CE_CELLS = [
    ("int64", False, 0.0, "mean", False),
    ("int32", True, 0.1, "none", True),
    ("probs", True, 0.1, "sum", True),
    ("probs", False, 0.0, "none", False),
]

FUNCS = {
    "softmax": (fastloss.softmax, ref.softmax),
    "log_softmax": (fastloss.log_softmax, ref.log_softmax),
    "logsumexp": (fastloss.logsumexp, ref.logsumexp),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("c", ROW_LENGTHS)
@pytest.mark.parametrize("n", ROW_COUNTS)
@pytest.mark.parametrize("cell", CE_CELLS, ids=lambda cell: "-".join(map(str, cell)))
def test_cross_entropy_short_rows(cell, n, c, dtype):
    target_kind, weighted, label_smoothing, reduction, ignored = cell
    check_class_loss_against_reference(False, dtype, target_kind, weighted, label_smoothing,
                                       reduction, ignored and n >= 5,  # rows 1 and 4
                                       seed=100 * n + c, n=n, c=c)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("c", ROW_LENGTHS)
@pytest.mark.parametrize("n", ROW_COUNTS)
@pytest.mark.parametrize("name", list(FUNCS))
def test_softmax_family_short_rows(name, n, c, dtype):
    x = np.random.default_rng(100 * n + c).normal(0.0, 3.0, size=(n, c)).astype(dtype)
    fast, slow = FUNCS[name]
    assert_close(fast(x), slow(x), dtype, case(func=name, n=n, c=c, dtype=dtype))


def _tile_with_limits(n, c, dtype, seed):
    """Finite rows with, inside the tiles, rows holding +inf, -inf, NaN, all -inf."""
    x = np.random.default_rng(seed).normal(0.0, 2.0, size=(n, c)).astype(dtype)
    x[3, c // 2] = np.inf
    x[5, 0] = -np.inf
    x[8, c - 1] = np.nan
    x[12, :] = -np.inf
    x[17, :2] = np.inf
    return x


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("c", [2, 10, 20])
@pytest.mark.parametrize("name", list(FUNCS))
def test_softmax_family_limit_rows_inside_tiles(name, c, dtype):
    x = _tile_with_limits(21, c, dtype, seed=c)
    fast, slow = FUNCS[name]
    got, want = fast(x), slow(x)
    msg = case(func=name, c=c, dtype=dtype)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=msg)
    finite = np.isfinite(want)
    np.testing.assert_array_equal(got[~finite], want[~finite], err_msg=msg)
    assert_close(got[finite], want[finite], dtype, msg)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("c", [2, 10, 20])
@pytest.mark.parametrize("target_kind", ["int64", "probs"])
def test_cross_entropy_limit_rows_inside_tiles(target_kind, c, dtype):
    n = 21
    x = _tile_with_limits(n, c, dtype, seed=c)
    rng = np.random.default_rng(c)
    if target_kind == "probs":
        target = rng.dirichlet(np.ones(c), size=n).astype(dtype)
    else:
        target = rng.integers(0, c, size=n)
        target[[4, 12]] = -100
    loss = fastloss.CrossEntropyLoss(reduction="none", label_smoothing=0.1)
    value, grad = loss.value_and_grad(x, target)
    want_value, want_grad = ref.cross_entropy_value_and_grad(
        x, target, reduction="none", label_smoothing=0.1)
    msg = case(target_kind=target_kind, c=c, dtype=dtype)
    for got, want in ((value, want_value), (grad, want_grad)):
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=msg)
        finite = np.isfinite(want)
        np.testing.assert_array_equal(got[~finite], want[~finite], err_msg=msg)
        assert_close(got[finite], want[finite], dtype, msg)


def _guarded_out(shape, dtype, guard=64):
    """An out= array inside a larger buffer whose margins hold a sentinel."""
    size = int(np.prod(shape))
    buf = np.full(size + 2 * guard, -7.25, dtype=dtype)
    return buf, buf[guard:guard + size].reshape(shape)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("c", [1, 2, 3, 10, 17, 31])
@pytest.mark.parametrize("n", [1, 5, 16, 19])
def test_outputs_end_at_the_last_row(n, c, dtype):
    x = np.random.default_rng(c).normal(size=(n, c)).astype(dtype)
    labels = np.arange(n) % c
    for label, run, want in [
        ("cross_entropy grad",
         lambda out: fastloss.CrossEntropyLoss().value_and_grad(x, labels, out=out),
         ref.cross_entropy_value_and_grad(x, labels)[1]),
        ("softmax", lambda out: fastloss.softmax(x, out=out), ref.softmax(x)),
        ("log_softmax", lambda out: fastloss.log_softmax(x, out=out), ref.log_softmax(x)),
    ]:
        buf, out = _guarded_out((n, c), dtype)
        run(out)
        msg = case(output=label, n=n, c=c, dtype=dtype)
        assert (buf[:64] == -7.25).all() and (buf[-64:] == -7.25).all(), msg
        assert_close(out, want, dtype, msg)


@pytest.mark.parametrize("c", [3, 10, 32])
def test_tiles_of_a_block_agree_across_thread_counts(c, restore_threads):
    """Row counts that are not multiples of the tile: blocks hold whole tiles, and the
    results are the same bits for every thread count."""
    x = np.random.default_rng(c).normal(size=(1000, c)).astype(np.float32)
    labels = np.random.default_rng(c + 1).integers(0, c, size=1000)
    results = []
    for threads in (1, 2, 3, 8):
        fastloss.set_num_threads(threads)
        value, grad = fastloss.CrossEntropyLoss().value_and_grad(x, labels)
        results.append((value, grad, fastloss.softmax(x)))
    for value, grad, p in results[1:]:
        assert value == results[0][0]
        np.testing.assert_array_equal(grad, results[0][1])
        np.testing.assert_array_equal(p, results[0][2])
