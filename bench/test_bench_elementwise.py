"""Benchmarks: elementwise losses (value and gradient) on 10^7 float32 entries.

MSE, Huber and binary cross-entropy with logits: fastloss's fused ``value_and_grad``
against what a NumPy user writes, PyTorch forward + backward, and a bandwidth ruler.
Run with

    python -m pytest bench/test_bench_elementwise.py -q -p no:cacheprovider

and read the ratio table of bench/conftest.py (N = 10^7 entries, C = 1).

What is timed (one call = one round's iteration):

``fastloss``
    ``Loss(reduction="mean").value_and_grad(x, y, out=grad)`` with a gradient buffer
    reused every round.
``fastloss_noout``
    the same allocating the gradient each call, as NumPy and PyTorch do.
``numpy``
    `numpy_mse`, `numpy_huber`, `numpy_bce_with_logits` of fastloss._baselines (one
    thread).
``torch``
    ``F.mse_loss`` / ``F.huber_loss`` / ``F.binary_cross_entropy_with_logits`` forward
    and ``.backward()`` on a leaf tensor whose ``.grad`` is reset to None first;
    ``torch.set_num_threads(threads)``.
``copy``
    the bandwidth ruler: ``np.add(x, y, out=buf)``, which reads two arrays and writes
    one, exactly the memory traffic of a fused value-and-gradient pass (one thread).
    fastloss/copy near 1 means memory speed.
"""
import functools

import numpy as np
import pytest

import fastloss
from fastloss._baselines import (HUBER_DELTA, numpy_bce_with_logits, numpy_huber,
                                 numpy_mse)
from benchutil import THREADS, check_agree, time_case, torch_value_and_grad

N = 10_000_000
OPS = ("mse", "huber", "bce_with_logits")
IMPLS = ("fastloss", "fastloss_noout", "numpy", "torch", "copy")

pytestmark = pytest.mark.benchmark(min_rounds=5, max_time=0.5, warmup=True,
                                   warmup_iterations=3, disable_gc=True)


NUMPY = {"mse": numpy_mse, "huber": numpy_huber, "bce_with_logits": numpy_bce_with_logits}


class Data:
    """Predictions/logits x, targets y (real for regression, 0/1 for BCE), buffers."""

    def __init__(self, op):
        rng = np.random.default_rng(2024)
        self.x = rng.standard_normal(N, dtype=np.float32) * 2
        if op == "bce_with_logits":
            self.y = (rng.random(N, dtype=np.float32) < 0.5).astype(np.float32)
        else:
            self.y = rng.standard_normal(N, dtype=np.float32)
        self.out = np.zeros_like(self.x)  # page faults now, not in the first timed round
        self.ruler = np.zeros_like(self.x)


@functools.lru_cache(maxsize=1)
def data(op):
    return Data(op)


def _loss(op, threads):
    if op == "mse":
        return fastloss.MSELoss(n_threads=threads)
    if op == "huber":
        return fastloss.HuberLoss(delta=HUBER_DELTA, n_threads=threads)
    return fastloss.BCEWithLogitsLoss(n_threads=threads)


def fastloss_call(op, d, threads, use_out=True):
    return functools.partial(_loss(op, threads).value_and_grad, d.x, d.y,
                             out=d.out if use_out else None)


def numpy_call(op, d, threads):
    return functools.partial(NUMPY[op], d.x, d.y)


def torch_call(op, d, threads):
    F = pytest.importorskip("torch").nn.functional
    fn = {"mse": F.mse_loss,
          "huber": functools.partial(F.huber_loss, delta=HUBER_DELTA),
          "bce_with_logits": F.binary_cross_entropy_with_logits}[op]
    return torch_value_and_grad(fn, d.x, d.y, threads)


def copy_call(op, d, threads):
    return functools.partial(np.add, d.x, d.y, out=d.ruler)


BUILDERS = {
    "fastloss": fastloss_call,
    "fastloss_noout": functools.partial(fastloss_call, use_out=False),
    "numpy": numpy_call,
    "torch": torch_call,
    "copy": copy_call,
}


@pytest.mark.parametrize("op", OPS)
def test_implementations_agree(op):
    """Every timed implementation computes what the NumPy baseline does."""
    check_agree(BUILDERS, op, data(op), ("fastloss", "fastloss_noout", "torch"))


def _cases():
    for op in OPS:
        for threads in THREADS:
            for impl in IMPLS:
                yield pytest.param(op, threads, impl, id=f"{op}-t{threads}-{impl}")


@pytest.mark.parametrize("op, threads, impl", list(_cases()))
def test_bench(benchmark, op, threads, impl):
    d = data(op)
    run = BUILDERS[impl](op, d, threads)
    time_case(benchmark, run, op=op, impl=impl, n=N, c=1, threads=threads,
              nbytes=3 * d.x.nbytes, group=f"{op} {N} threads={threads}")
