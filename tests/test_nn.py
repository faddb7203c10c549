"""fastloss.nn: the bias + activation kernels, every layer's backward (finite differences,
the NumPy twin, PyTorch), the flat buffer, determinism across threads, bad input, and
training through fastloss.train.fit."""
import math

import numpy as np
import pytest
from conftest import DTYPES, DTYPE_IDS, assert_close, case, numerical_grad

import fastloss
from fastloss import _kernels, nn
from fastloss.reference import _nn as ref

ACTIVATIONS = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "gelu", "gelu_tanh"]
LAYERS = {  # activation kernel name -> layer factory
    "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU,
    "leaky_relu": lambda **kw: nn.LeakyReLU(0.1, **kw), "gelu": nn.GELU,
    "gelu_tanh": lambda **kw: nn.GELU("tanh", **kw),
}
SLOPE = 0.1  # the LeakyReLU slope of these tests


def kernel_fwd(z, bias, activation, n_threads=1):
    out = np.empty_like(z)
    _kernels.bias_act_fwd(z, bias, _kernels.ACTIVATIONS[activation], SLOPE, out, n_threads)
    return out


def kernel_bwd(g, z, bias, activation, n_threads=1):
    out = kernel_fwd(z, bias, activation)
    grad_z = np.empty_like(g)
    grad_bias = None if bias is None else np.empty_like(bias)
    ws = np.empty(_kernels.bias_act_workspace_len(*g.shape))
    _kernels.bias_act_bwd(g, z, bias, out, _kernels.ACTIVATIONS[activation], SLOPE, grad_z,
                          grad_bias, ws, n_threads)
    return grad_z, grad_bias


# ---- the vectorized activations ---------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("activation,numpy_f", [
    ("tanh", np.tanh), ("sigmoid", lambda v: np.exp(np.minimum(v, 0)) / (1 + np.exp(-np.abs(v))))])
def test_tanh_and_sigmoid_accuracy_over_the_range(dtype, activation, numpy_f):
    """Relative error against NumPy in float64: a few ulp in both types, tiny arguments
    (where 1 - e^-2x would cancel) included."""
    rng = np.random.default_rng(1)
    lim = 20.0 if dtype == np.float32 else 40.0
    v = np.concatenate([np.linspace(-lim, lim, 200_001),
                        np.exp(rng.uniform(-80, 0, 20_000)) * rng.choice([-1, 1], 20_000),
                        [0.0, -0.0, 1e-300, 0.34, 0.35, 0.36, -0.3466, 0.3466]])
    v = v.astype(dtype)
    got = kernel_fwd(v.reshape(1, -1), None, activation)[0].astype(np.float64)
    want = numpy_f(v.astype(np.float64))
    tiny = np.finfo(dtype).tiny
    ok = np.abs(want) >= tiny  # results below the smallest normal may be flushed
    rel = np.abs(got[ok] - want[ok]) / np.abs(want[ok])
    bound = 4 * np.finfo(dtype).eps
    worst = int(np.argmax(rel))
    assert rel[worst] <= bound, (activation, dtype, v[ok][worst], rel[worst])
    assert np.all(np.abs(got[~ok]) <= tiny)
    assert np.array_equal(np.signbit(got[v == 0]), np.signbit(want[v == 0])) or \
        activation == "sigmoid"


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_special_values(dtype, activation):
    v = np.array([[np.nan, np.inf, -np.inf, 0.0, 1e30, -1e30]], dtype=dtype)
    with np.errstate(all="ignore"):
        want = ref.activation_forward(v, activation, SLOPE)
    got = kernel_fwd(v, None, activation)
    assert np.isnan(got[0, 0]), "NaN in must give NaN out"
    finite_want = want[0, 1:]
    np.testing.assert_allclose(got[0, 1:], finite_want, rtol=1e-6, atol=0,
                               err_msg=case(activation=activation, dtype=dtype))


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("with_bias", [True, False])
def test_kernels_against_the_numpy_twin(dtype, activation, with_bias):
    rng = np.random.default_rng(7)
    z = (rng.standard_normal((37, 19)) * 3).astype(dtype)
    bias = rng.standard_normal(19).astype(dtype) if with_bias else None
    g = rng.standard_normal((37, 19)).astype(dtype)
    msg = case(dtype=dtype, activation=activation, with_bias=with_bias)
    assert_close(kernel_fwd(z, bias, activation),
                 ref.bias_activation_forward(z, bias, activation, SLOPE), dtype, msg)
    grad_z, grad_bias = kernel_bwd(g, z, bias, activation)
    want_z, want_bias = ref.bias_activation_backward(g, z, bias, activation, SLOPE)
    # derivatives read from the rounded output (sigmoid, tanh): an absolute floor
    assert_close(grad_z, want_z, dtype, msg, atol_scale=4 * np.finfo(dtype).eps)
    if with_bias:
        assert_close(grad_bias, want_bias, dtype, msg,
                     atol_scale=40 * np.finfo(dtype).eps)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_backward_in_place_and_bias_only(dtype):
    rng = np.random.default_rng(3)
    z = rng.standard_normal((50, 8)).astype(dtype)
    bias = rng.standard_normal(8).astype(dtype)
    g = rng.standard_normal((50, 8)).astype(dtype)
    want_z, want_bias = kernel_bwd(g, z, bias, "tanh")
    out = kernel_fwd(z, bias, "tanh")
    in_place, db = g.copy(), np.empty_like(bias)
    ws = np.empty(_kernels.bias_act_workspace_len(50, 8))
    _kernels.bias_act_bwd(in_place, z, bias, out, _kernels.ACTIVATIONS["tanh"], 0.0,
                          in_place, db, ws, 1)
    np.testing.assert_array_equal(in_place, want_z)
    np.testing.assert_array_equal(db, want_bias)
    only = np.empty_like(bias)
    _kernels.bias_act_bwd(g, None, None, None, _kernels.ACTIVATIONS["identity"], 0.0, None,
                          only, ws, 1)
    np.testing.assert_allclose(only, g.astype(np.float64).sum(axis=0), rtol=1e-6)


def test_kernel_rejects_a_missing_operand():
    z = np.ones((3, 2))
    with pytest.raises(RuntimeError, match="rejected"):  # sigmoid' reads the output
        _kernels.bias_act_bwd(z, z, None, None, _kernels.ACTIVATIONS["sigmoid"], 0.0,
                              np.empty_like(z), None, None, 1)


# ---- every layer against finite differences, float64 ------------------------------------

def fd_check(model, X, seed=0, h=1e-4):
    """d/d(params) and d/dX of sum(R * model(X)) by the model against fourth-order
    central differences (conftest.numerical_grad)."""
    rng = np.random.default_rng(seed)
    R = rng.standard_normal(model.predict(X).shape)
    model.forward(X)
    dX = model.backward(R)
    grads = model.flat_grads.copy()
    theta = model.get_flat()

    def f_params(t):
        model.set_flat(t)
        return float(np.sum(R * model.predict(X)))

    def f_input(x):
        return float(np.sum(R * model.predict(x)))

    want = numerical_grad(f_params, theta, h=h)
    model.set_flat(theta)
    np.testing.assert_allclose(grads, want, rtol=1e-7, atol=1e-8 * np.abs(want).max(),
                               err_msg=f"parameters of {model!r}")
    want_dX = numerical_grad(f_input, X, h=h)
    np.testing.assert_allclose(dX, want_dX, rtol=1e-7, atol=1e-8 * np.abs(want_dX).max(),
                               err_msg=f"input of {model!r}")


@pytest.mark.parametrize("bias", [True, False])
def test_linear_finite_differences(bias):
    X = np.random.default_rng(1).standard_normal((6, 4))
    fd_check(nn.Linear(4, 3, bias=bias, seed=2), X)


@pytest.mark.parametrize("activation", sorted(LAYERS))
def test_activation_layer_finite_differences(activation):
    # away from the kinks of ReLU / LeakyReLU at 0
    X = np.random.default_rng(2).uniform(0.1, 2.0, (5, 4)) * np.array([1, -1, 1, -1])
    layer = LAYERS[activation]()
    R = np.random.default_rng(0).standard_normal(X.shape)
    layer.forward(X)
    dX = layer.backward(R)
    want = numerical_grad(lambda x: float(np.sum(R * layer.predict(x))), X, h=1e-4)
    np.testing.assert_allclose(dX, want, rtol=1e-7, atol=1e-9, err_msg=activation)


@pytest.mark.parametrize("activation", sorted(LAYERS))
def test_fused_mlp_finite_differences(activation):
    X = np.random.default_rng(4).standard_normal((7, 3))
    model = nn.MLP([3, 5, 4, 2], activation=activation, seed=1)
    fd_check(model, X)


@pytest.mark.parametrize("activation", sorted(LAYERS))
def test_gradcheck_every_layer_and_a_whole_network_with_a_loss(activation):
    # fastloss.gradcheck on the input of each layer, then on every parameter of a
    # network trained through a catalogue loss
    rng = np.random.default_rng(8)
    X = rng.uniform(0.1, 2.0, (6, 3)) * np.array([1, -1, 1])   # away from ReLU's kink
    R = rng.standard_normal((6, 3))
    for layer in (LAYERS[activation](), nn.Linear(3, 3, seed=4)):
        def f_input(x, layer=layer):
            out = layer.forward(x)
            return float(np.sum(R * out)), layer.backward(R)
        result = fastloss.gradcheck(f_input, X)
        assert result.passed, f"{layer!r}: {result}"
    model = nn.MLP([3, 6, 5, 4], activation=activation, seed=2)
    y = rng.integers(0, 4, size=6)
    loss = fastloss.CrossEntropyLoss(label_smoothing=0.1)

    def f_params(theta):
        model.set_flat(theta)
        value, _ = model.value_and_grad(loss, X, y)
        return value, model.flat_grads
    result = fastloss.gradcheck(f_params, model.get_flat())
    assert result.passed, f"MLP with {activation}: {result}"


def test_dropout_finite_differences_with_its_mask():
    X = np.random.default_rng(5).standard_normal((6, 4))
    layer = nn.Dropout(0.3, seed=1)
    R = np.ones_like(X)
    out = layer.forward(X)
    mask = layer._mask
    dX = layer.backward(R)
    np.testing.assert_array_equal(out, X * mask)  # the function is x -> x * mask
    np.testing.assert_array_equal(dX, mask)


def test_mlp_against_the_numpy_twin():
    rng = np.random.default_rng(11)
    X = rng.standard_normal((20, 3))
    model = nn.MLP([3, 6, 5, 4], activation="tanh", seed=3)
    G = rng.standard_normal((20, 4))
    out = model.forward(X)
    dX = model.backward(G)
    params = model.parameters()
    want_out, want_dw, want_db, want_dX = ref.mlp_forward_backward(
        params[0::2], params[1::2], X, G, "tanh")
    assert_close(out, want_out, np.float64)
    assert_close(dX, want_dX, np.float64)
    for got, want in zip(model.gradients(), [x for pair in zip(want_dw, want_db)
                                             for x in pair]):
        assert_close(got, want, np.float64)


# ---- PyTorch -------------------------------------------------------------------------

TORCH_ACT = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh", "leaky_relu": "LeakyReLU",
             "gelu": "GELU", "gelu_tanh": "GELU"}


def torch_mlp(model, activation):
    torch = pytest.importorskip("torch")
    layers = []
    for layer in model.layers:
        if isinstance(layer, nn.Linear):
            lin = torch.nn.Linear(layer.in_features, layer.out_features,
                                  dtype=torch.float64 if model.dtype == np.float64
                                  else torch.float32)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(layer.weight))
                lin.bias.copy_(torch.from_numpy(layer.bias))
            layers.append(lin)
        elif activation == "leaky_relu":
            layers.append(torch.nn.LeakyReLU(0.01))
        elif activation == "gelu_tanh":
            layers.append(torch.nn.GELU(approximate="tanh"))
        else:
            layers.append(getattr(torch.nn, TORCH_ACT[activation])())
    return torch.nn.Sequential(*layers)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("activation", sorted(TORCH_ACT))
def test_against_torch_autograd(dtype, activation):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(21)
    X = rng.standard_normal((64, 2)).astype(dtype)
    y = rng.integers(0, 3, 64)
    model = nn.MLP([2, 16, 16, 3], activation=activation, seed=5, dtype=dtype)
    tmodel = torch_mlp(model, activation)
    value, grads = model.value_and_grad(fastloss.CrossEntropyLoss(), X, y)
    tx = torch.from_numpy(X).requires_grad_(True)
    tloss = torch.nn.functional.cross_entropy(tmodel(tx), torch.from_numpy(y))
    tloss.backward()
    msg = case(dtype=dtype, activation=activation)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    assert value == pytest.approx(tloss.item(), rel=rtol), msg
    tgrads = [p.grad.numpy() for p in tmodel.parameters()]
    for (name, _), got, want in zip(model.named_parameters(), grads, tgrads):
        assert_close(got, want, dtype, f"{name}: {msg}", rtol=rtol * 10,
                     atol_scale=rtol * 10)
    model.forward(X)
    dX = model.backward(np.ones((64, 3), dtype))  # d sum(output) / dX
    tx.grad = None
    tmodel(tx).sum().backward()
    assert_close(dX, tx.grad.numpy(), dtype, "dX: " + msg, rtol=rtol * 10,
                 atol_scale=rtol * 10)


@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu"])
def test_float32_model_agrees_with_float64(activation):
    rng = np.random.default_rng(8)
    X = rng.standard_normal((200, 2))
    y = rng.integers(0, 3, 200)
    m64 = nn.MLP([2, 32, 32, 3], activation=activation, seed=0)
    m32 = nn.MLP([2, 32, 32, 3], activation=activation, seed=0, dtype=np.float32)
    np.testing.assert_array_equal(m32.flat_params, m64.flat_params.astype(np.float32))
    v64, _ = m64.value_and_grad(fastloss.CrossEntropyLoss(), X, y)
    v32, _ = m32.value_and_grad(fastloss.CrossEntropyLoss(), X.astype(np.float32), y)
    assert v32 == pytest.approx(v64, rel=1e-5)
    scale = np.abs(m64.flat_grads).max()
    np.testing.assert_allclose(m32.flat_grads, m64.flat_grads, rtol=1e-4, atol=1e-5 * scale)


# ---- the flat buffer --------------------------------------------------------------------

def test_every_parameter_and_gradient_is_a_view_of_the_flat_buffers():
    model = nn.MLP([2, 4, 3], seed=0)
    names = [n for n, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert model.bias_mask() == [False, True, False, True]
    assert [p.shape for p in model.parameters()] == [(4, 2), (4,), (3, 4), (3,)]
    offset = 0
    for p, g in zip(model.parameters(), model.gradients()):
        assert p.base is model.flat_params or np.shares_memory(p, model.flat_params)
        assert p.__array_interface__["data"][0] == (
            model.flat_params.__array_interface__["data"][0] + offset * 8)
        assert g.__array_interface__["data"][0] == (
            model.flat_grads.__array_interface__["data"][0] + offset * 8)
        offset += p.size
    assert offset == model.flat_params.size == model.flat_grads.size == 27
    # the layers' own attributes view the container's buffer
    assert np.shares_memory(model[0].weight, model.flat_params)
    assert np.shares_memory(model[2].flat_params, model.flat_params)
    model.flat_params[:] = 0
    assert not model[0].weight.any() and not model.predict(np.ones((1, 2))).any()


def test_sequential_copies_the_layers_initial_values():
    first, second = nn.Linear(3, 4, seed=1), nn.Linear(4, 2, seed=2)
    w1, b2 = first.weight.copy(), second.bias.copy()
    model = nn.Sequential(first, nn.Tanh(), second)
    np.testing.assert_array_equal(model.parameters()[0], w1)
    np.testing.assert_array_equal(model.parameters()[3], b2)
    assert first.weight is model.parameters()[0]


def test_nested_sequential_names_and_views():
    inner = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    model = nn.Sequential(inner, nn.Linear(3, 1))
    assert [n for n, _ in model.named_parameters()] == [
        "0.0.weight", "0.0.bias", "1.weight", "1.bias"]
    assert np.shares_memory(inner.flat_params, model.flat_params)
    fd_check(model, np.random.default_rng(0).standard_normal((4, 2)) + 3.0)


@pytest.mark.parametrize("copier", ["pickle", "deepcopy"])
def test_a_copied_model_keeps_its_views(copier):
    # process pools and dask send models by pickle: the copy's parameters must still be
    # views of its flat buffer, so that set_flat changes what it computes
    import copy
    import pickle
    model = nn.MLP([3, 5, 2], activation="tanh", seed=1)
    X = np.random.default_rng(3).standard_normal((4, 3))
    clone = pickle.loads(pickle.dumps(model)) if copier == "pickle" else copy.deepcopy(model)
    np.testing.assert_array_equal(clone.predict(X), model.predict(X))
    for (name, p), (_, q) in zip(model.named_parameters(), clone.named_parameters()):
        assert np.shares_memory(q, clone.flat_params), name
        assert not np.shares_memory(q, model.flat_params), name
    theta = clone.get_flat() * 0.5
    clone.set_flat(theta)
    model.set_flat(theta)
    np.testing.assert_array_equal(clone.predict(X), model.predict(X))
    assert not np.array_equal(clone.predict(X), nn.MLP([3, 5, 2], activation="tanh",
                                                        seed=1).predict(X))


def test_get_flat_copies_and_set_flat_loads():
    model = nn.MLP([2, 3, 1], seed=0)
    theta = model.get_flat()
    assert not np.shares_memory(theta, model.flat_params)
    model.set_flat(np.arange(theta.size, dtype=np.float32))  # lossless: accepted
    assert model.parameters()[0][0, 1] == 1.0
    model.set_flat(theta)
    np.testing.assert_array_equal(model.flat_params, theta)


def test_gradients_are_overwritten_not_accumulated():
    X = np.random.default_rng(0).standard_normal((5, 2))
    model = nn.MLP([2, 3, 2], seed=0)
    model.forward(X)
    model.backward(np.ones((5, 2)))
    first = model.flat_grads.copy()
    model.forward(X)
    model.backward(np.ones((5, 2)))
    np.testing.assert_array_equal(model.flat_grads, first)


def test_predict_keeps_no_state():
    rng = np.random.default_rng(0)
    X, other = rng.standard_normal((5, 2)), rng.standard_normal((9, 2))
    model = nn.MLP([2, 3, 2], seed=0)
    model.forward(X)
    model.predict(other)
    assert model.backward(np.ones((5, 2))).shape == (5, 2)


# ---- determinism across threads ---------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu"])
def test_bitwise_identical_for_every_thread_count(dtype, activation, restore_threads):
    rng = np.random.default_rng(9)
    z = rng.standard_normal((30_001, 64)).astype(dtype)
    bias = rng.standard_normal(64).astype(dtype)
    g = rng.standard_normal((30_001, 64)).astype(dtype)
    assert _kernels.plan_threads(8, 30_001 * 64) > 1  # the threads really run
    base = kernel_fwd(z, bias, activation, 1), *kernel_bwd(g, z, bias, activation, 1)
    for nt in (2, 3, 8):
        got = kernel_fwd(z, bias, activation, nt), *kernel_bwd(g, z, bias, activation, nt)
        for a, b in zip(got, base):
            np.testing.assert_array_equal(a, b, err_msg=case(n_threads=nt, dtype=dtype))


def test_model_gradients_identical_across_threads():
    rng = np.random.default_rng(10)
    X = rng.standard_normal((20_000, 2))
    y = rng.integers(0, 3, 20_000)
    results = []
    for nt in (1, 2, 3, 8):
        model = nn.MLP([2, 64, 64, 3], seed=0, n_threads=nt)
        model.value_and_grad(fastloss.CrossEntropyLoss(n_threads=nt), X, y)
        results.append(model.flat_grads.copy())
    for got in results[1:]:
        np.testing.assert_array_equal(got, results[0])


# ---- Dropout and initializers -----------------------------------------------------------

def test_dropout_modes_and_seeds():
    X = np.ones((200, 50))
    layer = nn.Dropout(0.25, seed=3)
    a, b = layer.forward(X), layer.forward(X)
    assert not np.array_equal(a, b), "a fresh mask per forward"
    assert set(np.unique(a)) <= {0.0, 1 / 0.75}
    assert abs((a == 0).mean() - 0.25) < 0.02
    again = nn.Dropout(0.25, seed=3)
    np.testing.assert_array_equal(again.forward(X), a)
    layer.eval()
    assert not layer.training
    np.testing.assert_array_equal(layer.forward(X), X)
    np.testing.assert_array_equal(layer.backward(X), X)
    np.testing.assert_array_equal(nn.Dropout(1.0).forward(X), 0 * X)
    model = nn.Sequential(nn.Linear(50, 4), nn.Dropout(0.5), nn.Linear(4, 1))
    model.eval()
    assert not model[1].training
    np.testing.assert_array_equal(model.forward(X), model.predict(X))


@pytest.mark.parametrize("init,fan_rule", [
    ("he_uniform", lambda fi, fo, g: g * math.sqrt(3 / fi)),
    ("xavier_uniform", lambda fi, fo, g: g * math.sqrt(6 / (fi + fo))),
    ("pytorch", lambda fi, fo, g: 1 / math.sqrt(fi)),
])
def test_uniform_initializers_bounds(init, fan_rule):
    w = nn.init_weight(np.empty((300, 200)), init, seed=0)
    gain = None if init == "pytorch" else (math.sqrt(2) if init.startswith("he") else 1.0)
    bound = fan_rule(200, 300, gain)
    assert np.abs(w).max() <= bound
    assert np.abs(w).max() > 0.99 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)


@pytest.mark.parametrize("init,std", [
    ("he_normal", math.sqrt(2) / math.sqrt(200)),
    ("xavier_normal", math.sqrt(2 / 500)),
])
def test_normal_initializers_std(init, std):
    w = nn.init_weight(np.empty((300, 200)), init, seed=0)
    assert w.std() == pytest.approx(std, rel=0.02)
    assert abs(w.mean()) < 0.02 * std * 10


def test_gains_match_torch():
    torch = pytest.importorskip("torch")
    for name, param in [("relu", None), ("tanh", None), ("sigmoid", None),
                        ("leaky_relu", 0.2), ("linear", None), ("selu", None)]:
        assert nn.calculate_gain(name, param) == pytest.approx(
            torch.nn.init.calculate_gain(name, param), rel=1e-15)


def test_same_seed_same_model():
    a, b = nn.MLP([2, 8, 3], seed=4), nn.MLP([2, 8, 3], seed=4)
    np.testing.assert_array_equal(a.flat_params, b.flat_params)
    assert not np.array_equal(a.flat_params, nn.MLP([2, 8, 3], seed=5).flat_params)


# ---- bad input ----------------------------------------------------------------------------

def test_backward_before_forward():
    with pytest.raises(ValueError, match="backward called before forward"):
        nn.MLP([2, 3, 1]).backward(np.ones((4, 1)))
    with pytest.raises(ValueError, match="backward called before forward"):
        nn.ReLU().backward(np.ones((4, 1)))


def test_grad_output_of_the_wrong_shape():
    model = nn.MLP([2, 3, 1])
    model.forward(np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"grad_output must have the shape .*\(4, 1\)"):
        model.backward(np.ones((4, 2)))


def test_x_of_the_wrong_width_or_rank():
    model = nn.MLP([2, 3, 1])
    with pytest.raises(ValueError, match=r"X must have 2 columns .* got shape \(4, 3\)"):
        model.forward(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"X must be 2-D .* got shape \(2,\)"):
        model.predict(np.ones(2))
    with pytest.raises(TypeError, match="X has dtype float64 but the model is float32"):
        nn.MLP([2, 3, 1], dtype=np.float32).forward(np.ones((4, 2)))
    with pytest.raises(TypeError, match="X must be a float32 or float64 array"):
        model.forward(np.ones((4, 2), dtype=np.complex128))


def test_mismatched_layer_sizes():
    with pytest.raises(ValueError, match=r"layer 2 \(Linear\(5, 1\)\) expects 5 input "
                                         r"features but layer 0 \(Linear\(2, 4\)\) gives 4"):
        nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(5, 1))


def test_bad_containers():
    with pytest.raises(ValueError, match="at least one layer"):
        nn.Sequential()
    with pytest.raises(TypeError, match="layer 1 must be a fastloss.nn Module"):
        nn.Sequential(nn.Linear(2, 2), np.tanh)
    with pytest.raises(TypeError, match="one dtype"):
        nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2, dtype=np.float32))
    layer = nn.Linear(2, 2)
    nn.Sequential(layer)
    with pytest.raises(ValueError, match="already belongs to another Sequential"):
        nn.Sequential(layer)


def test_set_flat_checks_length_and_dtype():
    model = nn.MLP([2, 3, 1], dtype=np.float32)
    n = model.flat_params.size
    with pytest.raises(ValueError, match=rf"theta must have shape \({n},\) .* got \({n - 1},\)"):
        model.set_flat(np.zeros(n - 1, dtype=np.float32))
    with pytest.raises(ValueError, match="theta must have shape"):
        model.set_flat(np.zeros((1, n), dtype=np.float32))
    with pytest.raises(TypeError, match="theta has dtype float64, which does not convert "
                                        "to the model's float32"):
        model.set_flat(np.zeros(n))
    with pytest.raises(TypeError, match="theta has dtype str32"):
        model.set_flat(np.array(["a"] * n))


@pytest.mark.parametrize("call,error,match", [
    (lambda: nn.MLP([2]), ValueError, "at least two widths"),
    (lambda: nn.MLP([2, 0, 1]), ValueError, r"sizes\[1\] must be >= 1, got 0"),
    (lambda: nn.MLP([2, 2.5, 1]), TypeError, r"sizes\[1\] must be a positive integer"),
    (lambda: nn.MLP([2, 1], activation="swish"), ValueError, "activation must be one of"),
    (lambda: nn.MLP([2, 1], dtype=np.int32), TypeError, "dtype must be float32 or float64"),
    (lambda: nn.Linear(2, 1, init="orthogonal"), ValueError, "init must be one of"),
    (lambda: nn.Linear(2, 1, gain=-1.0), ValueError, "gain must be a finite number > 0"),
    (lambda: nn.Linear(2, 1, init="pytorch", gain=2.0), ValueError, "fixed gain"),
    (lambda: nn.Dropout(1.5), ValueError, r"p must be a probability in \[0, 1\], got 1.5"),
    (lambda: nn.LeakyReLU(float("nan")), ValueError, "negative_slope must be a finite"),
    (lambda: nn.GELU("erf"), ValueError, "approximate must be 'none' or 'tanh'"),
    (lambda: nn.Linear(2, 1, n_threads=0), ValueError, "n_threads must be >= 1"),
    (lambda: nn.calculate_gain("gelu"), ValueError, "unsupported nonlinearity 'gelu'"),
])
def test_bad_options(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_labels_outside_the_classes():
    model = nn.MLP([2, 3, 3])
    with pytest.raises(ValueError, match=r"label 3 at row 1 is outside \[0, 3\)"):
        model.value_and_grad(fastloss.CrossEntropyLoss(), np.ones((2, 2)), np.array([0, 3]))


# ---- training -----------------------------------------------------------------------------

def test_fit_with_adam_separates_a_toy_problem():
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(-1.5, 0.5, (100, 2)), rng.normal(1.5, 0.5, (100, 2))]
    y = np.r_[np.zeros(100, np.int64), np.ones(100, np.int64)]
    model = nn.MLP([2, 16, 2], activation="tanh", seed=0)
    optimizer = fastloss.optim.Adam(model.parameters(), lr=0.02)
    history = fastloss.train.fit(model, fastloss.CrossEntropyLoss(), optimizer, X, y,
                                 batch_size=32, epochs=30, seed=0,
                                 validation_data=(X, y))
    accuracy = np.mean(model.predict(X).argmax(axis=1) == y)
    assert accuracy == 1.0
    assert history.epoch_loss[-1] < 0.05 < history.epoch_loss[0]
    assert history.val_loss[-1] < 0.05
