"""wcss / WCSS / kmeans_step: against the reference twin, finite differences, closed
forms, scikit-learn and PyTorch; ties, exactness far from the origin, NaN and inf,
thread counts, out=, bad input, and hypothesis properties."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fastloss
from fastloss import reference as ref

from conftest import DTYPE_IDS, DTYPES, LOSS_RTOL, assert_close, case, numerical_grad, tol

SHAPES = [(1, 1, 1), (13, 5, 3), (100, 7, 17), (40, 1, 9), (257, 6, 2)]  # (N, K, D)
SHAPE_IDS = [f"N{n}-K{k}-D{d}" for n, k, d in SHAPES]


def make_problem(seed, n, k, d, dtype, weighted=False):
    """Points around k well separated centres and centroids near (not on) them;
    weights in [0, 2] with some exact zeros."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 5.0, size=(k, d))
    x = centres[rng.integers(0, k, size=n)] + rng.normal(0.0, 1.0, size=(n, d))
    c = centres + rng.normal(0.0, 0.3, size=(k, d))
    w = None
    if weighted:
        w = rng.uniform(0.0, 2.0, size=n)
        w[::5] = 0.0
    return x.astype(dtype), c.astype(dtype), w


def _rtol(dtype):
    return LOSS_RTOL[np.dtype(dtype)]


# ---- against the reference twin --------------------------------------------------------

@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_wcss_matches_reference(shape, dtype, weighted):
    x, c, w = make_problem(1, *shape, dtype, weighted)
    msg = "make_problem(" + case(seed=1, shape=shape, dtype=dtype, weighted=weighted) + ")"
    res = fastloss.wcss(x, c, w)
    want_value, want_labels, want_dist = ref.wcss(x, c, w)
    assert isinstance(res.value, np.dtype(dtype).type), msg
    assert res.labels.dtype == np.int64 and res.distances.dtype == dtype, msg
    np.testing.assert_array_equal(res.labels, want_labels, err_msg=msg)
    np.testing.assert_allclose(res.distances, want_dist, rtol=tol(dtype)["rtol"], atol=0,
                               err_msg=msg)
    np.testing.assert_allclose(res.value, want_value, rtol=_rtol(dtype), atol=0, err_msg=msg)


@pytest.mark.parametrize("wrt", ["both", "centroids", "X"])
@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("shape", SHAPES[1:], ids=SHAPE_IDS[1:])
def test_value_and_grad_match_reference(shape, dtype, weighted, reduction, wrt):
    x, c, w = make_problem(2, *shape, dtype, weighted)
    msg = ("make_problem(" + case(seed=2, shape=shape, dtype=dtype, weighted=weighted)
           + "); " + case(reduction=reduction, wrt=wrt))
    value, grad = fastloss.WCSS(reduction).value_and_grad(x, c, w, wrt=wrt)
    want_value, want_gc, want_gx = ref.wcss_value_and_grad(x, c, w, reduction)
    assert isinstance(value, np.dtype(dtype).type), msg
    np.testing.assert_allclose(value, want_value, rtol=_rtol(dtype), atol=0, err_msg=msg)
    if wrt == "X":
        assert grad.centroids is None, msg
    else:
        assert grad.centroids.dtype == dtype and grad.centroids.shape == c.shape, msg
        # sums of terms of both signs: the floor is relative to the summed magnitudes
        scale = 2 * np.abs(want_gx).sum() / max(len(c), 1)
        assert_close(grad.centroids, want_gc, dtype, "grad centroids: " + msg, scale=scale)
    if wrt == "centroids":
        assert grad.X is None, msg
    else:
        assert grad.X.dtype == dtype and grad.X.shape == x.shape, msg
        assert_close(grad.X, want_gx, dtype, "grad X: " + msg)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_kmeans_step_matches_reference(shape, dtype, weighted):
    n, k, d = shape
    x, c, w = make_problem(3, n, k, d, dtype, weighted)
    c = np.concatenate([c, np.full((1, d), 1000.0, dtype=dtype)])  # an empty cluster
    msg = "make_problem(" + case(seed=3, shape=shape, dtype=dtype, weighted=weighted) + ")"
    step = fastloss.kmeans_step(x, c, w)
    want_c, want_labels, want_inertia, want_counts, want_weights = ref.kmeans_step(x, c, w)
    np.testing.assert_array_equal(step.labels, want_labels, err_msg=msg)
    np.testing.assert_array_equal(step.counts, want_counts, err_msg=msg)
    np.testing.assert_allclose(step.weights, want_weights, rtol=1e-13, err_msg=msg)
    np.testing.assert_array_equal(step.empty, want_weights == 0, err_msg=msg)
    assert step.empty[-1] and step.counts[-1] == 0, msg
    assert_close(step.centroids, want_c, dtype, "centroids: " + msg)
    assert step.centroids.dtype == dtype and isinstance(step.inertia, np.dtype(dtype).type)
    np.testing.assert_allclose(step.inertia, want_inertia, rtol=_rtol(dtype), err_msg=msg)


def test_zero_weight_cluster_is_empty_and_kept():
    x = np.array([[0.0], [1.0], [10.0]])
    c = np.array([[0.0], [10.0]])
    step = fastloss.kmeans_step(x, c, [1.0, 3.0, 0.0])
    assert step.counts.tolist() == [2, 1]
    assert step.weights.tolist() == [4.0, 0.0]
    assert step.empty.tolist() == [False, True]
    assert step.centroids.tolist() == [[0.75], [10.0]]


# ---- gradients by finite differences (float64) -----------------------------------------

@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_gradients_by_finite_differences(weighted, reduction):
    x, c, w = make_problem(4, 12, 3, 4, np.float64, weighted)
    loss = fastloss.WCSS(reduction)
    msg = case(seed=4, weighted=weighted, reduction=reduction)
    labels = fastloss.wcss(x, c, w).labels
    _, grad = loss.value_and_grad(x, c, w)
    # the steps of 2e-3 keep every point on its side of every boundary
    fd_c = numerical_grad(lambda z: loss(x, z, w), c)
    fd_x = numerical_grad(lambda z: loss(z, c, w), x)
    np.testing.assert_array_equal(fastloss.wcss(x + 2e-3, c, w).labels, labels, err_msg=msg)
    np.testing.assert_allclose(grad.centroids, fd_c, rtol=1e-8, atol=1e-8, err_msg=msg)
    np.testing.assert_allclose(grad.X, fd_x, rtol=1e-8, atol=1e-8, err_msg=msg)


def test_gradient_closed_form_at_the_cluster_means():
    """dL/dmu = 0 at the means of the clusters (a Lloyd fixed point)."""
    x = np.array([[0.0, 1.0], [2.0, 3.0], [10.0, 10.0], [12.0, 14.0]])
    c = np.array([[1.0, 2.0], [11.0, 12.0]])
    grad = fastloss.WCSS().grad(x, c)
    np.testing.assert_array_equal(grad.centroids, np.zeros((2, 2)))
    np.testing.assert_array_equal(grad.X, 2 * (x - c[[0, 0, 1, 1]]))


def test_gradients_match_torch():
    torch = pytest.importorskip("torch")
    x, c, w = make_problem(5, 30, 4, 6, np.float64, weighted=True)
    xt = torch.tensor(x, requires_grad=True)
    ct = torch.tensor(c, requires_grad=True)
    dist = ((xt[:, None, :] - ct[None, :, :]) ** 2).sum(dim=2).min(dim=1).values
    (dist * torch.tensor(w)).mean().backward()   # "mean" of torch = sum / N
    value, grad = fastloss.WCSS("sum").value_and_grad(x, c, w)
    n = len(x)
    np.testing.assert_allclose(grad.centroids / n, ct.grad.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(grad.X / n, xt.grad.numpy(), rtol=1e-12, atol=1e-14)


# ---- scikit-learn ----------------------------------------------------------------------

@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_labels_and_inertia_match_sklearn(dtype, weighted):
    metrics = pytest.importorskip("sklearn.metrics")
    x, c, w = make_problem(6, 500, 8, 5, dtype, weighted)
    labels, dist = metrics.pairwise_distances_argmin_min(x.astype(np.float64),
                                                         c.astype(np.float64))
    res = fastloss.wcss(x, c, w)
    np.testing.assert_array_equal(res.labels, labels)
    want = np.sum((np.ones(len(x)) if w is None else w) * dist ** 2)
    # sklearn's distances come from ||x||^2 - 2 x.c + ||c||^2: about 1e-13 relative here
    np.testing.assert_allclose(res.value, want, rtol=1e-10 if dtype == np.float64 else 1e-6)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_one_lloyd_step_matches_sklearn(dtype, weighted):
    cluster = pytest.importorskip("sklearn.cluster")
    x, c, w = make_problem(7, 600, 5, 4, dtype, weighted)
    km = cluster.KMeans(n_clusters=len(c), init=c, n_init=1, max_iter=1, algorithm="lloyd",
                        tol=0.0).fit(x, sample_weight=w)
    step = fastloss.kmeans_step(x, c, w)
    assert not step.empty.any()
    # sklearn computes in X's dtype by GEMM: float32 centres to about 1e-5 of the spread
    rtol, atol = (1e-12, 1e-12) if dtype == np.float64 else (1e-5, 1e-4)
    np.testing.assert_allclose(step.centroids, km.cluster_centers_, rtol=rtol, atol=atol)
    # sklearn's labels_/inertia_ are for the NEW centres: one more assignment
    after = fastloss.wcss(x, step.centroids, w)
    np.testing.assert_array_equal(after.labels, km.labels_)
    np.testing.assert_allclose(after.value, km.inertia_, rtol=1e-10 if dtype == np.float64
                               else 1e-5)


# ---- ties, exactness ---------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_ties_go_to_the_lowest_index(dtype):
    x = np.array([[0.0, 0.0], [5.0, 5.0]], dtype=dtype)
    # point 0 is at distance 2 from centroids 1, 2, 6 (mirror images) and farther from
    # the rest: exact ties, which the screening pass must leave to the exact distances
    c = np.array([[9, 9], [1, 1], [-1, -1], [7, 7], [8, 8], [5, 5], [1, -1], [5, 5]],
                 dtype=dtype)
    res = fastloss.wcss(x, c)
    assert res.labels.tolist() == [1, 5]
    assert res.distances.tolist() == [2.0, 0.0]
    step = fastloss.kmeans_step(x, c)
    assert step.counts.tolist() == [0, 1, 0, 0, 0, 1, 0, 0]


@pytest.mark.parametrize("dtype,offset", [(np.float64, 1e9), (np.float32, 4096.0)],
                         ids=DTYPE_IDS)
def test_exact_far_from_the_origin(dtype, offset):
    """Points and centroids at a large offset with small integer differences: direct
    differences give the exact distances (||x||^2 - 2 x.c + ||c||^2 would not)."""
    rng = np.random.default_rng(8)
    d = 16
    c = offset + rng.integers(-3, 4, size=(3, d)).astype(np.float64) * 8
    x = c[rng.integers(0, 3, size=50)] + rng.integers(-2, 3, size=(50, d))
    x, c = x.astype(dtype), c.astype(dtype)
    xe, ce = x.astype(np.int64) - int(offset), c.astype(np.int64) - int(offset)
    exact = ((xe[:, None, :] - ce[None]) ** 2).sum(axis=2)
    res = fastloss.wcss(x, c)
    np.testing.assert_array_equal(res.labels, exact.argmin(axis=1))
    np.testing.assert_array_equal(res.distances, exact.min(axis=1))
    assert res.value == exact.min(axis=1).sum()
    step = fastloss.kmeans_step(x, c)
    want = [(xe[step.labels == k].mean(axis=0) + offset) for k in range(3)]
    np.testing.assert_allclose(step.centroids, want, rtol=tol(dtype)["rtol"])


def _integer_near_ties(seed, n, k, d, offset):
    """Integer points and centroids at `offset` (float32-exact) whose distances to the
    centroids are large (~1e7 to 1e8, beyond float32's integers) and differ by small
    multiples of 4, often by 0: near-ties a float32 screening pass cannot resolve. Returns
    (x, c, exact int64 distances)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(-1000, 1001, size=d)
    c = np.repeat(base[None], k, axis=0)
    c[:, 0] += 2 * np.arange(k)            # centroid q = base + 2q e_0
    y = rng.integers(-1000, 1001, size=(n, d))
    y[:, 0] = base[0] + rng.integers(-1, 2 * k, size=n)   # x_0 - base_0 near the centroids'
    exact = ((y[:, None, :] - c[None]) ** 2).sum(axis=2)
    return (y + offset).astype(np.float32), (c + offset).astype(np.float32), exact


@pytest.mark.parametrize("k", [2, 5, 17, 40])
@pytest.mark.parametrize("offset", [0, 3000])
def test_near_ties_are_decided_by_the_exact_distances(k, offset):
    """float32 at d = 64: |x - c_q|^2 - |x - c_0|^2 = 4 q (q - y_0), so many points are at
    exact ties (to the lowest index) or a few units apart at distances of 1e7 to 1e8
    (float32 spacing 1 to 8): the labels are still the exact argmin and the distances the
    exact integers, rounded once to float32."""
    x, c, exact = _integer_near_ties(11 + k, 203, k, 64, offset)
    want = exact.argmin(axis=1)
    assert (np.sort(exact, axis=1)[:, 1] == exact.min(axis=1)).any()  # real ties exist
    res = fastloss.wcss(x, c)
    np.testing.assert_array_equal(res.labels, want)
    np.testing.assert_array_equal(res.distances, exact.min(axis=1).astype(np.float32))
    assert res.value == np.float32(exact.min(axis=1).sum())
    step = fastloss.kmeans_step(x, c)
    np.testing.assert_array_equal(step.labels, want)
    np.testing.assert_array_equal(step.counts, np.bincount(want, minlength=k))


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_same_distance_bits_with_and_without_a_near_tie(dtype):
    """A point's distance to its centroid has the same bits whether it took the exact path
    over all centroids (a twin centroid makes a tie) or the screened one (alone)."""
    x, c, _ = make_problem(5, 300, 6, 37, dtype)
    twin = np.concatenate([c, c[:1]])       # ties for every point of cluster 0
    alone = fastloss.wcss(x, c[:1]).distances
    with_twin = fastloss.wcss(x, twin)
    in_0 = with_twin.labels == 0
    assert in_0.any() and not (with_twin.labels == 6).any()
    np.testing.assert_array_equal(with_twin.distances[in_0], alone[in_0])
    np.testing.assert_array_equal(with_twin.distances, fastloss.wcss(x, c).distances)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("k", [1, 3, 16, 17, 33])
def test_labels_equal_the_reference_argmin(dtype, k):
    """Centroid counts around the 16-wide screening vectors, rows not a multiple of the
    batches, d not a multiple of the 8 partial sums: labels equal the float64 argmin and
    distances match it (random data: no near-ties)."""
    x, c, _ = make_problem(k, 1001, k, 70, dtype)
    _, labels, distances = ref.wcss(x, c)
    res = fastloss.wcss(x, c)
    np.testing.assert_array_equal(res.labels, labels)
    assert_close(res.distances, distances, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_non_finite_points_among_many(dtype):
    """NaN, inf and float32-overflowing points inside a batch take the exact path; their
    neighbours in the batch are unaffected."""
    x, c, _ = make_problem(3, 100, 17, 9, dtype)
    _, want_labels, want_dist = ref.wcss(x, c)
    x[10, 3], x[11, 0], x[12, :] = np.nan, np.inf, 3e19  # 3e19^2 overflows float32
    res = fastloss.wcss(x, c)
    assert res.labels[10] == -1 and np.isnan(res.distances[10])
    assert res.labels[11] == 0 and res.distances[11] == np.inf
    far = ((x[12].astype(np.float64) - c.astype(np.float64)) ** 2).sum(axis=1)
    assert res.labels[12] == far.argmin()
    keep = np.r_[0:10, 13:100]
    np.testing.assert_array_equal(res.labels[keep], want_labels[keep])
    assert_close(res.distances[keep], want_dist[keep], dtype)


# ---- NaN, inf, no points -----------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_nan_point_gets_label_minus_one(dtype):
    x = np.array([[0.0, 0.0], [np.nan, 1.0], [4.0, 4.0]], dtype=dtype)
    c = np.array([[0.0, 1.0], [4.0, 5.0]], dtype=dtype)
    res = fastloss.wcss(x, c)
    assert res.labels.tolist() == [0, -1, 1]
    assert np.isnan(res.distances[1]) and np.isnan(res.value)
    value, grad = fastloss.WCSS().value_and_grad(x, c)
    assert np.isnan(value)
    assert np.isnan(grad.X[1]).all() and np.isfinite(grad.X[[0, 2]]).all()
    np.testing.assert_array_equal(grad.centroids, [[0.0, 2.0], [0.0, 2.0]])
    step = fastloss.kmeans_step(x, c)
    assert step.counts.tolist() == [1, 1] and np.isnan(step.inertia)
    np.testing.assert_array_equal(step.centroids, [[0.0, 0.0], [4.0, 4.0]])


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_infinite_point(dtype):
    x = np.array([[0.0, 0.0], [np.inf, 1.0], [4.0, 4.0]], dtype=dtype)
    c = np.array([[0.0, 1.0], [4.0, 5.0]], dtype=dtype)
    res = fastloss.wcss(x, c)
    assert res.labels.tolist() == [0, 0, 1]   # inf from every centroid: the first
    assert res.distances[1] == np.inf and res.value == np.inf
    # weight 0 removes the point: no 0 * inf
    assert fastloss.wcss(x, c, [1.0, 0.0, 1.0]).value == 2.0
    assert fastloss.WCSS().grad(x, c, [1.0, 0.0, 1.0]).X[1].tolist() == [0.0, 0.0]


def test_no_points():
    x = np.empty((0, 3))
    c = np.arange(6.0).reshape(2, 3)
    res = fastloss.wcss(x, c)
    assert res.value == 0 and res.labels.shape == (0,) and res.distances.shape == (0,)
    assert np.isnan(fastloss.WCSS("mean")(x, c))
    step = fastloss.kmeans_step(x, c)
    np.testing.assert_array_equal(step.centroids, c)
    assert step.empty.all() and step.counts.tolist() == [0, 0] and step.inertia == 0


# ---- entry points, out=, threads ----------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_entry_points_agree_bitwise(dtype):
    x, c, w = make_problem(9, 300, 6, 5, dtype, weighted=True)
    loss = fastloss.WCSS()
    value, grad = loss.value_and_grad(x, c, w)
    assert loss(x, c, w) == value == fastloss.wcss(x, c, w).value
    assert fastloss.kmeans_step(x, c, w).inertia == value
    np.testing.assert_array_equal(loss.grad(x, c, w).centroids, grad.centroids)
    np.testing.assert_array_equal(loss.grad(x, c, w, wrt="centroids").centroids,
                                  grad.centroids)
    np.testing.assert_array_equal(loss.grad(x, c, w, wrt="X").X, grad.X)
    np.testing.assert_array_equal(fastloss.kmeans_step(x, c, w).labels,
                                  fastloss.wcss(x, c, w).labels)


def test_out_is_written_and_returned():
    x, c, w = make_problem(10, 50, 3, 4, np.float32)
    out_c, out_x = np.empty_like(c), np.empty_like(x)
    _, grad = fastloss.WCSS().value_and_grad(x, c, out=(out_c, out_x))
    assert grad.centroids is out_c and grad.X is out_x
    np.testing.assert_array_equal(out_x, fastloss.WCSS().grad(x, c).X)
    new_c = np.empty_like(c)
    step = fastloss.kmeans_step(x, c, out=new_c)
    assert step.centroids is new_c


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_kmeans_step_in_place(dtype):
    x, c, _ = make_problem(11, 200, 5, 3, dtype)
    c = np.concatenate([c, np.full((1, 3), 1e3, dtype=dtype)])
    want = fastloss.kmeans_step(x, c)
    step = fastloss.kmeans_step(x, c, out=c)
    assert step.centroids is c
    np.testing.assert_array_equal(c, want.centroids)
    np.testing.assert_array_equal(step.labels, want.labels)


THREAD_COUNTS = [1, 2, 3, 8]


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_bitwise_across_thread_counts(dtype, weighted):
    x, c, w = make_problem(12, 20000, 10, 32, dtype, weighted)
    if fastloss.build_info()["openmp"]:
        assert fastloss._kernels.plan_threads(8, float(x.size * len(c))) == 8

    def run(nt):
        res = fastloss.wcss(x, c, w, n_threads=nt)
        value, grad = fastloss.WCSS("mean", n_threads=nt).value_and_grad(x, c, w)
        step = fastloss.kmeans_step(x, c, w, n_threads=nt)
        return (res.value, res.labels, res.distances, value, grad.centroids, grad.X,
                step.centroids, step.inertia, step.counts, step.weights)

    base = run(1)
    for nt in THREAD_COUNTS[1:]:
        for k, (a, b) in enumerate(zip(base, run(nt))):
            np.testing.assert_array_equal(a, b, err_msg=case(n_threads=nt, output=k,
                                                             dtype=dtype, weighted=weighted))


# ---- bad input -----------------------------------------------------------------------------

X2 = np.zeros((4, 2))
C2 = np.ones((3, 2))

BAD_INPUTS = [
    # (call, exception, message pattern)
    (lambda: fastloss.wcss(np.zeros(4), C2), ValueError, r"X must be 2-D .* shape \(4,\)"),
    (lambda: fastloss.wcss(np.zeros((2, 2, 2)), C2), ValueError, r"X must be 2-D"),
    (lambda: fastloss.wcss(np.zeros((4, 0)), C2), ValueError, r"X .* at least one feature"),
    (lambda: fastloss.wcss(X2.astype(np.int64), C2), TypeError, r"X .* int64"),
    (lambda: fastloss.wcss(X2.astype(complex), C2), TypeError, r"X .* complex128"),
    (lambda: fastloss.wcss(X2, np.ones((3, 5))), ValueError, r"centroids .* D = 2.*\(3, 5\)"),
    (lambda: fastloss.wcss(X2, np.ones((0, 2))), ValueError, r"centroids .* K >= 1.*\(0, 2\)"),
    (lambda: fastloss.wcss(X2, np.ones(2)), ValueError, r"centroids must have shape"),
    (lambda: fastloss.wcss(X2, [[0.0, np.nan]]), ValueError, r"centroids\[0, 1\] = nan"),
    (lambda: fastloss.wcss(X2, [[0.0, 1.0], [np.inf, 0]]), ValueError,
     r"centroids\[1, 0\] = inf"),
    (lambda: fastloss.wcss(X2.astype(np.float32), [[0.1, 0.0]]), TypeError,
     r"centroids of dtype float64 .* float32 .*centroids\[0, 0\] = 0.1"),
    (lambda: fastloss.wcss(X2, C2, [1.0, -1.0, 1.0, 1.0]), ValueError,
     r"sample_weight\[1\] = -1.0"),
    (lambda: fastloss.wcss(X2, C2, [1.0, 1.0, np.nan, 1.0]), ValueError,
     r"sample_weight\[2\] = nan"),
    (lambda: fastloss.wcss(X2, C2, np.ones(3)), ValueError,
     r"sample_weight must have shape \(4,\).*\(3,\)"),
    (lambda: fastloss.wcss(X2, C2, np.ones((4, 1))), ValueError, r"sample_weight .*\(4, 1\)"),
    (lambda: fastloss.wcss(X2, C2, ["a"] * 4), TypeError, r"sample_weight .* dtype"),
    (lambda: fastloss.wcss(X2, C2, n_threads=0), ValueError, r"n_threads must be >= 1"),
    (lambda: fastloss.WCSS("none"), ValueError, r"reduction must be 'sum' or 'mean'.*'none'"),
    (lambda: fastloss.WCSS("avg"), ValueError, r"reduction .* 'avg'"),
    (lambda: fastloss.WCSS(n_threads=1.5), TypeError, r"n_threads"),
    (lambda: fastloss.WCSS().grad(X2, C2, wrt="mu"), ValueError, r"wrt must be one of .*'mu'"),
    (lambda: fastloss.WCSS().grad(X2, C2, out=np.empty((3, 2))), TypeError,
     r"out must be None or a pair"),
    (lambda: fastloss.WCSS().grad(X2, C2, out=(np.empty((2, 2)), None)), ValueError,
     r"out\[0\] \(centroids\) must have shape \(3, 2\)"),
    (lambda: fastloss.WCSS().grad(X2, C2, out=(None, np.empty((4, 2), np.float32))),
     TypeError, r"out\[1\] \(X\) must have dtype float64"),
    (lambda: fastloss.WCSS().grad(X2, C2, out=(None, X2)), ValueError,
     r"out\[1\] \(X\) overlaps an input"),
    (lambda: fastloss.kmeans_step(X2, C2, out=np.empty((2, 3))), ValueError,
     r"out must have shape \(3, 2\)"),
    (lambda: fastloss.kmeans_step(X2, C2, out=np.empty((2, 3)).T), ValueError,
     r"out must be C-contiguous"),
    (lambda: fastloss.kmeans_step(X2, C2, out=_read_only((3, 2))), ValueError,
     r"out is read-only"),
    (lambda: fastloss.kmeans_step(X2, C2, out=X2[:3]), ValueError, r"out overlaps an input"),
    (lambda: fastloss.kmeans_step(X2, _C4, out=_C4[1:]), ValueError, r"out must have shape"),
    (lambda: fastloss.kmeans_step(X2, _C4[:3], out=_C4[1:]), ValueError,
     r"out overlaps an input"),
    (lambda: fastloss.kmeans_step(X2, C2, n_threads="2"), TypeError, r"n_threads"),
]


def _read_only(shape):
    a = np.empty(shape)
    a.flags.writeable = False
    return a


_C4 = np.arange(8.0).reshape(4, 2)


@pytest.mark.parametrize("call,exc,pattern", BAD_INPUTS,
                         ids=[str(i) for i in range(len(BAD_INPUTS))])
def test_bad_input_is_rejected(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


# ---- hypothesis properties -----------------------------------------------------------------

finite = st.floats(-1e3, 1e3, allow_nan=False, width=32)


@st.composite
def problems(draw):
    n = draw(st.integers(0, 30))
    k = draw(st.integers(1, 9))
    d = draw(st.integers(1, 6))
    dtype = draw(st.sampled_from(DTYPES))
    x = draw(hnp.arrays(dtype, (n, d), elements=finite))
    c = draw(hnp.arrays(dtype, (k, d), elements=finite))
    w = draw(st.none() | hnp.arrays(np.float64, (n,), elements=st.floats(0, 10)))
    return x, c, w


@given(problems())
def test_properties(problem):
    """value >= 0; distances are the minimum over all centroids; value = sum w d;
    a Lloyd step never increases the WCSS."""
    x, c, w = problem
    res = fastloss.wcss(x, c, w)
    assert res.value >= 0
    all_d = ((x.astype(np.float64)[:, None] - c.astype(np.float64)[None]) ** 2).sum(axis=2)
    if len(x):
        assert np.all(res.labels >= 0)
        exact_min = all_d.min(axis=1)
        np.testing.assert_allclose(res.distances, exact_min, rtol=tol(x.dtype)["rtol"])
        # the chosen centroid is a nearest one, up to float64 rounding of the sums
        np.testing.assert_allclose(all_d[np.arange(len(x)), res.labels], exact_min,
                                   rtol=1e-14, atol=0)
    weights = np.ones(len(x)) if w is None else w
    np.testing.assert_allclose(res.value, np.sum(weights * all_d.min(axis=1, initial=np.inf)),
                               rtol=_rtol(x.dtype))
    step = fastloss.kmeans_step(x, c, w)
    assert step.inertia == res.value
    after = fastloss.wcss(x, step.centroids, w).value
    assert after <= step.inertia * (1 + 1e-5) + 1e-3 * (x.dtype == np.float32)


# ---- docs -----------------------------------------------------------------------------------

def test_public_names():
    for name in ("wcss", "WCSS", "kmeans_step", "WCSSResult", "WCSSGrad",
                 "KMeansStepResult"):
        assert name in fastloss.__all__ and hasattr(fastloss, name)
    for name in ("wcss", "wcss_value_and_grad", "kmeans_step"):
        assert hasattr(ref, name)
    assert repr(fastloss.WCSS("mean")) == "WCSS(reduction='mean')"
