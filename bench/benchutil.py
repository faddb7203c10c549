"""What every benchmark module shares: thread counts, versions, result checks and the
one way a case is timed (bench/conftest.py builds its ratio table from extra_info)."""
from importlib import metadata

import numpy as np
import pytest

import fastloss

THREADS = (1, 2)


def _version(dist):
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


VERSIONS = {dist: _version(dist) for dist in ("fastloss", "numpy", "torch", "scikit-learn")}
SIMD_ACTIVE = fastloss.build_info()["simd_active"]


def as_arrays(result):
    """(value, grad, ...) or an array, from any implementation, as NumPy arrays."""
    parts = result if isinstance(result, tuple) else (result,)
    return [np.asarray(p.detach() if hasattr(p, "detach") else p) for p in parts]


def check_close(got, expected, what, rtol=1e-4):
    """got == expected within rtol, with an absolute floor of rtol * max|expected|.

    Cheaper than assert_allclose on 100 MB arrays, and reports the worst entry."""
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    atol = rtol * float(np.abs(expected).max())
    excess = np.abs(got - expected) - rtol * np.abs(expected)
    worst = tuple(int(i) for i in np.unravel_index(np.argmax(excess), np.shape(excess)))
    assert excess[worst] <= atol, (
        f"{what}: at {worst} got {got[worst].item()!r}, "
        f"expected {expected[worst].item()!r} "
        f"(rtol {rtol}, atol {atol:.3g})")


def time_case(benchmark, run, *, op, impl, n, c, threads, nbytes=None, group=None, **info):
    """Time `run` as one row cell of the ratio table: (op, n x c, threads), column impl."""
    benchmark.group = group or f"{op} {n}x{c} threads={threads}"
    benchmark.extra_info.update(op=op, impl=impl, N=n, C=c, threads=threads,
                                dtype="float32", bytes=nbytes, versions=VERSIONS,
                                simd_active=SIMD_ACTIVE, **info)
    benchmark(run)


def check_agree(builders, op, d, impls, where=""):
    """Every implementation in `impls` computes what builders["numpy"] does (same
    outputs, in order: value and gradient, or one result)."""
    expected = as_arrays(builders["numpy"](op, d, 1)())
    for impl in impls:
        if impl == "torch":
            pytest.importorskip("torch")
        got = as_arrays(builders[impl](op, d, 2)())
        names = ("value", "grad") if len(got) == 2 else ("result",)
        for name, g, e in zip(names, got, expected):
            check_close(g, e, f"{impl} vs NumPy, {op} {name}{where}")


def torch_value_and_grad(fn, x, target, threads):
    """A callable running PyTorch's forward and backward of fn(x, target) on a leaf
    tensor sharing x's memory, its .grad reset to None first (as zero_grad does)."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(threads)
    xt = torch.from_numpy(x).requires_grad_()
    tt = torch.from_numpy(target)

    def forward_backward():
        xt.grad = None
        loss = fn(xt, tt)
        loss.backward()
        return loss, xt.grad
    return forward_backward
