"""fastloss.landscape: lines, planes, directions and curvature, checked against closed
forms (a linear regression's MSE is an exact paraboloid), NumPy linear algebra and
scikit-learn, on every path that can compute a grid."""
import io
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest

import fastloss
from fastloss import landscape


# -- objectives --------------------------------------------------------------------------
class LinearRegressionMSE:
    """J(theta) = mean((X theta - y)^2) in plain NumPy: stateless, picklable, and its
    Hessian is (2/N) X^T X."""

    def __init__(self, X, y):
        self.X, self.y = X, y

    def __call__(self, theta):
        r = self.X @ theta - self.y
        return float(r @ r) / self.y.size

    def closed_form(self, theta, d1, d2, alphas, betas):
        """The paraboloid J0 + a g1 + b g2 + a^2 h11 + 2ab h12 + b^2 h22."""
        n = self.y.size
        r, u, v = self.X @ theta - self.y, self.X @ d1, self.X @ d2
        a, b = np.meshgrid(alphas, betas, indexing="ij")
        return ((r @ r + 2 * a * (r @ u) + 2 * b * (r @ v) + a * a * (u @ u)
                 + 2 * a * b * (u @ v) + b * b * (v @ v)) / n)


class FailsAt:
    """Raises at one parameter vector (picklable, for the executors)."""

    def __init__(self, inner, bad_point):
        self.inner, self.bad_point = inner, bad_point

    def __call__(self, theta):
        if np.array_equal(theta, self.bad_point):
            raise ArithmeticError("no value here")
        return self.inner(theta)


def regression(seed=0, n=40, p=5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = X @ rng.standard_normal(p) + 0.5 * rng.standard_normal(n)
    return X, y, rng.standard_normal(p)


def network_grad(model, loss, X, y):
    """theta -> dJ/dtheta through the model's own backward pass."""
    def grad(theta):
        model.set_flat(theta)
        model.value_and_grad(loss, X, y)
        return model.flat_grads.copy()
    return grad


def relu_network(seed=0):
    model = fastloss.nn.MLP([2, 8, 6, 3], activation="relu", seed=seed)
    rng = np.random.default_rng(seed + 1)
    X, y = rng.standard_normal((30, 2)), rng.integers(0, 3, 30)
    return model, X, y


# -- the paraboloid ----------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(5, 3), (2, 7), (1, 1)])
def test_regression_surface_is_the_closed_form_paraboloid(shape):
    X, y, theta = regression()
    f = LinearRegressionMSE(X, y)
    rng = np.random.default_rng(1)
    d1, d2 = rng.standard_normal((2, theta.size))
    alphas, betas = np.linspace(-1, 1.5, shape[0]), np.linspace(-0.5, 2, shape[1])
    res = landscape.surface(f, theta, d1, d2, alphas, betas, progress=False)
    assert res.values.shape == shape
    np.testing.assert_allclose(res.values, f.closed_form(theta, d1, d2, alphas, betas),
                               rtol=1e-12, err_msg=f"grid {shape}")
    assert not res.missing.any() and res.errors == {} and res.accuracy is None


def test_network_objective_on_a_linear_model_is_the_paraboloid():
    X, y, theta = regression(seed=2)
    model = fastloss.nn.Linear(X.shape[1], 1, bias=False)
    objective = landscape.NetworkObjective(model, fastloss.MSELoss(), X, y[:, None])
    rng = np.random.default_rng(3)
    d1, d2 = rng.standard_normal((2, theta.size))
    alphas, betas = np.linspace(-1, 1, 4), np.linspace(0, 1, 3)
    res = landscape.surface(objective, theta, d1, d2, alphas, betas, progress=False)
    expected = LinearRegressionMSE(X, y).closed_form(theta, d1, d2, alphas, betas)
    np.testing.assert_allclose(res.values, expected, rtol=1e-12)
    assert res.description["n_samples"] == X.shape[0]


def test_top_hessian_eigenvalue_of_the_regression_is_that_of_2_over_n_XtX():
    X, y, theta = regression(seed=4, n=60, p=12)
    model = fastloss.nn.Linear(X.shape[1], 1, bias=False)
    grad = network_grad(model, fastloss.MSELoss(), X, y[:, None])
    H = 2.0 / X.shape[0] * X.T @ X
    exact, vectors = np.linalg.eigh(H)
    eigs = landscape.hessian_eigs(grad, theta, k=1, seed=0)
    assert eigs.values[0] == pytest.approx(exact[-1], rel=1e-6)
    assert abs(eigs.vectors[0] @ vectors[:, -1]) == pytest.approx(1.0, rel=1e-6)
    three = landscape.hessian_eigs(grad, theta, k=3, seed=1)
    np.testing.assert_allclose(three.values, exact[::-1][:3], rtol=1e-6)
    smallest = landscape.hessian_eigs(grad, theta, k=2, which="SA")
    np.testing.assert_allclose(smallest.values, exact[:2], rtol=1e-6)


def test_hessian_eigs_finds_repeated_and_negative_eigenvalues():
    H = np.diag([2.0, 2.0, -5.0, 1.0, 0.5])
    np.testing.assert_allclose(
        landscape.hessian_eigs(lambda t: H @ t, np.ones(5), k=2).values, [2.0, 2.0],
        rtol=1e-8)
    np.testing.assert_allclose(
        landscape.hessian_eigs(lambda t: H @ t, np.ones(5), k=1, which="LM").values,
        [-5.0], rtol=1e-8)


def test_hessian_eigs_is_seeded_and_takes_an_objective_with_grad():
    X, y, theta = regression(seed=5, n=30, p=8)

    class WithGrad:
        def grad(self, t):
            return 2.0 / y.size * X.T @ (X @ t - y)

    a = landscape.hessian_eigs(WithGrad(), theta, k=2, seed=7, max_iter=4)
    b = landscape.hessian_eigs(WithGrad(), theta, k=2, seed=7, max_iter=4)
    np.testing.assert_array_equal(a.values, b.values)
    assert a.n_iterations == 4 and a.n_gradients == 8


def test_hessian_trace_is_exact_for_a_diagonal_hessian():
    # orthogonal columns: (2/N) X^T X is diagonal, and every Rademacher probe gives the trace
    q, _ = np.linalg.qr(np.random.default_rng(6).standard_normal((50, 6)))
    X = q * np.arange(1.0, 7.0)
    y = np.ones(50)
    grad = lambda t: 2.0 / 50 * X.T @ (X @ t - y)  # noqa: E731
    estimate = landscape.hessian_trace(grad, np.zeros(6), n_samples=3)
    assert estimate == pytest.approx(2.0 / 50 * np.sum(np.arange(1.0, 7.0) ** 2), rel=1e-8)
    assert estimate.std_error == pytest.approx(0.0, abs=1e-8)


def test_hessian_trace_estimate_is_within_its_standard_error_and_seeded():
    X, y, theta = regression(seed=8, n=40, p=10)
    grad = lambda t: 2.0 / y.size * X.T @ (X @ t - y)  # noqa: E731
    exact = np.trace(2.0 / y.size * X.T @ X)
    estimate = landscape.hessian_trace(grad, theta, n_samples=200, seed=3)
    assert abs(estimate - exact) < 5 * estimate.std_error, (float(estimate), exact)
    again = landscape.hessian_trace(grad, theta, n_samples=200, seed=3)
    np.testing.assert_array_equal(estimate.samples, again.samples)


def test_interpolate_follows_the_segment_and_extrapolates():
    X, y, theta_a = regression(seed=9)
    theta_b = theta_a + np.random.default_rng(10).standard_normal(theta_a.size)
    f = LinearRegressionMSE(X, y)
    alphas = np.array([-0.5, 0.0, 0.25, 1.0, 1.5])
    line = landscape.interpolate(f, theta_a, theta_b, alphas, progress=False)
    expected = f.closed_form(theta_a, theta_b - theta_a, np.zeros_like(theta_a), alphas,
                             [0.0])[:, 0]
    np.testing.assert_allclose(line.values, expected, rtol=1e-12)
    assert line.values[1] == f(theta_a) and line.values[3] == f(theta_b)
    np.testing.assert_array_equal(line.alphas, alphas)


# -- directions --------------------------------------------------------------------------
def blocks(model, flat):
    out, offset = [], 0
    for (_, p), is_bias in zip(model.named_parameters(), model.bias_mask()):
        out.append((flat[offset:offset + p.size].reshape(p.shape), p, is_bias))
        offset += p.size
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_filter_normalization_gives_each_row_the_norm_of_thetas_row(dtype):
    model = fastloss.nn.MLP([3, 5, 4, 2], seed=0, dtype=dtype)
    rng = np.random.default_rng(0)
    model.set_flat(rng.standard_normal(model.flat_params.size).astype(dtype))
    directions = landscape.random_directions(model, k=3, seed=11)
    assert len(directions) == 3 and not np.array_equal(directions[0], directions[1])
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    for d in directions:
        assert d.dtype == dtype and d.shape == model.flat_params.shape
        for block, theta_block, is_bias in blocks(model, d):
            if is_bias:
                assert not block.any(), "biases are zeroed by default"
            else:
                np.testing.assert_allclose(np.linalg.norm(block, axis=1),
                                           np.linalg.norm(theta_block, axis=1), rtol=rtol)


def test_layer_normalization_and_biases_kept_are_normalized_once():
    model = fastloss.nn.MLP([3, 5, 2], seed=1)
    model.set_flat(np.random.default_rng(1).standard_normal(model.flat_params.size))
    for normalization in ("layer", "filter"):
        (d,) = landscape.random_directions(model, k=1, normalization=normalization,
                                           ignore_biases=False, seed=2)
        for block, theta_block, is_bias in blocks(model, d):
            if normalization == "layer" or is_bias:
                assert np.linalg.norm(block) == pytest.approx(np.linalg.norm(theta_block),
                                                              rel=1e-12)


def test_no_normalization_is_the_plain_gaussian_draw_and_the_seed_fixes_weights():
    model = fastloss.nn.MLP([3, 4, 2], seed=2)
    d1, d2 = landscape.random_directions(model, normalization="none", ignore_biases=False,
                                         seed=5)
    draw = np.random.default_rng(5).standard_normal((2, model.flat_params.size))
    np.testing.assert_array_equal(np.stack([d1, d2]), draw)
    # the draw does not depend on ignore_biases: the weights' directions stay the same
    kept = landscape.random_directions(model, seed=5, ignore_biases=False)[0]
    zeroed = landscape.random_directions(model, seed=5)[0]
    weights = ~np.concatenate([np.full(p.size, b) for (_, p), b in
                               zip(model.named_parameters(), model.bias_mask())])
    np.testing.assert_array_equal(kept[weights], zeroed[weights])


def test_a_list_of_arrays_treats_1d_arrays_as_biases():
    W, b = np.array([[3.0, 4.0], [1.0, 0.0], [0.0, 2.0]]), np.array([1.0, -2.0, 2.0])
    d, = landscape.random_directions([W, b], k=1, ignore_biases=False, seed=0)
    np.testing.assert_allclose(np.linalg.norm(d[:6].reshape(3, 2), axis=1), [5.0, 1.0, 2.0],
                               rtol=1e-12)
    assert np.linalg.norm(d[6:]) == pytest.approx(3.0, rel=1e-12)


def test_filter_normalized_surface_is_invariant_to_rescaling_relu_layers():
    model, X, y = relu_network()
    c = 3.7
    scaled = fastloss.nn.MLP([2, 8, 6, 3], activation="relu", seed=0)
    params = dict(scaled.named_parameters())
    params["0.weight"][...] *= c
    params["0.bias"][...] = c * np.random.default_rng(4).standard_normal(8)
    dict(model.named_parameters())["0.bias"][...] = params["0.bias"] / c
    params["2.weight"][...] /= c
    loss = fastloss.CrossEntropyLoss()
    alphas, betas = np.linspace(-1, 1, 4), np.linspace(-1, 1, 3)

    def grid(m, normalization, ignore_biases):
        d1, d2 = landscape.random_directions(m, normalization=normalization,
                                             ignore_biases=ignore_biases, seed=0)
        f = lambda t: (m.set_flat(t), m.value(loss, X, y))[1]  # noqa: E731
        return landscape.surface(f, m.get_flat(), d1, d2, alphas, betas,
                                 progress=False).values

    for ignore_biases in (True, False):
        np.testing.assert_allclose(grid(scaled, "filter", ignore_biases),
                                   grid(model, "filter", ignore_biases), rtol=1e-10)
    # the test can tell: without normalization the two surfaces differ
    assert not np.allclose(grid(scaled, "none", True), grid(model, "none", True), rtol=1e-3)


def test_pca_of_a_trajectory_in_a_known_plane_recovers_the_plane():
    rng = np.random.default_rng(12)
    n, T = 30, 25
    basis, _ = np.linalg.qr(rng.standard_normal((n, 2)))
    final = rng.standard_normal(n)
    t = np.linspace(1, 0, T)
    coords = np.stack([3 * t ** 2 * np.cos(5 * t), t * np.sin(3 * t)], axis=1)
    coords -= coords[-1]
    trajectory = final + coords @ basis.T
    pca = landscape.pca_directions(trajectory)
    np.testing.assert_allclose(pca.directions @ pca.directions.T, np.eye(2), atol=1e-12)
    # both directions lie in the plane: projecting onto it changes nothing
    np.testing.assert_allclose(pca.directions @ basis @ basis.T, pca.directions, atol=1e-12)
    np.testing.assert_allclose(pca.center + pca.coords @ pca.directions, trajectory,
                               atol=1e-12)
    np.testing.assert_array_equal(pca.center, trajectory[-1])
    assert pca.coords[-1] == pytest.approx([0.0, 0.0], abs=1e-12)
    sklearn = pytest.importorskip("sklearn.decomposition")
    reference = sklearn.PCA(n_components=2).fit(trajectory - trajectory[-1])
    np.testing.assert_allclose(pca.explained_variance_ratio,
                               reference.explained_variance_ratio_, rtol=1e-10)
    np.testing.assert_allclose(np.abs(pca.directions @ reference.components_.T), np.eye(2),
                               atol=1e-10)


def test_pca_takes_a_training_history():
    X, y, _ = regression(seed=13, n=40, p=3)
    model = fastloss.nn.Linear(3, 1)
    optimizer = fastloss.optim.SGD(model.parameters(), lr=0.05)
    history = fastloss.train.fit(model, fastloss.MSELoss(), optimizer, X, y[:, None],
                                 batch_size=8, epochs=3, seed=0, snapshot_every=2,
                                 progress=False)
    pca = landscape.pca_directions(history)
    np.testing.assert_array_equal(pca.center, history.snapshots[-1])
    assert pca.coords.shape == (history.snapshots.shape[0], 2)
    assert 0 < pca.explained_variance_ratio[1] <= pca.explained_variance_ratio[0] <= 1


# -- grid orientation, executors, the fast path ------------------------------------------
def test_non_square_grid_keeps_its_orientation():
    f = lambda t: float(t[0] + 10.0 * t[1] + 100.0 * t[0] * t[1] ** 2)  # noqa: E731
    alphas, betas = np.array([0.0, 1.0, 2.0, 3.0]), np.array([-1.0, 0.5])
    res = landscape.surface(f, np.zeros(2), [1.0, 0.0], [0.0, 1.0], alphas, betas,
                            progress=False)
    a, b = alphas[:, None], betas[None, :]
    np.testing.assert_array_equal(res.values, a + 10 * b + 100 * a * b ** 2)


def grid_problem():
    X, y, theta = regression(seed=14, n=30, p=6)
    rng = np.random.default_rng(15)
    d1, d2 = rng.standard_normal((2, theta.size))
    return LinearRegressionMSE(X, y), theta, d1, d2, np.linspace(-1, 1, 5), np.linspace(0, 2, 4)


def test_thread_and_process_pools_give_the_serial_grid_bitwise():
    f, theta, d1, d2, alphas, betas = grid_problem()
    serial = landscape.surface(f, theta, d1, d2, alphas, betas, progress=False)
    with ThreadPoolExecutor(3) as pool:
        threads = landscape.surface(f, theta, d1, d2, alphas, betas, executor=pool,
                                    progress=False)
    # spawn: the workers import this module (pytest passes its path on) and nothing else
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        processes = landscape.surface(f, theta, d1, d2, alphas, betas, executor=pool,
                                      progress=False)
    np.testing.assert_array_equal(threads.values, serial.values)
    np.testing.assert_array_equal(processes.values, serial.values)


@pytest.mark.parametrize("processes", [False, True], ids=["threads", "processes"])
def test_dask_local_cluster_gives_the_serial_grid_bitwise(processes):
    distributed = pytest.importorskip("distributed")
    cloudpickle = pytest.importorskip("cloudpickle")
    f, theta, d1, d2, alphas, betas = grid_problem()
    serial = landscape.surface(f, theta, d1, d2, alphas, betas, progress=False)
    # the dask workers need not import this test module: send its classes by value
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    # in-process workers talk in memory; worker processes over loopback only
    where = {"host": "127.0.0.1"} if processes else {}
    try:
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=processes,
                                      dashboard_address=None, **where) as cluster, \
                distributed.Client(cluster) as client:
            res = landscape.surface(FailsAt(f, theta + alphas[1] * d1 + betas[3] * d2),
                                    theta, d1, d2, alphas, betas, executor=client,
                                    progress=False, on_error="return")
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    expected = serial.values.copy()
    expected[1, 3] = np.nan
    np.testing.assert_array_equal(res.values, expected)
    assert list(res.errors) == [(1, 3)] and "no value here" in res.errors[(1, 3)]


def test_a_network_gives_the_same_grid_on_every_path():
    # the fast path (one C call), the serial path (point by point through the model), a
    # process pool and a dask cluster of worker processes, for a fastloss.nn network
    model = fastloss.nn.MLP([2, 8, 3], activation="tanh", seed=2)
    rng = np.random.default_rng(6)
    X, y = rng.standard_normal((40, 2)), rng.integers(0, 3, size=40)
    f = landscape.NetworkObjective(model, fastloss.CrossEntropyLoss(), X, y)
    theta = model.get_flat()
    d1, d2 = landscape.random_directions(model, k=2, seed=1)
    alphas, betas = np.linspace(-1, 1, 4), np.linspace(-0.5, 0.5, 3)
    fast = landscape.surface(f, theta, d1, d2, alphas, betas, progress=False)
    serial = np.array([[f(theta + a * d1 + b * d2) for b in betas] for a in alphas])
    np.testing.assert_allclose(fast.values, serial, rtol=1e-12)
    with ThreadPoolExecutor(3) as pool:
        threaded = landscape.surface(f, theta, d1, d2, alphas, betas, executor=pool,
                                     progress=False)
    np.testing.assert_array_equal(threaded.values, serial)
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        pooled = landscape.surface(f, theta, d1, d2, alphas, betas, executor=pool,
                                   progress=False)
    np.testing.assert_array_equal(pooled.values, serial)
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, host="127.0.0.1") as cluster, \
            distributed.Client(cluster) as client:
        clustered = landscape.surface(f, theta, d1, d2, alphas, betas, executor=client,
                                      progress=False)
    np.testing.assert_array_equal(clustered.values, serial)


class FastObjective(LinearRegressionMSE):
    """Records the fast-path calls it receives."""

    calls = []

    def _fast_surface(self, theta, d1, d2, alphas, betas, n_threads):
        self.calls.append(n_threads)
        return self.closed_form(theta, d1, d2, alphas, betas)


def test_surface_uses_the_fast_path_only_without_an_executor():
    f, theta, d1, d2, alphas, betas = grid_problem()
    fast = FastObjective(f.X, f.y)
    res = landscape.surface(fast, theta, d1, d2, alphas, betas, n_threads=2, seed=3,
                            normalization="filter")
    assert FastObjective.calls == [2] and res.seed == 3 and res.normalization == "filter"
    np.testing.assert_array_equal(res.values, fast.closed_form(theta, d1, d2, alphas, betas))
    with ThreadPoolExecutor(2) as pool:
        pooled = landscape.surface(fast, theta, d1, d2, alphas, betas, executor=pool,
                                   progress=False)
    assert FastObjective.calls == [2]
    np.testing.assert_allclose(pooled.values, res.values, rtol=1e-12)


def test_float32_theta_gives_float32_points_and_accuracy_is_kept():
    seen = []

    def f(theta):
        seen.append(theta.dtype)
        return {"loss": float(theta.sum()), "accuracy": 0.5}

    res = landscape.surface(f, np.ones(3, np.float32), np.ones(3), np.zeros(3), [0.0, 1.0],
                            [2.0], progress=False)
    assert set(seen) == {np.dtype(np.float32)}
    np.testing.assert_array_equal(res.values, [[3.0], [6.0]])
    np.testing.assert_array_equal(res.accuracy, [[0.5], [0.5]])


def test_progress_is_written_to_a_terminal_only(monkeypatch, capsys):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    landscape.surface(lambda t: 0.0, np.zeros(1), [1.0], [1.0], [0, 1, 2], [0, 1])
    assert "surface: 6/6 points\n" in terminal.getvalue()
    monkeypatch.undo()
    landscape.surface(lambda t: 0.0, np.zeros(1), [1.0], [1.0], [0, 1, 2], [0, 1])
    assert capsys.readouterr().err == ""


# -- failures and files ------------------------------------------------------------------
@pytest.mark.parametrize("pooled", [False, True], ids=["serial", "thread_pool"])
def test_a_raising_point_is_named_and_nothing_computed_is_lost(pooled):
    f, theta, d1, d2, alphas, betas = grid_problem()
    serial = landscape.surface(f, theta, d1, d2, alphas, betas, progress=False)
    failing = FailsAt(f, theta + alphas[2] * d1 + betas[1] * d2)
    with ThreadPoolExecutor(2) as pool:
        with pytest.raises(landscape.SurfaceError, match=r"\(i, j\) = \(2, 1\)") as info:
            landscape.surface(failing, theta, d1, d2, alphas, betas,
                              executor=pool if pooled else None, progress=False)
    result = info.value.result
    expected = serial.values.copy()
    expected[2, 1] = np.nan
    np.testing.assert_array_equal(result.values, expected)
    assert result.missing.sum() == 1 and result.missing[2, 1]
    assert result.errors == {(2, 1): "ArithmeticError: no value here"}


def test_a_line_with_a_failing_point_and_a_non_number():
    def f(theta):
        if theta[0] > 1.5:
            return "oops"
        return float(theta[0])

    with pytest.raises(landscape.SurfaceError, match="index 3") as info:
        landscape.interpolate(f, [0.0], [1.0], [0.0, 1.0, 1.5, 2.0], progress=False)
    line = info.value.result
    np.testing.assert_array_equal(line.values, [0.0, 1.0, 1.5, np.nan])
    assert "not a real number" in line.errors[3]
    returned = landscape.interpolate(f, [0.0], [1.0], [2.0], progress=False,
                                     on_error="return")
    assert returned.missing.tolist() == [True]


def test_a_nan_returned_by_f_is_a_value_not_a_missing_point():
    res = landscape.surface(lambda t: float("nan"), np.zeros(1), [1.0], [1.0], [0.0], [0.0],
                            progress=False)
    assert np.isnan(res.values[0, 0]) and not res.missing.any()


@pytest.mark.parametrize("suffix", [".npz", ".h5"])
def test_save_and_load_round_trip(tmp_path, suffix):
    if suffix == ".h5":
        pytest.importorskip("h5py")
    f, theta, d1, d2, alphas, betas = grid_problem()

    def with_accuracy(t):
        return {"loss": f(t), "accuracy": 0.25}

    res = landscape.surface(FailsAt(with_accuracy, theta + alphas[0] * d1 + betas[2] * d2),
                            theta, d1, d2, alphas, betas, progress=False, on_error="return",
                            seed=4, normalization="filter", description={"data": "toy"})
    loaded = landscape.load(res.save(tmp_path / f"surface{suffix}"))
    for name in ("values", "accuracy", "alphas", "betas", "missing"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(res, name))
    assert (loaded.seed, loaded.normalization, loaded.description) == (4, "filter",
                                                                       {"data": "toy"})
    assert loaded.theta_hash == res.theta_hash and len(res.theta_hash) == 64
    assert loaded.errors == res.errors and list(res.errors) == [(0, 2)]


def test_files_of_another_kind_are_refused(tmp_path):
    res = landscape.surface(lambda t: 1.0, np.zeros(1), [1.0], [1.0], [0.0], [0.0],
                            progress=False)
    with pytest.raises(ValueError, match="must end with .npz"):
        res.save(tmp_path / "surface.txt")
    np.savez(tmp_path / "other.npz", meta=np.array('{"format": "x"}'))
    with pytest.raises(ValueError, match="not a fastloss landscape surface"):
        landscape.load(tmp_path / "other.npz")


@pytest.mark.parametrize("call,error,match", [
    (lambda: landscape.surface(len, np.zeros(3), np.zeros(2), np.zeros(3), [0.0], [0.0]),
     ValueError, "d1 has 2 entries but theta has 3"),
    (lambda: landscape.surface(len, np.zeros(3), np.zeros(3), np.zeros((3, 1)), [0.0], [0.0]),
     ValueError, "d2 must be 1-D"),
    (lambda: landscape.surface(len, np.zeros(3), np.zeros(3), np.zeros(3), [], [0.0]),
     ValueError, "alphas is empty"),
    (lambda: landscape.surface(len, np.zeros(3), np.zeros(3), np.zeros(3), [0.0], [np.inf]),
     ValueError, "betas must be finite"),
    (lambda: landscape.surface(len, np.zeros(3), np.zeros(3), np.zeros(3), ["a"], [0.0]),
     TypeError, "alphas must be a 1-D array of numbers"),
    (lambda: landscape.surface(len, [0.0, np.nan], np.zeros(2), np.zeros(2), [0.0], [0.0]),
     ValueError, "theta must be finite, got nan at index 1"),
    (lambda: landscape.surface(len, np.zeros(2), np.zeros(2), np.zeros(2), [0.0], [0.0],
                               executor="pool"), TypeError, "executor must be"),
    (lambda: landscape.surface(len, np.zeros(2), np.zeros(2), np.zeros(2), [0.0], [0.0],
                               on_error="ignore"), ValueError, "on_error must be"),
    (lambda: landscape.surface(len, np.zeros(2), np.zeros(2), np.zeros(2), [0.0], [0.0],
                               description={"x": object()}), TypeError, "JSON"),
    (lambda: landscape.interpolate(len, ["a"], ["b"], [0.0]), TypeError, "theta_a must be"),
    (lambda: landscape.random_directions(fastloss.nn.MLP([2, 3]), normalization="unit"),
     ValueError, "normalization must be one of"),
    (lambda: landscape.random_directions(fastloss.nn.MLP([2, 3]), k=0), ValueError,
     "k must be a positive integer"),
    (lambda: landscape.random_directions(np.zeros(3)), TypeError, "model_or_params"),
    (lambda: landscape.random_directions([np.array([np.inf, 1.0])]), ValueError,
     "not finite"),
    (lambda: landscape.pca_directions(np.zeros((2, 5))), ValueError, "at least 3 snapshots"),
    (lambda: landscape.pca_directions(np.outer(np.arange(4.0), np.ones(5))), ValueError,
     "does not span a plane"),
    (lambda: landscape.pca_directions(np.full((4, 3), np.nan)), ValueError, "finite"),
    (lambda: landscape.hessian_eigs(lambda t: t, np.zeros(3), k=4), ValueError,
     "k=4 eigenvalues asked of a Hessian of size 3"),
    (lambda: landscape.hessian_eigs(lambda t: t, np.zeros(3), which="BE"), ValueError,
     "which must be one of"),
    (lambda: landscape.hessian_eigs(lambda t: t[:2], np.zeros(3)), ValueError,
     r"grad_fn returned shape \(2,\)"),
    (lambda: landscape.hessian_eigs(lambda t: t / 0.0, np.zeros(3)), ValueError,
     "non-finite gradient"),
    (lambda: landscape.hessian_trace(lambda t: t, [np.inf]), ValueError, "theta must be finite"),
    (lambda: landscape.hessian_trace(lambda t: t, [1.0], n_samples=0), ValueError,
     "n_samples must be a positive integer"),
    (lambda: landscape.hessian_trace(3, [1.0]), TypeError, "grad_fn must be a callable"),
], ids=["wrong-size", "2d-direction", "empty-grid", "inf-axis", "text-axis", "nan-theta", "executor",
        "on-error", "description", "string-theta", "normalization", "k", "array-model",
        "inf-param", "2-snapshots", "line", "nan-trajectory", "k>n", "which", "grad-shape",
        "grad-nan", "trace-theta", "n-samples", "grad-fn"])
def test_bad_inputs_raise_clear_errors(call, error, match):
    with np.errstate(divide="ignore", invalid="ignore"), pytest.raises(error, match=match):
        call()


def test_an_unpicklable_objective_is_refused_by_a_process_pool():
    f = lambda t: 0.0  # noqa: E731
    with ProcessPoolExecutor(1) as pool:
        with pytest.raises(TypeError, match="cannot be pickled"):
            landscape.surface(f, np.zeros(1), [1.0], [1.0], [0.0], [0.0], executor=pool)
