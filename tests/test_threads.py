"""Threads: bitwise identical results for every thread count, the library default
(set_num_threads / OMP_NUM_THREADS), and concurrent calls from Python threads.

No timing is asserted anywhere: overlap of concurrent calls is only exercised (the
kernels release the GIL), never measured.
"""
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import fastloss
from fastloss import _kernels

from conftest import DTYPE_IDS, DTYPES, case

THREAD_COUNTS = [1, 2, 3, 8]
SHAPES = [(3000, 200), (64, 70000)]
SHAPE_IDS = ["3000x200", "64x70000"]


@pytest.fixture(scope="module", params=[(s, d) for s in SHAPES for d in DTYPES],
                ids=[f"{i}-{d}" for i in SHAPE_IDS for d in DTYPE_IDS])
def big_problem(request):
    (n, c), dtype = request.param
    rng = np.random.default_rng(n + c)
    x = rng.normal(0.0, 3.0, size=(n, c)).astype(dtype)
    labels = rng.integers(0, c, size=n)
    labels[::7] = -100
    probs = rng.random((n, c)).astype(dtype)
    probs /= probs.sum(axis=1, keepdims=True)
    weight = rng.uniform(0.5, 2.0, size=c)
    logp = fastloss.log_softmax(x)
    return dict(x=x, labels=labels, probs=probs, weight=weight, logp=logp, shape=(n, c),
                dtype=dtype)


def test_work_is_big_enough_for_several_threads():
    # The inputs below must really start several threads (when OpenMP is there).
    if fastloss.build_info()["openmp"]:
        for n, c in SHAPES:
            assert _kernels.plan_threads(8, float(n * c)) == 8
    assert _kernels.plan_threads(8, 1000.0) == 1   # small inputs stay serial


def _assert_same_for_all_thread_counts(fn, what):
    """fn(n_threads) -> an array or a tuple of arrays; all must match n_threads=1 bitwise."""
    def outputs(nt):
        res = fn(nt)
        return res if isinstance(res, tuple) else (res,)

    base = outputs(1)
    for nt in THREAD_COUNTS[1:]:
        for k, (a, b) in enumerate(zip(base, outputs(nt))):
            np.testing.assert_array_equal(
                a, b, err_msg=f"{what}: n_threads=1 vs n_threads={nt}, output {k}")


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("target", ["labels", "probs"])
@pytest.mark.parametrize("loss_name", ["CrossEntropyLoss", "NLLLoss"])
@pytest.mark.parametrize("options", ["plain", "weight_smoothing"])
def test_losses_bitwise_across_thread_counts(big_problem, loss_name, target, reduction,
                                             options):
    p = big_problem
    opts = dict(reduction=reduction)
    if options == "weight_smoothing":
        opts.update(weight=p["weight"], label_smoothing=0.1)
    x = p["logp"] if loss_name == "NLLLoss" else p["x"]
    t = p[target]
    cls = getattr(fastloss, loss_name)
    what = case(loss=loss_name, target=target, shape=p["shape"], dtype=p["dtype"],
                **{k: v for k, v in opts.items() if k != "weight"},
                weighted="weight" in opts)

    def run(nt):
        value, grad = cls(n_threads=nt, **opts).value_and_grad(x, t)
        value_only = getattr(fastloss, "nll_loss" if loss_name == "NLLLoss"
                             else "cross_entropy")(x, t, n_threads=nt, **opts)
        return (np.asarray(value), grad, np.asarray(value_only))

    _assert_same_for_all_thread_counts(run, what)


@pytest.mark.parametrize("func", ["softmax", "log_softmax", "logsumexp"])
def test_softmax_family_bitwise_across_thread_counts(big_problem, func):
    p = big_problem
    fn = getattr(fastloss, func)
    _assert_same_for_all_thread_counts(
        lambda nt: fn(p["x"], n_threads=nt),
        case(func=func, shape=p["shape"], dtype=p["dtype"]))


def test_softmax_other_axis_bitwise_across_thread_counts():
    x = np.random.default_rng(5).normal(size=(500, 3000))
    _assert_same_for_all_thread_counts(lambda nt: fastloss.softmax(x, axis=0, n_threads=nt),
                                       "softmax axis=0 of a 500x3000 array")


def test_default_threads_follow_set_num_threads(big_problem, restore_threads):
    p = big_problem
    loss = fastloss.CrossEntropyLoss(reduction="sum")
    want = loss.value_and_grad(p["x"], p["labels"])
    for nt in (1, 3):
        fastloss.set_num_threads(nt)
        assert fastloss.get_num_threads() == nt
        got = loss.value_and_grad(p["x"], p["labels"])
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])


# ---- the library default -------------------------------------------------------------------

def test_set_get_round_trip(restore_threads):
    for n in (1, 2, 5, 64, np.int64(3)):
        fastloss.set_num_threads(n)
        assert fastloss.get_num_threads() == n
        assert type(fastloss.get_num_threads()) is int
        assert fastloss.build_info()["default_threads"] == n
    assert fastloss.set_num_threads(None) is None


def test_omp_num_threads_respected_when_unset(monkeypatch, restore_threads):
    fastloss.set_num_threads(None)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert fastloss.get_num_threads() == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "5,2")   # nested list: the outer level
    assert fastloss.get_num_threads() == 5
    # an explicit setting wins over the environment
    fastloss.set_num_threads(2)
    assert fastloss.get_num_threads() == 2
    fastloss.set_num_threads(None)
    assert fastloss.get_num_threads() == 5


@pytest.mark.parametrize("value", ["", "0", "abc", "-2"])
def test_unusable_omp_num_threads_falls_back_to_cores(monkeypatch, restore_threads, value):
    fastloss.set_num_threads(None)
    monkeypatch.setenv("OMP_NUM_THREADS", value)
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    assert fastloss.get_num_threads() == cores


def test_no_omp_num_threads_means_all_usable_cores(monkeypatch, restore_threads):
    fastloss.set_num_threads(None)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    assert fastloss.get_num_threads() == cores


@pytest.mark.parametrize("bad,exc", [(0, ValueError), (-1, ValueError), (1.5, TypeError),
                                     ("2", TypeError), (True, TypeError), (2.0, TypeError),
                                     (1025, ValueError), (10**12, ValueError),
                                     (2**64, ValueError)])
def test_set_num_threads_rejects_invalid(bad, exc, restore_threads):
    fastloss.set_num_threads(4)
    with pytest.raises(exc, match=r"\bn\b.*"):
        fastloss.set_num_threads(bad)
    assert fastloss.get_num_threads() == 4, "a rejected value must not change the default"


def test_thread_counts_past_the_limit(monkeypatch, restore_threads):
    """The largest count is accepted and runs; one more is refused, by set_num_threads
    and by n_threads alike, naming the argument; the environment is lowered to it."""
    x = np.random.default_rng(5).normal(size=(64, 100)).astype(np.float32)
    fastloss.set_num_threads(1024)
    assert fastloss.get_num_threads() == 1024
    np.testing.assert_array_equal(fastloss.log_softmax(x), fastloss.log_softmax(x, n_threads=1))
    with pytest.raises(ValueError, match=r"n_threads must be at most 1024, got 1025"):
        fastloss.log_softmax(x, n_threads=1025)
    with pytest.raises(ValueError, match=r"n_threads must be at most 1024, got 4294967297"):
        fastloss.cross_entropy(x, np.zeros(64, dtype=np.int64), n_threads=2**32 + 1)
    fastloss.set_num_threads(None)
    monkeypatch.setenv("OMP_NUM_THREADS", "100000")
    assert fastloss.get_num_threads() == 1024


# ---- concurrent calls from Python threads ------------------------------------------------

def _job(k):
    """A different input per job; returns every output of every kernel."""
    rng = np.random.default_rng(1000 + k)
    dtype = np.float32 if k % 2 else np.float64
    n, c = (400, 300) if k % 3 else (8, 9000)
    x = rng.normal(0.0, 2.0, size=(n, c)).astype(dtype)
    y = rng.integers(0, c, size=n)
    probs = rng.random((n, c)).astype(dtype)
    out = [fastloss.softmax(x), fastloss.log_softmax(x), fastloss.logsumexp(x)]
    for red in ("mean", "none"):
        out += list(fastloss.CrossEntropyLoss(reduction=red, label_smoothing=0.1,
                                              n_threads=1 + k % 3).value_and_grad(x, y))
        out += list(fastloss.CrossEntropyLoss(reduction=red).value_and_grad(x, probs))
        out += list(fastloss.NLLLoss(reduction=red).value_and_grad(out[1], y))
    return [np.asarray(o) for o in out]


def test_concurrent_python_threads_agree_with_serial_calls():
    jobs = list(range(16))
    serial = [_job(k) for k in jobs]
    for _ in range(2):
        with ThreadPoolExecutor(max_workers=8) as pool:
            concurrent = list(pool.map(_job, jobs))
        for k, (a, b) in enumerate(zip(serial, concurrent)):
            for j, (u, v) in enumerate(zip(a, b)):
                np.testing.assert_array_equal(u, v, err_msg=f"job {k}, output {j}")
