"""Exact Hessian-vector products of networks (NetworkObjective.hvp, the R-operator),
against PyTorch's double backward, finite differences and closed forms."""
import numpy as np
import pytest

import fastloss
from fastloss import landscape, nn

ACTIVATIONS = ["relu", "leaky_relu", "tanh", "sigmoid"]
LOSSES = ["cross_entropy", "weighted_cross_entropy", "mse", "mse_sum"]


def problem(activation, loss_name, seed=0):
    rng = np.random.default_rng(seed)
    model = nn.MLP([3, 7, 5, 4], activation=activation, seed=seed + 1)
    X = rng.standard_normal((20, 3))
    if loss_name.startswith("mse"):
        y = rng.standard_normal((20, 4))
        loss = fastloss.MSELoss(reduction="sum" if loss_name == "mse_sum" else "mean")
    else:
        y = rng.integers(0, 4, size=20)
        y[3] = -100                                        # an ignored row
        weight = np.array([1.0, 2.0, 0.5, 1.5]) if loss_name.startswith("weighted") else None
        loss = fastloss.CrossEntropyLoss(weight=weight)
    f = landscape.NetworkObjective(model, loss, X, y)
    theta = model.get_flat()
    return f, theta, rng.standard_normal(theta.size), model, X, y, loss


@pytest.mark.parametrize("loss_name", LOSSES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_matches_pytorch_double_backward(activation, loss_name):
    torch = pytest.importorskip("torch")
    f, theta, v, model, X, y, loss = problem(activation, loss_name)
    assert f.exact_hvp_unavailable is None
    got = f.hvp(theta, v)

    layers = [m for m in model.layers if isinstance(m, nn.Linear)]
    shapes = [(m.weight.shape, m.bias.shape) for m in layers]
    act = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
           "leaky_relu": lambda t: torch.nn.functional.leaky_relu(t, 0.01)}[activation]
    Xt = torch.from_numpy(X)

    def J(flat):
        h, at = Xt, 0
        for i, (ws, bs) in enumerate(shapes):
            W = flat[at:at + int(np.prod(ws))].reshape(ws)
            at += W.numel()
            b = flat[at:at + bs[0]]
            at += bs[0]
            h = h @ W.T + b
            if i < len(shapes) - 1:
                h = act(h)
        if loss_name.startswith("mse"):
            return torch.nn.functional.mse_loss(
                h, torch.from_numpy(y), reduction="sum" if loss_name == "mse_sum" else "mean")
        weight = None if loss.weight is None else torch.from_numpy(loss.weight)
        return torch.nn.functional.cross_entropy(h, torch.from_numpy(y), weight=weight)

    _, want = torch.autograd.functional.hvp(J, torch.from_numpy(theta.copy()),
                                            torch.from_numpy(v))
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-10,
                               atol=1e-12 * np.abs(want.numpy()).max())


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_matches_finite_differences_and_is_symmetric(activation):
    f, theta, v, *_ = problem(activation, "cross_entropy", seed=4)
    h = 1e-5
    fd = (f.grad(theta + h * v) - f.grad(theta - h * v)) / (2 * h)
    hv = f.hvp(theta, v)
    np.testing.assert_allclose(hv, fd, rtol=1e-6, atol=1e-7 * np.abs(fd).max())
    u = np.random.default_rng(9).standard_normal(theta.size)
    np.testing.assert_allclose(u @ hv, v @ f.hvp(theta, u), rtol=1e-10)


def test_hessian_eigs_use_exact_products_and_agree_with_differences():
    f, theta, *_ = problem("tanh", "cross_entropy", seed=2)
    exact = landscape.hessian_eigs(f, theta, k=3, seed=0)
    assert exact.n_gradients == 0                      # no gradient was differenced
    by_differences = landscape.hessian_eigs(lambda t: f.grad(t), theta, k=3, seed=0)
    assert by_differences.n_gradients > 0
    np.testing.assert_allclose(exact.values, by_differences.values, rtol=1e-5)


def test_linear_regression_hessian_is_exact():
    # J = mean (X w + b - y)^2: H = (2 / N) [X 1]^T [X 1], exactly
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((50, 4)), rng.standard_normal((50, 1))
    model = nn.Sequential(nn.Linear(4, 1, seed=0))
    f = landscape.NetworkObjective(model, fastloss.MSELoss(), X, y)
    A = np.hstack([X, np.ones((50, 1))])
    H = 2.0 / 50 * A.T @ A
    theta = model.get_flat()
    for e in np.eye(5):
        np.testing.assert_allclose(f.hvp(theta, e), H @ e, rtol=1e-13, atol=1e-15)
    top = landscape.hessian_eigs(f, theta, k=1).values[0]
    np.testing.assert_allclose(top, np.linalg.eigvalsh(H)[-1], rtol=1e-12)


@pytest.mark.parametrize("make,reason", [
    (lambda: (nn.MLP([3, 5, 2], activation="gelu", seed=0), fastloss.CrossEntropyLoss()),
     "GELU"),
    (lambda: (nn.MLP([3, 5, 2], seed=0), fastloss.CrossEntropyLoss(label_smoothing=0.1)),
     "label smoothing"),
    (lambda: (nn.MLP([3, 5, 2], seed=0), fastloss.CrossEntropyLoss(reduction="none")),
     "reduction='none'"),
])
def test_unsupported_networks_fall_back_to_differences(make, reason):
    model, loss = make()
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((10, 3)), rng.integers(0, 2, size=10)
    f = landscape.NetworkObjective(model, loss, X, y)
    assert reason in f.exact_hvp_unavailable
    with pytest.raises(NotImplementedError, match=reason):
        f.hvp(model.get_flat(), np.ones(model.flat_params.size))
    if loss.reduction != "none":
        assert landscape.hessian_eigs(f, model.get_flat(), k=1).n_gradients > 0


def test_bad_vectors():
    f, theta, *_ = problem("relu", "mse")
    with pytest.raises(ValueError, match=r"v must have shape"):
        f.hvp(theta, np.ones(3))
