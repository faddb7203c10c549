"""Benchmarks: softmax cross-entropy (value and gradient) and log_softmax, float32.

For every (op, N x C, threads) this times fastloss against what a NumPy user would
write, PyTorch (skipped when it is not installed) and a memory-copy ruler, in one
process. It is not part of the test run (pyproject's testpaths is ``tests``); run it
with

    cd /work/main && python -m pytest bench -q -p no:cacheprovider

and read the ratio table that bench/conftest.py prints at the end (also written to
bench/last_run.md). pytest-benchmark groups are ``"<op> <N>x<C> threads=<n>"``.

What is timed (one call = one round's iteration):

``fastloss``
    ``CrossEntropyLoss().value_and_grad(x, y, out=grad)`` / ``log_softmax(x,
    out=...)`` with a preallocated buffer reused every round: no allocation.
``fastloss_noout`` (1024x32000 only)
    the same without ``out=``: a fresh result array per call, as NumPy and PyTorch do.
``numpy``
    `numpy_cross_entropy` / `numpy_log_softmax` below: plain vectorized float32 code
    (one thread; no BLAS involved).
``torch``
    ``F.cross_entropy(x, y)`` forward and ``.backward()`` on a leaf tensor whose
    ``.grad`` is reset to None first (what ``optimizer.zero_grad()`` does);
    ``torch.log_softmax(x, dim=1)``. ``torch.set_num_threads(threads)``. The tensors
    share memory with the NumPy inputs (``torch.from_numpy``).
``copy``
    ``np.copyto(dst, x)``: the bytes a fused kernel must move (read N*C, write N*C
    floats), on one thread. fastloss/copy near 1 means the kernel runs at memory speed.

``test_implementations_agree`` checks first that all of them compute the same thing.
"""
import functools

import numpy as np
import pytest

import fastloss
from benchutil import THREADS, check_agree, time_case, torch_value_and_grad
from fastloss._baselines import numpy_cross_entropy, numpy_log_softmax

SIZES = ((4096, 10), (4096, 1000), (1024, 32000), (256, 128000))
OPS = ("cross_entropy", "log_softmax")
IMPLS = ("fastloss", "numpy", "torch", "copy")
NOOUT_SIZE = (1024, 32000)  # where fastloss is also timed allocating its result
IMPLS_NOOUT = ("fastloss", "fastloss_noout") + IMPLS[1:]


# Enough rounds for stable medians (5 or more, up to 0.5 s of them per case) with the
# whole suite in about three minutes; a short warm-up touches buffers and thread pools.
pytestmark = pytest.mark.benchmark(min_rounds=5, max_time=0.5, warmup=True,
                                   warmup_iterations=3, disable_gc=True)


# ---- inputs -----------------------------------------------------------------------

class Data:
    """Logits x (N, C) float32, labels y (N,) int64, and a touched output buffer."""

    def __init__(self, n, c):
        rng = np.random.default_rng(12345)
        self.x = rng.standard_normal((n, c), dtype=np.float32) * 3
        self.y = rng.integers(0, c, size=n, dtype=np.int64)
        self.out = np.empty_like(self.x)
        self.out.fill(0)  # page faults now, not in the first timed round


@functools.lru_cache(maxsize=1)  # the cases run size by size: one size in memory
def data(size):
    return Data(*size)


# ---- one builder per implementation: (op, data, threads) -> the timed callable ------

def fastloss_call(op, d, threads, use_out=True):
    out = d.out if use_out else None
    if op == "cross_entropy":
        loss = fastloss.CrossEntropyLoss(reduction="mean", n_threads=threads)
        return functools.partial(loss.value_and_grad, d.x, d.y, out=out)
    return functools.partial(fastloss.log_softmax, d.x, out=out, n_threads=threads)


def numpy_call(op, d, threads):
    if op == "cross_entropy":
        return functools.partial(numpy_cross_entropy, d.x, d.y)
    return functools.partial(numpy_log_softmax, d.x)


def torch_call(op, d, threads):
    torch = pytest.importorskip("torch")
    if op == "log_softmax":
        torch.set_num_threads(threads)
        return functools.partial(torch.log_softmax, torch.from_numpy(d.x), dim=1)
    return torch_value_and_grad(torch.nn.functional.cross_entropy, d.x, d.y, threads)


def copy_call(op, d, threads):
    return functools.partial(np.copyto, d.out, d.x)


BUILDERS = {
    "fastloss": fastloss_call,
    "fastloss_noout": functools.partial(fastloss_call, use_out=False),
    "numpy": numpy_call,
    "torch": torch_call,
    "copy": copy_call,
}


def _cases():
    """(size, op, threads, impl), size outermost so that one size is in memory at a time."""
    for size in SIZES:
        for op in OPS:
            for threads in THREADS:
                for impl in IMPLS if size != NOOUT_SIZE else IMPLS_NOOUT:
                    n, c = size
                    yield pytest.param(size, op, threads, impl,
                                       id=f"{op}-{n}x{c}-t{threads}-{impl}")


# ---- validate, then time ------------------------------------------------------------

@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_implementations_agree(size, op):
    """Every timed implementation computes what the NumPy baseline does."""
    check_agree(BUILDERS, op, data(size), ("fastloss", "fastloss_noout", "torch"),
                f" at {size[0]}x{size[1]}")


@pytest.mark.parametrize("size, op, threads, impl", list(_cases()))
def test_bench(benchmark, size, op, threads, impl):
    n, c = size
    d = data(size)
    run = BUILDERS[impl](op, d, threads)
    time_case(benchmark, run, op=op, impl=impl, n=n, c=c, threads=threads,
              nbytes=2 * d.x.nbytes)  # read N*C + write N*C, as the copy ruler
