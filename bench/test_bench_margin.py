"""Benchmarks: multiclass margin loss and KL divergence (value and gradient), float32.

Same layout as bench/test_bench_softmax.py, whose table bench/conftest.py extends with
these rows. Run with

    python -m pytest bench/test_bench_margin.py -q -p no:cacheprovider

What is timed (one call = one round's iteration):

``fastloss``
    ``MultiMarginLoss().value_and_grad(x, y, out=grad)`` (p=1, margin 1, mean) and
    ``KLDivLoss().value_and_grad(logq, t, out=grad)`` (batchmean, probability target),
    with a preallocated gradient buffer reused every round.
``numpy``
    `numpy_multi_margin` / `numpy_kl_div` of fastloss._baselines: what a NumPy user
    writes (one thread).
``torch``
    ``F.multi_margin_loss(x, y)`` / ``F.kl_div(x, t, reduction="batchmean")`` forward
    and ``.backward()`` on a leaf tensor whose ``.grad`` is reset first;
    ``torch.set_num_threads(threads)``.
``copy``
    ``np.copyto(dst, x)``: reading and writing N*C floats. The fused kernels move more
    (KL reads two arrays), so fastloss/copy >= 1 (1.5 for KL) is memory speed.
"""
import functools

import numpy as np
import pytest

import fastloss
from fastloss._baselines import numpy_kl_div, numpy_multi_margin
from benchutil import THREADS, check_agree, time_case, torch_value_and_grad

SIZES = ((4096, 10), (4096, 1000))
OPS = ("multi_margin", "kl_div")
IMPLS = ("fastloss", "numpy", "torch", "copy")

pytestmark = pytest.mark.benchmark(min_rounds=5, max_time=0.5, warmup=True,
                                   warmup_iterations=3, disable_gc=True)


# ---- inputs -----------------------------------------------------------------------

class Data:
    """Scores x (N, C) float32 and labels y; log-probabilities logq and a target
    distribution t of the same shape; a touched output buffer."""

    def __init__(self, n, c):
        rng = np.random.default_rng(12345)
        self.x = rng.standard_normal((n, c), dtype=np.float32)
        self.y = rng.integers(0, c, size=n, dtype=np.int64)
        self.logq = fastloss.log_softmax(self.x * 3)
        t = rng.random((n, c), dtype=np.float32)
        self.t = t / t.sum(axis=1, keepdims=True)
        self.out = np.empty_like(self.x)
        self.out.fill(0)


@functools.lru_cache(maxsize=1)
def data(size):
    return Data(*size)


def _operands(op, d):
    return (d.x, d.y) if op == "multi_margin" else (d.logq, d.t)


def fastloss_call(op, d, threads):
    loss = (fastloss.MultiMarginLoss(n_threads=threads) if op == "multi_margin"
            else fastloss.KLDivLoss(n_threads=threads))
    return functools.partial(loss.value_and_grad, *_operands(op, d), out=d.out)


def numpy_call(op, d, threads):
    fn = numpy_multi_margin if op == "multi_margin" else numpy_kl_div
    return functools.partial(fn, *_operands(op, d))


def torch_call(op, d, threads):
    torch = pytest.importorskip("torch")
    fn = (torch.nn.functional.multi_margin_loss if op == "multi_margin"
          else functools.partial(torch.nn.functional.kl_div, reduction="batchmean"))
    return torch_value_and_grad(fn, *_operands(op, d), threads)


def copy_call(op, d, threads):
    return functools.partial(np.copyto, d.out, d.x)


BUILDERS = {"fastloss": fastloss_call, "numpy": numpy_call, "torch": torch_call,
            "copy": copy_call}


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_implementations_agree(size, op):
    """Every timed implementation computes what the NumPy baseline does."""
    check_agree(BUILDERS, op, data(size), ("fastloss", "torch"), f" at {size[0]}x{size[1]}")


def _cases():
    for size in SIZES:
        for op in OPS:
            for threads in THREADS:
                for impl in IMPLS:
                    n, c = size
                    yield pytest.param(size, op, threads, impl,
                                       id=f"{op}-{n}x{c}-t{threads}-{impl}")


@pytest.mark.parametrize("size, op, threads, impl", list(_cases()))
def test_bench(benchmark, size, op, threads, impl):
    n, c = size
    d = data(size)
    run = BUILDERS[impl](op, d, threads)
    n_read = 1 if op == "multi_margin" else 2
    time_case(benchmark, run, op=op, impl=impl, n=n, c=c, threads=threads,
              nbytes=(n_read + 1) * d.x.nbytes)
