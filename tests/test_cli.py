"""The command line: ``python -m fastloss bench`` (the main job) on tiny shapes."""
import numpy as np
import pytest

from fastloss import __main__ as cli
from fastloss import _quickbench


@pytest.fixture
def tiny_bench(monkeypatch):
    monkeypatch.setattr(_quickbench, "QUICK_SHAPES", ((8, 5), (3, 40)))
    monkeypatch.setattr(_quickbench, "QUICK_TIMING",
                        _quickbench.Timing(warmup=0.0, min_sample=0.0, budget=0.0,
                                           max_samples=3))
    monkeypatch.setattr(_quickbench, "_import_torch", lambda: None)


def test_bench_quick_prints_a_row_per_op_shape_and_thread_count(tiny_bench, capsys):
    assert cli.main(["bench", "--quick", "--threads", "1", "2"]) == 0
    out = capsys.readouterr().out
    assert "PyTorch not installed" in out
    rows = [line.split() for line in out.splitlines()
            if line.startswith(("cross_entropy", "log_softmax"))]
    assert sorted((r[0], r[1], r[2]) for r in rows) == sorted(
        (op, shape, nt) for op in ("cross_entropy", "log_softmax")
        for shape in ("8x5", "3x40") for nt in ("1", "2"))
    for r in rows:
        assert r[5] == "-"                    # no PyTorch column value
        assert float(r[3]) > 0 and float(r[4]) > 0


def test_bench_rejects_bad_thread_counts(tiny_bench, capsys):
    assert cli.main(["bench", "--quick", "--threads", "0"]) == 2
    assert "thread counts must be >= 1" in capsys.readouterr().err


def test_numpy_baseline_is_right():
    # the baseline the table compares against computes the same thing (closed form:
    # equal logits give log C and a gradient of (1/C - onehot) / N)
    x = np.zeros((4, 5), dtype=np.float32)
    y = np.array([0, 1, 2, 3])
    loss, grad = _quickbench.numpy_cross_entropy(x, y)
    assert loss == pytest.approx(np.log(5), rel=1e-6)
    expected = (np.full((4, 5), 0.2) - np.eye(5)[y]) / 4
    np.testing.assert_allclose(grad, expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(_quickbench.numpy_log_softmax(x), -np.log(5), rtol=1e-6)
