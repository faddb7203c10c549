"""Benchmarks: within-cluster sum of squares and one Lloyd step, float32, 100,000 points
of 64 features and 16 centroids (compute-bound: N*K*D = 1e8 squared differences).

Run with ``python -m pytest bench/test_bench_clustering.py -q -p no:cacheprovider``; the
ratio table of bench/conftest.py lists the fastloss, NumPy and PyTorch columns (the
scikit-learn timings appear in pytest-benchmark's own group tables). pytest-benchmark
groups are ``"<op> <N>x<D> K=<K> threads=<n>"``.

Ops and implementations (one call = one round's iteration):

``wcss`` (value and labels)
    fastloss: ``fastloss.wcss(X, C, n_threads=...)`` (value, labels, distances).
    numpy: `numpy_assign`, what a NumPy user writes: ``||x||^2 - 2 X C^T + ||c||^2``
    by BLAS (one thread: conftest sets OPENBLAS_NUM_THREADS=1), argmin, sum.
    sklearn: the function behind ``KMeans.predict`` / ``score``
    (``sklearn.cluster._kmeans._labels_inertia_threadpool_limit``, chunked GEMM
    with OpenMP), ``n_threads=threads``.
    torch: ``torch.cdist(X, C) ** 2``, ``min(dim=1)``, sum; ``torch.set_num_threads``.
``wcss_grad`` (value and both gradients)
    fastloss: ``WCSS().value_and_grad(X, C, out=(gc, gx))`` with reused buffers.
    numpy: `numpy_wcss_grad`. torch: the ``wcss`` forward on leaf tensors, then
    ``.backward()`` (``.grad`` reset to None first).
``kmeans_step`` (assignment and new centroids)
    fastloss: ``kmeans_step(X, C, out=new)`` with a reused buffer.
    numpy: `numpy_kmeans_step`. sklearn: ``KMeans(init=C, n_init=1, max_iter=1,
    algorithm="lloyd").fit(X)`` (one Lloyd iteration plus its input checks and a final
    assignment: an upper bound of sklearn's step).

``test_implementations_agree`` checks first that all of them compute the same thing.
"""
import functools

import numpy as np
import pytest

import fastloss
from fastloss._baselines import numpy_kmeans_step, numpy_wcss, numpy_wcss_grad
from benchutil import THREADS, time_case

N, D, K = 100_000, 64, 16
OPS = ("wcss", "wcss_grad", "kmeans_step")
IMPLS = {"wcss": ("fastloss", "numpy", "sklearn", "torch"),
         "wcss_grad": ("fastloss", "numpy", "torch"),
         "kmeans_step": ("fastloss", "numpy", "sklearn")}

pytestmark = pytest.mark.benchmark(min_rounds=5, max_time=0.5, warmup=True,
                                   warmup_iterations=2, disable_gc=True)


# ---- inputs -------------------------------------------------------------------------------

class Data:
    """K clusters of N points in D dimensions (float32), centroids near their centres,
    and touched output buffers."""

    def __init__(self):
        rng = np.random.default_rng(2024)
        centres = rng.normal(0.0, 4.0, size=(K, D))
        self.x = (centres[rng.integers(0, K, size=N)]
                  + rng.normal(0.0, 1.0, size=(N, D))).astype(np.float32)
        self.c = (centres + rng.normal(0.0, 0.5, size=(K, D))).astype(np.float32)
        self.grad_c = np.zeros_like(self.c)
        self.grad_x = np.zeros_like(self.x)
        self.new_c = np.zeros_like(self.c)


@functools.lru_cache(maxsize=1)
def data():
    return Data()


# ---- one builder per implementation: (op, data, threads) -> the timed callable ------------

def fastloss_call(op, d, threads):
    if op == "wcss":
        return functools.partial(fastloss.wcss, d.x, d.c, n_threads=threads)
    if op == "wcss_grad":
        loss = fastloss.WCSS(n_threads=threads)
        return functools.partial(loss.value_and_grad, d.x, d.c, out=(d.grad_c, d.grad_x))
    return functools.partial(fastloss.kmeans_step, d.x, d.c, out=d.new_c, n_threads=threads)


def numpy_call(op, d, threads):
    fn = {"wcss": numpy_wcss, "wcss_grad": numpy_wcss_grad, "kmeans_step": numpy_kmeans_step}
    return functools.partial(fn[op], d.x, d.c)


def sklearn_call(op, d, threads):
    if op == "kmeans_step":
        cluster = pytest.importorskip("sklearn.cluster")
        km = cluster.KMeans(n_clusters=K, init=d.c, n_init=1, max_iter=1, algorithm="lloyd",
                            tol=0.0)

        def step():
            from threadpoolctl import threadpool_limits
            with threadpool_limits(threads):   # sklearn's OpenMP loops follow it
                km.fit(d.x)
            return km.cluster_centers_, km.labels_
        return step
    kmeans = pytest.importorskip("sklearn.cluster._kmeans")
    ones = np.ones(N, dtype=np.float32)

    def labels_inertia():
        labels, inertia = kmeans._labels_inertia_threadpool_limit(d.x, ones, d.c,
                                                                  n_threads=threads)
        return inertia, labels
    return labels_inertia


def torch_call(op, d, threads):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(threads)
    if op == "wcss":
        x, c = torch.from_numpy(d.x), torch.from_numpy(d.c)

        def forward():
            best = (torch.cdist(x, c) ** 2).min(dim=1)
            return best.values.sum(), best.indices
        return forward
    x = torch.from_numpy(d.x).requires_grad_()
    c = torch.from_numpy(d.c).requires_grad_()

    def forward_backward():
        x.grad = c.grad = None
        value = (torch.cdist(x, c) ** 2).min(dim=1).values.sum()
        value.backward()
        return value, c.grad, x.grad
    return forward_backward


BUILDERS = {"fastloss": fastloss_call, "numpy": numpy_call, "sklearn": sklearn_call,
            "torch": torch_call}


def _as_arrays(result):
    parts = result if isinstance(result, tuple) else (result,)
    return [np.asarray(p.detach() if hasattr(p, "detach") else p, dtype=np.float64)
            for p in parts]


def _expected(op, d):
    """What each op returns, from fastloss's float64 twin (exact distances)."""
    x64, c64 = d.x.astype(np.float64), d.c.astype(np.float64)
    res = fastloss.wcss(x64, c64)
    if op == "wcss":
        return {"value": res.value, "labels": res.labels}
    if op == "wcss_grad":
        value, grad = fastloss.WCSS().value_and_grad(x64, c64)
        return {"value": value, "grad_centroids": grad.centroids, "grad_x": grad.X}
    return {"centroids": fastloss.kmeans_step(x64, c64).centroids, "labels": res.labels}


def _pick(op, impl, result):
    """The comparable outputs of one implementation, by name."""
    if op == "kmeans_step":
        if impl == "fastloss":
            return {"centroids": result.centroids, "labels": result.labels}
        return dict(zip(("centroids", "labels"), _as_arrays(result)))
    if impl == "fastloss":
        if op == "wcss":
            return {"value": result.value, "labels": result.labels}
        value, grad = result
        return {"value": value, "grad_centroids": grad.centroids, "grad_x": grad.X}
    names = ("value", "labels") if op == "wcss" else ("value", "grad_centroids", "grad_x")
    return dict(zip(names, _as_arrays(result)))


@pytest.mark.parametrize("op", OPS)
def test_implementations_agree(op):
    """Every timed implementation computes what the float64 computation does: labels on
    all but a few points near a tie (float32 GEMM rounding), values and gradients to
    float32 accuracy."""
    d = data()
    want = _expected(op, d)
    for impl in IMPLS[op]:
        got = _pick(op, impl, BUILDERS[impl](op, d, 2)())
        for name, expected in want.items():
            g = np.asarray(got[name], dtype=np.float64)
            what = f"{impl} {op} {name}"
            if name == "labels":
                assert np.mean(g != expected) < 1e-4, what
            elif name == "value":
                np.testing.assert_allclose(g, expected, rtol=1e-4, err_msg=what)
            else:
                scale = float(np.abs(expected).max())
                np.testing.assert_allclose(g, expected, rtol=1e-3, atol=1e-4 * scale,
                                           err_msg=what)


def _cases():
    for op in OPS:
        for threads in THREADS:
            for impl in IMPLS[op]:
                yield pytest.param(op, threads, impl, id=f"{op}-{N}x{D}-K{K}-t{threads}-{impl}")


@pytest.mark.parametrize("op, threads, impl", list(_cases()))
def test_bench(benchmark, op, threads, impl):
    d = data()
    run = BUILDERS[impl](op, d, threads)
    time_case(benchmark, run, op=f"{op} K={K}", impl=impl, n=N, c=D, threads=threads,
              group=f"{op} {N}x{D} K={K} threads={threads}", K=K)
