"""``fastloss demo``, the main job: shortened runs of the real thing."""
import builtins
import os

import numpy as np
import pytest

from fastloss import __main__ as cli
from fastloss import demo, nn, reference


@pytest.fixture(scope="module")
def short_run():
    return demo.train_all(n_samples=300, seed=3, scale=0.1, progress=False)


def test_every_optimizer_trains_from_the_same_weights(short_run):
    results, (X_train, y_train, X_test, y_test) = short_run
    assert [r.run.name for r in results] == [run.name for run in demo.RUNS]
    assert len(X_train) + len(X_test) == 300 and len(y_train) == len(X_train)
    for r in results:
        assert r.steps > 0 and r.seconds > 0
        assert np.all(np.isfinite(r.epoch_loss))
        assert r.epoch_loss[-1] < r.epoch_loss[0], r.run.label   # every one descends
        assert 0.0 <= r.test_acc <= 1.0
    # batch gradient descent's first epoch is the loss at the shared initial weights
    start = nn.MLP([2, 64, 64, 3], activation="relu", seed=3)
    initial = reference.cross_entropy(start.forward(X_train), y_train)
    batch_gd = next(r for r in results if r.run.batch_size is None)
    np.testing.assert_allclose(batch_gd.epoch_loss[0], initial, rtol=1e-12)


def test_table_has_a_row_per_optimizer(short_run):
    table = demo.format_table(short_run[0]).splitlines()
    assert table[0].split()[:2] == ["optimizer", "final"]
    assert len(table) == 2 + len(demo.RUNS)
    assert all(r.run.label in text for r, text in zip(short_run[0], table[2:]))


def test_pictures(short_run, tmp_path):
    pytest.importorskip("matplotlib")
    paths = demo.write_pictures(*short_run, str(tmp_path))
    names = sorted(os.path.basename(p) for p in paths)
    assert names == sorted(["loss_curves.png", "boundaries.png", "landscape.png"]
                           + [f"boundary_{run.name}.png" for run in demo.RUNS])
    for p in paths:
        with open(p, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_trajectory_plane_holds_the_paths(short_run):
    results, data = short_run
    surface, paths, (d1, d2) = demo.trajectory_plane(results, data, seed=3, grid=7)
    assert sorted(paths) == sorted(r.run.label for r in results
                                   if r.run.name in demo.LANDSCAPE_RUNS)
    assert surface.values.shape == (7, 7) and np.all(np.isfinite(surface.values))
    for coords in paths.values():
        np.testing.assert_allclose(coords[0], 0, atol=1e-12)   # every path starts at 0, 0
        assert surface.alphas[0] <= coords[:, 0].min() and coords[:, 0].max() <= surface.alphas[-1]
        assert surface.betas[0] <= coords[:, 1].min() and coords[:, 1].max() <= surface.betas[-1]
    # J at a grid point is the network's loss there
    i, j = 3, 2
    start = results[0].snapshots[0]
    model = nn.MLP([2, 64, 64, 3], activation="relu", seed=3)
    theta = start + surface.alphas[i] * d1 + surface.betas[j] * d2
    model.set_flat(theta)
    want = reference.cross_entropy(model.predict(data[0]), data[1])
    np.testing.assert_allclose(surface.values[i, j], want, rtol=1e-10)


def test_command_line_quick(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "pictures"
    assert cli.main(["demo", "--quick", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "AdamW" in text and "pictures in" in text and str(out) in text
    assert (out / "boundaries.png").exists()


def test_without_matplotlib_it_says_how_to_get_pictures(monkeypatch, capsys, tmp_path):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("no matplotlib here")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    monkeypatch.setattr(demo, "RUNS", demo.RUNS[:2])
    assert demo.main(["--quick", "--out", str(tmp_path / "none")]) == 0
    text = capsys.readouterr().out
    assert "pip install 'fastloss[plot]'" in text
    assert not (tmp_path / "none").exists()
