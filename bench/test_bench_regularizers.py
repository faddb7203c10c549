"""Benchmarks: ElasticNet value and gradient over a list of float32 arrays.

For every (list of K arrays x n elements, threads) this times fastloss against the
loop a NumPy user writes, PyTorch (skipped when it is not installed) and a memory-copy
ruler, in one process. Run it with

    python -m pytest bench/test_bench_regularizers.py -q -p no:cacheprovider

and read the ratio table that bench/conftest.py prints (N = number of arrays,
C = elements per array). pytest-benchmark groups are
``"elastic_net <K>x<n> threads=<t>"``.

What is timed (one call = one round's iteration), all adding the penalty's gradient
alpha * (l1_ratio * sign(w) + (1 - l1_ratio) * w) into existing gradient arrays:

``fastloss``
    ``ElasticNet(alpha, l1_ratio).value_and_grad(params, grads)``: one C pass per
    dtype over all arrays (gradients updated in place).
``numpy``
    `numpy_elastic_net` below: a Python loop over the arrays, vectorized per array.
``torch``
    the penalty written with tensor ops on leaf tensors, then ``.backward()``, which
    accumulates into ``.grad`` as the other two do (``torch.set_num_threads``).
``copy``
    ``np.copyto`` of every parameter into its gradient array: read K*n, write K*n
    floats, on one thread. The fused kernel reads 2*K*n and writes K*n.
"""
import functools

import numpy as np
import pytest

import fastloss
from benchutil import THREADS, time_case

SIZES = ((50, 200_000), (2_000, 5_000))  # (arrays, elements per array): 10^7 in total
IMPLS = ("fastloss", "numpy", "torch", "copy")
ALPHA, L1_RATIO = 1e-3, 0.3
OP = "elastic_net"

pytestmark = pytest.mark.benchmark(min_rounds=5, max_time=0.5, warmup=True,
                                   warmup_iterations=2, disable_gc=True)


def numpy_elastic_net(params, grads, alpha=ALPHA, l1_ratio=L1_RATIO):
    """What a NumPy user writes: value and gradient, array by array."""
    value = 0.0
    for w, g in zip(params, grads):
        value += alpha * (l1_ratio * float(np.abs(w).sum(dtype=np.float64))
                          + 0.5 * (1 - l1_ratio) * float(np.dot(w.ravel(), w.ravel())))
        g += alpha * (l1_ratio * np.sign(w) + (1 - l1_ratio) * w)
    return value


class Data:
    """K float32 weight matrices (rows of 500) and their touched gradient arrays."""

    def __init__(self, k, n):
        rng = np.random.default_rng(2024)
        self.params = [rng.standard_normal((n // 500, 500), dtype=np.float32)
                       for _ in range(k)]
        self.grads = [np.zeros_like(p) for p in self.params]


@functools.lru_cache(maxsize=1)
def data(size):
    return Data(*size)


def fastloss_call(d, threads):
    reg = fastloss.ElasticNet(ALPHA, L1_RATIO, n_threads=threads)
    return functools.partial(reg.value_and_grad, d.params, d.grads)


def numpy_call(d, threads):
    return functools.partial(numpy_elastic_net, d.params, d.grads)


def torch_call(d, threads):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(threads)
    tensors = [torch.from_numpy(p.copy()).requires_grad_() for p in d.params]

    def forward_backward():
        value = sum(ALPHA * (L1_RATIO * t.abs().sum() + 0.5 * (1 - L1_RATIO) * (t * t).sum())
                    for t in tensors)
        value.backward()  # accumulates into .grad, as the others add into grads
        return value, [t.grad for t in tensors]
    return forward_backward


def copy_call(d, threads):
    def copy_all():
        for p, g in zip(d.params, d.grads):
            np.copyto(g, p)
    return copy_all


BUILDERS = {"fastloss": fastloss_call, "numpy": numpy_call, "torch": torch_call,
            "copy": copy_call}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_implementations_agree(size):
    """fastloss, NumPy and PyTorch add the same gradient and return the same value."""
    k, n = size
    d = Data(k, n)
    grads_np = [np.zeros_like(p) for p in d.params]
    want = numpy_elastic_net(d.params, grads_np)
    grads_fl = [np.zeros_like(p) for p in d.params]
    got = fastloss.ElasticNet(ALPHA, L1_RATIO, n_threads=2).value_and_grad(d.params, grads_fl)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    for i in (0, k // 2, k - 1):
        np.testing.assert_allclose(grads_fl[i], grads_np[i], rtol=1e-6, atol=1e-9)
    torch = pytest.importorskip("torch")
    value, grads_t = torch_call(d, 2)()
    np.testing.assert_allclose(value.item(), want, rtol=1e-4)
    for i in (0, k // 2, k - 1):
        np.testing.assert_allclose(grads_t[i].numpy(), grads_np[i], rtol=1e-6, atol=1e-9)
    torch.set_num_threads(1)


def _cases():
    for size in SIZES:
        for threads in THREADS:
            for impl in IMPLS:
                yield pytest.param(size, threads, impl,
                                   id=f"{OP}-{size[0]}x{size[1]}-t{threads}-{impl}")


@pytest.mark.parametrize("size, threads, impl", list(_cases()))
def test_bench(benchmark, size, threads, impl):
    k, n = size
    d = data(size)
    run = BUILDERS[impl](d, threads)
    time_case(benchmark, run, op=OP, impl=impl, n=k, c=n, threads=threads,
              nbytes=3 * k * n * 4)
