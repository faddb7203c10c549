"""Benchmarks: a 51x51 loss surface of an MLP 2->64->64->3 on 10,000 samples, float32.

J(theta + a d1 + b d2), mean cross-entropy, at 2601 grid points, for
- fastloss: `NetworkObjective._fast_surface`, one C call parallel over grid points;
- numpy: a plain loop over grid points, the forward pass in NumPy (one thread);
- torch: the same loop with `torch.nn.functional` under `torch.no_grad()`,
  `torch.set_num_threads(threads)`;
- copy: the floor, the 64x64 products alone: one `np.matmul(H, W, out=)` per grid
  point on (10,000 x 64) activations (with 2 threads: the points split over two Python
  threads, BLAS releases the GIL), which no evaluation of the surface can beat.
Run with

    python -m pytest bench/test_bench_landscape.py -q -p no:cacheprovider

Targets (issue 6): torch/fastloss >= 2 at each thread count, fastloss/copy <= 1.5,
and fastloss(1 thread) / fastloss(2 threads) >= 1.8.
"""
import concurrent.futures
import functools

import numpy as np
import pytest

import fastloss
from benchutil import THREADS, check_close, time_case
from fastloss.landscape import NetworkObjective

N, SIZES, GRID = 10_000, (2, 64, 64, 3), 51
IMPLS = ("fastloss", "numpy", "torch", "copy")

pytestmark = pytest.mark.benchmark(min_rounds=3, max_time=1.0, warmup=False,
                                   disable_gc=True)


@functools.lru_cache(maxsize=1)
def problem():
    """(model, X, y, theta, d1, d2): a spiral-like 3-class problem and two directions."""
    rng = np.random.default_rng(7)
    X = rng.standard_normal((N, 2), dtype=np.float32)
    y = (np.arctan2(X[:, 1], X[:, 0]) * 3 / np.pi + 3).astype(np.int64) % 3
    model = fastloss.nn.MLP(list(SIZES), activation="relu", seed=0, dtype=np.float32)
    theta = model.get_flat()
    d1, d2 = (rng.standard_normal(theta.size, dtype=np.float32) * 0.1 for _ in range(2))
    return model, X, y, theta, d1, d2


def axes(size):
    return np.linspace(-1, 1, size), np.linspace(-1, 1, size)


def unpack(v):
    """W0, b0, W1, b1, W2, b2 of a flat vector (fastloss.nn layout, W: out x in)."""
    parts, offset = [], 0
    for a, b in zip(SIZES[:-1], SIZES[1:]):
        parts += [v[offset:offset + a * b].reshape(b, a), v[offset + a * b:offset + a * b + b]]
        offset += a * b + b
    return parts


def fastloss_surface(threads, size=GRID):
    model, X, y, theta, d1, d2 = problem()
    f = NetworkObjective(model, fastloss.CrossEntropyLoss(), X, y)
    alphas, betas = axes(size)
    return lambda: f._fast_surface(theta, d1, d2, alphas, betas, n_threads=threads)


def numpy_surface(threads, size=GRID):
    """What a NumPy user writes: the forward pass per grid point."""
    _, X, y, theta, d1, d2 = problem()
    alphas, betas = axes(size)
    rows = np.arange(N)

    def run():
        values = np.empty((size, size))
        for i, a in enumerate(alphas):
            for j, b in enumerate(betas):
                W0, c0, W1, c1, W2, c2 = unpack(theta + np.float32(a) * d1 + np.float32(b) * d2)
                h = np.maximum(X @ W0.T + c0, 0)
                h = np.maximum(h @ W1.T + c1, 0)
                z = h @ W2.T + c2
                m = z.max(axis=1)
                lse = m + np.log(np.exp(z - m[:, None]).sum(axis=1))
                values[i, j] = np.mean(lse - z[rows, y], dtype=np.float64)
        return values
    return run


def torch_surface(threads, size=GRID):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(threads)
    _, X, y, theta, d1, d2 = problem()
    alphas, betas = axes(size)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    tt, t1, t2 = (torch.from_numpy(v) for v in (theta, d1, d2))
    F = torch.nn.functional

    def run():
        values = np.empty((size, size))
        with torch.no_grad():
            for i, a in enumerate(alphas):
                for j, b in enumerate(betas):
                    W0, c0, W1, c1, W2, c2 = unpack(tt + float(a) * t1 + float(b) * t2)
                    h = F.relu(F.linear(Xt, W0, c0))
                    h = F.relu(F.linear(h, W1, c1))
                    values[i, j] = F.cross_entropy(F.linear(h, W2, c2), yt).item()
        return values
    return run


def copy_floor(threads, size=GRID):
    """The 64x64 products alone, one BLAS call per grid point."""
    rng = np.random.default_rng(1)
    H = rng.standard_normal((N, SIZES[1]), dtype=np.float32)
    W = rng.standard_normal((SIZES[1], SIZES[2]), dtype=np.float32)
    outs = [np.empty((N, SIZES[2]), dtype=np.float32) for _ in range(threads)]
    pool = concurrent.futures.ThreadPoolExecutor(threads)

    def products(k):
        for _ in range(k, size * size, threads):
            np.matmul(H, W, out=outs[k])

    def run():
        list(pool.map(products, range(threads)))
        return outs[0]
    return run


BUILDERS = {"fastloss": fastloss_surface, "numpy": numpy_surface, "torch": torch_surface,
            "copy": copy_floor}


@pytest.fixture
def restore_threads():
    yield
    fastloss.set_num_threads(None)


def test_implementations_agree(restore_threads):
    """On a 6x6 grid the fast path, the NumPy loop, PyTorch and the serial path agree."""
    model, X, y, theta, d1, d2 = problem()
    expected = numpy_surface(1, 6)()
    check_close(fastloss_surface(2, 6)(), expected, "fastloss vs NumPy", rtol=1e-5)
    f = NetworkObjective(model, fastloss.CrossEntropyLoss(), X, y)
    alphas, betas = axes(6)
    serial = [[f(theta + np.float32(a) * d1 + np.float32(b) * d2) for b in betas]
              for a in alphas]
    check_close(serial, expected, "serial path vs NumPy", rtol=1e-5)
    pytest.importorskip("torch")
    check_close(torch_surface(2, 6)(), expected, "PyTorch vs NumPy", rtol=1e-5)


# the NumPy loop runs on one thread
CASES = [(impl, t) for impl in IMPLS for t in THREADS if impl != "numpy" or t == 1]


@pytest.mark.parametrize(("impl", "threads"), CASES)
def test_bench(benchmark, impl, threads, restore_threads):
    time_case(benchmark, BUILDERS[impl](threads), op=f"surface {GRID}x{GRID} mlp 2-64-64-3",
              impl=impl, n=N, c=GRID * GRID, threads=threads)
