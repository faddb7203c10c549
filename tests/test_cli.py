"""The command line: ``python -m fastloss bench`` (the main job) on tiny shapes."""
import numpy as np
import pytest

from fastloss import __main__ as cli
from fastloss import _baselines, _quickbench


TINY_CASES = (("cross_entropy", (8, 5)), ("cross_entropy", (3, 40)), ("log_softmax", (8, 5)),
              ("mse", (50,)), ("huber", (50,)), ("bce_with_logits", (50,)),
              ("multi_margin", (8, 5)), ("kl_div", (8, 5)), ("wcss", (40, 3, 4)),
              ("adam_step", (3, 7)))


@pytest.fixture
def tiny_bench(monkeypatch):
    monkeypatch.setattr(_quickbench, "QUICK_CASES", TINY_CASES)
    monkeypatch.setattr(_quickbench, "QUICK_TIMING",
                        _quickbench.Timing(warmup=0.0, min_sample=0.0, budget=0.0,
                                           max_samples=3))
    monkeypatch.setattr(_quickbench, "_import_torch", lambda: None)


def test_bench_quick_prints_a_row_per_case_and_thread_count(tiny_bench, capsys):
    assert cli.main(["bench", "--quick", "--threads", "1", "2"]) == 0
    out = capsys.readouterr().out
    assert "PyTorch not installed" in out
    ops = {op for op, _ in TINY_CASES}
    rows = [line.split() for line in out.splitlines() if line.split()[:1] and
            line.split()[0] in ops]
    assert sorted((r[0], r[1], r[2]) for r in rows) == sorted(
        (op, "x".join(map(str, size)), nt) for op, size in TINY_CASES for nt in ("1", "2"))
    for r in rows:
        assert r[5] == "-"                    # no PyTorch column value
        assert float(r[3]) > 0 and float(r[4]) > 0
        assert (r[6] == "-") == (r[0] == "wcss")   # every op but wcss has a ruler


def test_bench_rejects_bad_thread_counts(tiny_bench, capsys):
    assert cli.main(["bench", "--quick", "--threads", "0"]) == 2
    assert "thread counts must be >= 1" in capsys.readouterr().err


def test_numpy_baseline_is_right():
    # the baseline the table compares against computes the same thing (closed form:
    # equal logits give log C and a gradient of (1/C - onehot) / N)
    x = np.zeros((4, 5), dtype=np.float32)
    y = np.array([0, 1, 2, 3])
    loss, grad = _baselines.numpy_cross_entropy(x, y)
    assert loss == pytest.approx(np.log(5), rel=1e-6)
    expected = (np.full((4, 5), 0.2) - np.eye(5)[y]) / 4
    np.testing.assert_allclose(grad, expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(_baselines.numpy_log_softmax(x), -np.log(5), rtol=1e-6)


@pytest.mark.parametrize("op", sorted({op for op, _ in TINY_CASES} - {"log_softmax",
                                                                       "adam_step"}))
def test_every_baseline_computes_what_fastloss_reference_does(op):
    # the NumPy baselines the table compares against compute the same losses (value
    # and gradients) as the independent reference twins
    from fastloss import reference as ref
    from fastloss.reference import _binary, _regression
    d = _quickbench.OPS[op].inputs(dict(TINY_CASES)[op])
    got = _quickbench.OPS[op].numpy(d)()
    x, y = d.x.astype(np.float64), d.y
    if op == "wcss":
        want = ref.wcss(x, y.astype(np.float64))
        np.testing.assert_allclose(got[0], want[0], rtol=1e-4)
        np.testing.assert_array_equal(got[1], want[1])
        return
    terms = {"mse": _regression.mse_terms, "huber": _regression.huber_terms,
             "bce_with_logits": _binary.bce_logits_terms}
    if op in terms:
        want = _regression.elementwise_value_and_grad(terms[op], x, y.astype(np.float64))
    elif op == "cross_entropy":
        want = ref.cross_entropy_value_and_grad(x, y)
    elif op == "multi_margin":
        want = ref.multi_margin_loss_value_and_grad(x, y)
    else:
        want = ref.kl_div_value_and_grad(x, y.astype(np.float64))
    np.testing.assert_allclose(got[0], want[0], rtol=1e-4)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-4, atol=1e-6)
