"""The fast path of loss surfaces: NetworkObjective._fast_surface against the serial
path (the model, point by point) and against a plain NumPy forward pass in float64."""
import numpy as np
import pytest

import fastloss
from fastloss import nn
from fastloss.landscape import NetworkObjective

ACTIVATIONS = ["relu", "tanh", "sigmoid", "leaky_relu", "gelu", "gelu_tanh"]
# float64: the fast grid and the serial path agree to rounding; float32: the products
# of a 16-wide layer in float32 differ by a few ulp between the two orders of summation.
RTOL = {np.float64: 1e-12, np.float32: 2e-6}


def problem(sizes, dtype, loss_name, n=203, seed=0):
    """(objective, theta, d1, d2) for an MLP of `sizes` on random data."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, sizes[0])).astype(dtype)
    if loss_name.startswith("ce"):
        y = rng.integers(0, sizes[-1], n)
        if loss_name == "ce_weighted_sum":
            y[::7] = -1
            loss = fastloss.CrossEntropyLoss(weight=rng.uniform(0.5, 2, sizes[-1]),
                                             ignore_index=-1, reduction="sum")
        else:
            loss = fastloss.CrossEntropyLoss()
    else:
        y = rng.standard_normal((n, sizes[-1])).astype(dtype)
        loss = fastloss.MSELoss(reduction="sum" if loss_name == "mse_sum" else "mean")
    return loss, X, y, rng


def directions(theta, rng, scale=0.3):
    return [(rng.standard_normal(theta.size) * scale).astype(theta.dtype) for _ in range(2)]


def serial_grid(f, theta, d1, d2, alphas, betas):
    return np.array([[f(theta + float(a) * d1 + float(b) * d2) for b in betas]
                     for a in alphas])


def assert_rel_close(got, expected, rtol, what):
    err = np.abs(got - expected) / np.abs(expected)
    worst = np.unravel_index(np.argmax(err), err.shape)
    assert err[worst] <= rtol, (f"{what}: at grid point {worst} got {got[worst]!r}, "
                                f"expected {expected[worst]!r} (relative {err[worst]:.3g})")


# sizes with 2 inputs: the kernel forms the first layer itself; with 5: from the three
# precomputed products. Output widths 3 and 4 and hidden widths off the tile sizes.
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("sizes", [[2, 16, 16, 3], [5, 40, 7, 4]])
@pytest.mark.parametrize("loss_name", ["ce_mean", "ce_weighted_sum", "mse_mean", "mse_sum"])
def test_fast_grid_matches_serial_path(dtype, activation, sizes, loss_name):
    loss, X, y, rng = problem(sizes, dtype, loss_name)
    model = nn.MLP(sizes, activation=activation, seed=1, dtype=dtype)
    f = NetworkObjective(model, loss, X, y)
    assert f.fast_path_unavailable is None
    theta = model.get_flat()
    d1, d2 = directions(theta, rng)
    alphas, betas = np.linspace(-1, 1, 4), np.array([-0.5, 0.25, 1.0])  # non-square
    got = f._fast_surface(theta, d1, d2, alphas, betas, n_threads=2)
    assert got.shape == (4, 3) and got.dtype == np.float64
    expected = serial_grid(f, theta, d1, d2, alphas, betas)
    assert_rel_close(got, expected, RTOL[dtype], f"{dtype.__name__} {activation} {sizes} "
                                                 f"{loss_name}")
    np.testing.assert_array_equal(model.get_flat(), theta)  # the model is left as it was


def numpy_relu_mlp_cross_entropy(weights, biases, X, y):
    """Mean cross-entropy of a ReLU MLP, plain NumPy in float64."""
    h = X
    for i, (W, b) in enumerate(zip(weights, biases)):
        h = h @ W.T + b
        if i < len(weights) - 1:
            h = np.maximum(h, 0)
    m = h.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(h - m).sum(axis=1))
    return float(np.mean(lse - h[np.arange(len(y)), y]))


def test_fast_grid_matches_plain_numpy_forward():
    sizes = [2, 24, 24, 3]
    loss, X, y, rng = problem(sizes, np.float64, "ce_mean", n=500)
    model = nn.MLP(sizes, activation="relu", seed=3)
    f = NetworkObjective(model, loss, X, y)
    theta = model.get_flat()
    d1, d2 = directions(theta, rng)
    alphas, betas = np.array([-0.7, 0.0, 1.3]), np.array([0.4, -0.2])
    got = f._fast_surface(theta, d1, d2, alphas, betas)
    shapes = [(p.shape, i) for i, p in enumerate(model.parameters())]
    for i, a in enumerate(alphas):
        for j, b in enumerate(betas):
            point = theta + a * d1 + b * d2
            params, offset = [], 0
            for shape, _ in shapes:
                size = int(np.prod(shape))
                params.append(point[offset:offset + size].reshape(shape))
                offset += size
            expected = numpy_relu_mlp_cross_entropy(params[0::2], params[1::2], X, y)
            assert got[i, j] == pytest.approx(expected, rel=1e-12), (i, j)


def test_bitwise_identical_for_every_thread_count():
    sizes = [2, 40, 40, 3]
    loss, X, y, rng = problem(sizes, np.float32, "ce_mean", n=3000)
    model = nn.MLP(sizes, activation="tanh", seed=2, dtype=np.float32)
    f = NetworkObjective(model, loss, X, y)
    theta = model.get_flat()
    d1, d2 = directions(theta, rng)
    alphas, betas = np.linspace(-1, 1, 9), np.linspace(-1, 1, 7)
    grids = {nt: f._fast_surface(theta, d1, d2, alphas, betas, n_threads=nt)
             for nt in (1, 2, 3, 8)}
    for nt in (2, 3, 8):
        np.testing.assert_array_equal(grids[nt], grids[1], err_msg=f"n_threads={nt}")


def test_no_bias_dropout_and_output_activation():
    rng = np.random.default_rng(4)
    model = nn.Sequential(nn.Linear(3, 20, bias=False, seed=1), nn.GELU(), nn.Dropout(0.5),
                          nn.Linear(20, 9, seed=2), nn.LeakyReLU(0.2),
                          nn.Linear(9, 2, bias=False, seed=3), nn.Sigmoid())
    X = rng.standard_normal((150, 3))
    y = rng.uniform(size=(150, 2))
    f = NetworkObjective(model, fastloss.MSELoss(), X, y)
    assert f.fast_path_unavailable is None
    theta = model.get_flat()
    d1, d2 = directions(theta, rng)
    alphas, betas = np.linspace(-2, 2, 5), np.linspace(-1, 0, 2)
    got = f._fast_surface(theta, d1, d2, alphas, betas)
    assert_rel_close(got, serial_grid(f, theta, d1, d2, alphas, betas), 1e-12, "mixed net")
    assert model.training  # the objective evaluates in eval mode and restores the mode


def test_nan_parameter_gives_nan_grid():
    loss, X, y, rng = problem([2, 8, 3], np.float64, "ce_mean")
    model = nn.MLP([2, 8, 3], seed=0)
    f = NetworkObjective(model, loss, X, y)
    theta = model.get_flat()
    d1, d2 = directions(theta, rng)
    d2[5] = np.nan
    got = f._fast_surface(theta, d1, d2, [0.0, 1.0], [0.0, 1.0, 2.0])
    assert np.isnan(got).all()
    assert np.isnan(f(theta + d2)).all()


@pytest.mark.parametrize("case", ["label_smoothing", "reduction_none", "activation_first",
                                  "probability_target"])
def test_unsupported_falls_back_to_serial_with_warning(case):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((60, 2))
    y = rng.integers(0, 3, 60)
    model = nn.MLP([2, 6, 3], seed=0)
    loss = fastloss.CrossEntropyLoss()
    if case == "label_smoothing":
        loss = fastloss.CrossEntropyLoss(label_smoothing=0.1)
    elif case == "reduction_none":
        loss = fastloss.MSELoss(reduction="none")
        y = rng.standard_normal((60, 3))
    elif case == "activation_first":
        model = nn.Sequential(nn.Tanh(), nn.Linear(2, 3))
    else:
        y = rng.dirichlet(np.ones(3), size=60)
    f = NetworkObjective(model, loss, X, y)
    assert f.fast_path_unavailable
    theta = model.get_flat()
    d1, d2 = directions(theta, rng)
    if case == "reduction_none":
        with pytest.warns(RuntimeWarning, match="no fast path"):
            with pytest.raises(TypeError):  # an array per point is no surface value
                f._fast_surface(theta, d1, d2, [0.0], [0.0])
        return
    with pytest.warns(RuntimeWarning, match="no fast path"):
        got = f._fast_surface(theta, d1, d2, [0.0, 1.0], [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(got, serial_grid(f, theta, d1, d2, [0.0, 1.0],
                                                   [-1.0, 0.0, 1.0]))


def test_value_and_grad_against_finite_differences():
    loss, X, y, rng = problem([3, 7, 4], np.float64, "ce_mean", n=40)
    model = nn.MLP([3, 7, 4], activation="tanh", seed=0)
    f = NetworkObjective(model, loss, X, y)
    theta = model.get_flat()
    value, grad = f.value_and_grad(theta)
    assert value == f(theta)
    np.testing.assert_array_equal(f.grad(theta), grad)
    h = 1e-5
    for i in range(0, theta.size, 5):
        e = np.zeros_like(theta)
        e[i] = h
        fd = (f(theta + e) - f(theta - e)) / (2 * h)
        assert grad[i] == pytest.approx(fd, rel=1e-6, abs=1e-9), i


@pytest.fixture
def small():
    loss, X, y, rng = problem([2, 5, 3], np.float64, "ce_mean", n=30)
    model = nn.MLP([2, 5, 3], seed=0)
    f = NetworkObjective(model, loss, X, y)
    theta = model.get_flat()
    return f, theta, *directions(theta, rng)


def test_direction_of_the_wrong_length(small):
    f, theta, d1, d2 = small
    with pytest.raises(ValueError, match=r"d1 must have shape \(33,\).*got \(32,\)"):
        f._fast_surface(theta, d1[:-1], d2, [0.0], [0.0])
    with pytest.raises(ValueError, match="theta must have shape"):
        f._fast_surface(np.append(theta, 1.0), d1, d2, [0.0], [0.0])


def test_empty_or_non_finite_grid(small):
    f, theta, d1, d2 = small
    with pytest.raises(ValueError, match="alphas must be a non-empty 1-D array"):
        f._fast_surface(theta, d1, d2, [], [0.0])
    with pytest.raises(ValueError, match="betas must be a non-empty 1-D array"):
        f._fast_surface(theta, d1, d2, [0.0], [[0.0, 1.0]])
    with pytest.raises(ValueError, match="betas must be finite, got nan at index 1"):
        f._fast_surface(theta, d1, d2, [0.0], [0.0, np.nan])


def test_lossy_dtype_is_refused():
    model = nn.MLP([2, 4, 3], seed=0, dtype=np.float32)
    X = np.zeros((5, 2), dtype=np.float32)
    f = NetworkObjective(model, fastloss.CrossEntropyLoss(), X, np.zeros(5, dtype=int))
    theta = model.get_flat()
    with pytest.raises(TypeError, match="d2 has dtype float64.*float32"):
        f._fast_surface(theta, theta, theta.astype(np.float64), [0.0], [0.0])


def test_not_a_network_model():
    with pytest.raises(TypeError, match="model must be a fastloss.nn Module.*function"):
        NetworkObjective(lambda x: x, fastloss.MSELoss(), np.zeros((3, 2)), np.zeros((3, 2)))


def test_bad_data():
    model = nn.MLP([2, 4, 3], seed=0)
    with pytest.raises(ValueError, match="X must have 2 columns"):
        NetworkObjective(model, fastloss.CrossEntropyLoss(), np.zeros((5, 3)), np.zeros(5, int))
    with pytest.raises(ValueError, match="at least one sample"):
        NetworkObjective(model, fastloss.CrossEntropyLoss(), np.zeros((0, 2)), np.zeros(0, int))
    with pytest.raises(ValueError, match=r"y\[2\] = 3 is not a class"):
        NetworkObjective(model, fastloss.CrossEntropyLoss(), np.zeros((4, 2)), [0, 1, 3, 2])
