"""Benchmarks: one optimizer step (Adam, AdamW, SGD with momentum) over float32 arrays.

Sizes (N = arrays, C = elements per array, ~10^7 parameters each):
(a) 100 arrays of mixed sizes, (b) one array of 10^7, (c) 10,000 arrays of 1,000.
Run it with

    python -m pytest bench/test_bench_optim.py -q -p no:cacheprovider

What is timed (one call = one step; gradients are fixed arrays):

``fastloss``
    ``opt.step(grads)``: one C call per group and dtype.
``numpy``
    the NumPy twin of fastloss.reference, array by array (a Python loop).
``torch``
    the fastest of ``torch.optim`` with ``foreach=False``, ``foreach=True`` and
    ``fused=True`` (each timed; the other two appear as impls ``torch_loop`` /
    ``torch_foreach`` / ``torch_fused`` in pytest-benchmark's own table; the ratio
    table's PyTorch column takes the ``fused`` variant, fastest here for Adam and
    AdamW, and ``foreach`` for SGD, which has no fused CPU kernel in all versions).
``copy``
    the bandwidth ruler: the bytes Adam moves (read p, g, m, v; write p, m, v = 28
    bytes per parameter) as NumPy would move them at best: ``np.add(a, b, out=a)`` over
    three state-sized array pairs plus one read (``np.add(p, g, out=p)``,
    ``np.add(m, g, out=m)``, ``np.add(v, g, out=v)``: 9 x 4 bytes moved, one thread).
    That reads g three times, so it is a slight overestimate (36 vs 28 bytes): fastloss
    below 1.0 x copy is possible.
"""
import functools

import numpy as np
import pytest

import fastloss
from benchutil import THREADS, time_case
from fastloss.reference import _optim as ref

TOTAL = 10_000_000
SIZES = {"mixed100": None, "one": (TOTAL,), "many10000": (1_000,) * 10_000}
OPS = {"adam": ("Adam", dict(lr=1e-3)), "adamw": ("AdamW", dict(lr=1e-3)),
       "sgd_momentum": ("SGD", dict(lr=1e-2, momentum=0.9))}
TORCH_VARIANTS = ("torch_loop", "torch_foreach", "torch_fused")

pytestmark = pytest.mark.benchmark(min_rounds=5, max_time=0.5, warmup=True,
                                   warmup_iterations=1, disable_gc=True)


def _shapes(size):
    if size == "mixed100":  # sizes spread over two orders of magnitude, summing to ~10^7
        weights = np.geomspace(1, 100, 100)
        counts = np.maximum((weights / weights.sum() * TOTAL).astype(int), 1)
        return [(int(c),) for c in counts]
    if size == "one":
        return [(TOTAL,)]
    return [(1_000,)] * 10_000


@functools.lru_cache(maxsize=1)
def _grads(size):
    rng = np.random.default_rng(5)
    return [rng.standard_normal(s, dtype=np.float32) for s in _shapes(size)]


def _params(size):
    rng = np.random.default_rng(6)
    return [rng.standard_normal(s, dtype=np.float32) for s in _shapes(size)]


def fastloss_call(op, size, threads):
    name, options = OPS[op]
    opt = getattr(fastloss.optim, name)(_params(size), **options, n_threads=threads)
    grads = _grads(size)
    return functools.partial(opt.step, grads)


def numpy_call(op, size, threads):
    name, options = OPS[op]
    params, grads = _params(size), _grads(size)
    states = [{} for _ in params]
    if name == "SGD":
        rule = functools.partial(ref.sgd_update, **options)
    else:
        rule = functools.partial(ref.adam_update, decoupled=name == "AdamW",
                                 weight_decay=1e-2 if name == "AdamW" else 0.0, **options)

    def step():
        for p, g, s in zip(params, grads, states):
            rule(p, g, s)
    return step


def torch_call(op, size, threads, variant):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(threads)
    name, options = OPS[op]
    tensors = [torch.from_numpy(p) for p in _params(size)]
    for t, g in zip(tensors, _grads(size)):
        t.grad = torch.from_numpy(g)
    flags = {"torch_loop": dict(foreach=False), "torch_foreach": dict(foreach=True),
             "torch_fused": dict(fused=True)}[variant]
    opt = getattr(torch.optim, name)(tensors, **options, **flags)
    return opt.step


def copy_call(op, size, threads):
    params, grads = _params(size), _grads(size)
    m, v = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]

    def move_adam_bytes():
        for p, g, a, b in zip(params, grads, m, v):
            np.add(p, g, out=p)
            np.add(a, g, out=a)
            np.add(b, g, out=b)
    return move_adam_bytes


def test_implementations_agree():
    """One Adam step on (c): fastloss, the NumPy twin and torch.optim give the same."""
    size = "many10000"
    want = _params(size)
    numpy_like = numpy_call("adam", size, 1)
    got_opt = fastloss.optim.Adam(_params(size), lr=1e-3, n_threads=2)
    got_opt.step(_grads(size))
    states = [{} for _ in want]
    for p, g, s in zip(want, _grads(size), states):
        ref.adam_update(p, g, s, lr=1e-3)
    del numpy_like
    for i in (0, 5_000, 9_999):
        np.testing.assert_allclose(got_opt.param_groups[0]["params"][i], want[i], rtol=1e-6)
    torch = pytest.importorskip("torch")
    tensors = [torch.from_numpy(p) for p in _params(size)]
    for t, g in zip(tensors, _grads(size)):
        t.grad = torch.from_numpy(g)
    torch.optim.Adam(tensors, lr=1e-3, fused=True).step()
    for i in (0, 5_000, 9_999):
        np.testing.assert_allclose(tensors[i].numpy(), want[i], rtol=1e-6)


def _cases():
    impls = ("fastloss", "numpy", "copy") + TORCH_VARIANTS
    for op in OPS:
        for size in SIZES:
            for threads in THREADS:
                for impl in impls:
                    if impl in ("numpy", "copy") and threads != 1:
                        continue  # one-thread baselines: the same at every thread count
                    if impl == "torch_fused" and op == "sgd_momentum":
                        continue
                    yield pytest.param(op, size, threads, impl,
                                       id=f"{op}-{size}-t{threads}-{impl}")


@pytest.mark.parametrize("op, size, threads, impl", list(_cases()))
def test_bench(benchmark, op, size, threads, impl):
    if impl.startswith("torch"):
        run = torch_call(op, size, threads, impl)
        # the ratio table's PyTorch column: fused where torch has it, else foreach
        best = "torch_foreach" if op == "sgd_momentum" else "torch_fused"
        impl = "torch" if impl == best else impl
    else:
        run = {"fastloss": fastloss_call, "numpy": numpy_call, "copy": copy_call}[impl](
            op, size, threads)
    n = len(_shapes(size))
    time_case(benchmark, run, op=op, impl=impl, n=n, c=TOTAL // n, threads=threads,
              nbytes=28 * TOTAL)
