"""``fastloss landscape``: the command line end to end on a tiny problem."""
import numpy as np
import pytest

from fastloss import __main__ as cli
from fastloss import landscape

TINY = ["--model", "2-6-3", "--epochs", "3", "--samples", "90", "--grid", "5x4",
        "--eigs", "2", "--seed", "1"]


def test_writes_what_it_says(tmp_path, capsys):
    out = tmp_path / "land"
    assert cli.main(["landscape", *TINY, "--no-plots", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    expected = ["model.npz", "path.npz", "random_plane.npz", "pca_plane.npz",
                "hessian_eigs.npz"]
    for name in expected:
        assert (out / name).exists() and f"  {name}" in text
    assert f"wrote {len(expected)} files into {out}" in text
    plane = landscape.load(str(out / "random_plane.npz"))
    assert plane.values.shape == (5, 4)            # --grid 5x4: alphas x betas
    assert np.all(np.isfinite(plane.values))
    saved = np.load(out / "model.npz")
    assert list(saved["sizes"]) == [2, 6, 3]
    # the surface is centred on the trained weights: J there is the plane's value at 0, 0
    assert plane.alphas[2] == 0 and plane.betas[0] == -1.0
    eigs = np.load(out / "hessian_eigs.npz")["values"]
    assert eigs.shape == (2,) and eigs[0] >= eigs[1]


def test_loads_a_saved_model(tmp_path, capsys):
    first = tmp_path / "first"
    assert cli.main(["landscape", *TINY, "--no-plots", "--out", str(first)]) == 0
    second = tmp_path / "second"
    assert cli.main(["landscape", *TINY, "--no-plots", "--out", str(second),
                     "--load", str(first / "model.npz")]) == 0
    a = landscape.load(str(first / "random_plane.npz")).values
    b = landscape.load(str(second / "random_plane.npz")).values
    np.testing.assert_array_equal(a, b)            # same weights, same seed, same grid


def test_pictures(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "pics"
    assert cli.main(["landscape", *TINY, "--out", str(out)]) == 0
    for name in ("path.png", "random_plane_contour.png", "random_plane_surface.png",
                 "pca_plane_trajectory.png", "hessian_spectrum.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["landscape", "--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    for option in ("--dataset", "--data", "--model", "--activation", "--load",
                   "--optimizer", "--lr", "--epochs", "--batch-size", "--samples", "--grid",
                   "--span", "--eigs", "--seed", "--threads", "--out", "--no-plots"):
        assert option in text, option
    assert text.count("(default:") >= 10


@pytest.mark.parametrize("args,message", [
    (["--model", "2-x-3"], "--model must be layer sizes"),
    (["--model", "3"], "--model needs at least an input and an output size"),
    (["--grid", "1"], "--grid must be N or NxM"),
    (["--grid", "5y5"], "--grid must be N or NxM"),
])
def test_bad_options(args, message, capsys):
    with pytest.raises(SystemExit):
        cli.main(["landscape", *args])
    assert message in capsys.readouterr().err


def test_model_that_does_not_fit_the_data(tmp_path):
    with pytest.raises(SystemExit, match="--model starts with 3 inputs but the data has 2"):
        cli.main(["landscape", "--model", "3-4-3", "--out", str(tmp_path)])
