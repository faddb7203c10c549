"""Benchmarks: one training epoch of an MLP 2->64->64->3 with Adam, float32.

100,000 samples in batches of 256 (391 steps, fixed order): forward, cross-entropy,
backward and an Adam step per batch, for fastloss (`fastloss.nn.MLP`,
`fastloss.CrossEntropyLoss`, `fastloss.optim.Adam`), the same network in PyTorch
(`torch.nn.Sequential`, `F.cross_entropy`, `torch.optim.Adam` with its default
implementation), and in plain NumPy. Run with

    python -m pytest bench/test_bench_nn.py -q -p no:cacheprovider

Each timed call is one epoch; the parameters keep training from round to round, so
every implementation runs the same work on slowly changing weights. There is no memory
ruler: the arrays are small and the time goes to per-step work.
"""
import functools

import numpy as np
import pytest

import fastloss
from benchutil import THREADS, check_close, time_case

N, BATCH, SIZES = 100_000, 256, (2, 64, 64, 3)
IMPLS = ("fastloss", "numpy", "torch")
LR = 1e-3

pytestmark = pytest.mark.benchmark(min_rounds=5, max_time=1.0, warmup=True,
                                   warmup_iterations=1, disable_gc=True)


@functools.lru_cache(maxsize=1)
def data():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((N, 2), dtype=np.float32)
    y = (np.arctan2(X[:, 1], X[:, 0]) * 3 / np.pi + 3).astype(np.int64) % 3
    return X, y


def _initial_weights():
    """The fastloss MLP's initial weights: every implementation starts from them."""
    model = fastloss.nn.MLP(list(SIZES), activation="relu", seed=0, dtype=np.float32)
    return [p.copy() for p in model.parameters()]


def fastloss_epoch(threads):
    fastloss.set_num_threads(threads)
    X, y = data()
    model = fastloss.nn.MLP(list(SIZES), activation="relu", seed=0, dtype=np.float32)
    loss = fastloss.CrossEntropyLoss()
    opt = fastloss.optim.Adam(model.parameters(), lr=LR)
    grads = model.gradients()

    def epoch():
        value = 0.0
        for start in range(0, N, BATCH):
            xb, yb = X[start:start + BATCH], y[start:start + BATCH]
            value, g = loss.value_and_grad(model.forward(xb), yb)
            model.backward(g)
            opt.step(grads)
        return value, model
    return epoch


def numpy_epoch(threads):
    """The same network and Adam written in plain NumPy (what a NumPy user writes)."""
    X, y = data()
    params = _initial_weights()            # W0, b0, W1, b1, W2, b2; W: (out, in)
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    b1, b2, eps = 0.9, 0.999, 1e-8
    t = [0]

    def epoch():
        value = 0.0
        for start in range(0, N, BATCH):
            xb, yb = X[start:start + BATCH], y[start:start + BATCH]
            W0, c0, W1, c1, W2, c2 = params
            h0 = np.maximum(xb @ W0.T + c0, 0)
            h1 = np.maximum(h0 @ W1.T + c1, 0)
            z = h1 @ W2.T + c2
            z = z - z.max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
            rows = np.arange(len(yb))
            value = -np.mean(np.log(p[rows, yb]))
            dz = p
            dz[rows, yb] -= 1
            dz /= len(yb)
            dh1 = (dz @ W2) * (h1 > 0)
            dh0 = (dh1 @ W1) * (h0 > 0)
            grads = [dh0.T @ xb, dh0.sum(0), dh1.T @ h0, dh1.sum(0), dz.T @ h1, dz.sum(0)]
            t[0] += 1
            for q, g, mq, vq in zip(params, grads, m, v):
                mq *= b1
                mq += (1 - b1) * g
                vq *= b2
                vq += (1 - b2) * g * g
                q -= (LR / (1 - b1 ** t[0])) * mq / (np.sqrt(vq / (1 - b2 ** t[0])) + eps)
        return value, params
    return epoch


def torch_epoch(threads):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(threads)
    X, y = data()
    layers = []
    for i, (a, b) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(SIZES) - 2:
            layers.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*layers)
    with torch.no_grad():
        for p, w in zip(net.parameters(), _initial_weights()):
            p.copy_(torch.from_numpy(w))
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def epoch():
        value = None
        for start in range(0, N, BATCH):
            opt.zero_grad()
            value = torch.nn.functional.cross_entropy(net(Xt[start:start + BATCH]),
                                                      yt[start:start + BATCH])
            value.backward()
            opt.step()
        return value, net
    return epoch


BUILDERS = {"fastloss": fastloss_epoch, "numpy": numpy_epoch, "torch": torch_epoch}


def test_implementations_agree(restore_threads):
    """After one epoch from the same weights, the three give the same parameters."""
    fl_model = fastloss_epoch(2)()[1]
    np_params = numpy_epoch(1)()[1]
    for got, want in zip(fl_model.parameters(), np_params):
        check_close(got, want, "fastloss vs NumPy after one epoch", rtol=1e-3)
    pytest.importorskip("torch")
    net = torch_epoch(2)()[1]
    for got, t in zip(fl_model.parameters(), net.parameters()):
        check_close(got, t.detach().numpy(), "fastloss vs PyTorch after one epoch", rtol=1e-3)


@pytest.fixture
def restore_threads():
    yield
    fastloss.set_num_threads(None)


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("impl", IMPLS)
def test_bench(benchmark, impl, threads, restore_threads):
    if impl == "numpy" and threads != 1:
        pytest.skip("the NumPy loop runs on one thread")
    run = BUILDERS[impl](threads)
    time_case(benchmark, run, op="mlp_epoch 2-64-64-3 adam", impl=impl, n=N, c=BATCH,
              threads=threads)
