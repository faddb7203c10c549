"""fastloss.plot: pictures drawn from landscape results built here from closed forms
(stand-ins with the landscape contract's attributes), read back from the matplotlib
artists and from rendered pixels."""
import doctest
import os
import subprocess
import sys
import textwrap
from importlib.util import find_spec
from types import SimpleNamespace

import numpy as np
import pytest

from fastloss import plot

HAVE_MATPLOTLIB = find_spec("matplotlib") is not None
needs_matplotlib = pytest.mark.skipif(not HAVE_MATPLOTLIB, reason="matplotlib not installed")


@pytest.fixture
def plt(monkeypatch):
    """pyplot on Agg, whose show() fails the test; every figure closed afterwards."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot

    def no_show(*args, **kwargs):
        raise AssertionError("fastloss.plot must never call plt.show()")

    monkeypatch.setattr(pyplot, "show", no_show)
    yield pyplot
    pyplot.close("all")


def surface_result(f, alphas, betas, **extra):
    """A SurfaceResult stand-in: values[i, j] = f(alphas[i], betas[j])."""
    alphas, betas = np.asarray(alphas, float), np.asarray(betas, float)
    grid_a, grid_b = np.meshgrid(alphas, betas, indexing="ij")
    return SimpleNamespace(alphas=alphas, betas=betas, values=f(grid_a, grid_b), **extra)


def paraboloid(a, b):
    return 1.0 + a ** 2 + 3.0 * b ** 2


def saddle(a, b):
    return a ** 2 - b ** 2


def rosenbrock(a, b):
    return (1.0 - a) ** 2 + 100.0 * (b - a ** 2) ** 2


# A non-square grid: 7 alphas, 4 betas, ranges that differ.
ALPHAS = np.linspace(-1.0, 2.0, 7)
BETAS = np.linspace(-3.0, 3.0, 4)


def contour_set(ax):
    from matplotlib.contour import ContourSet
    sets = [c for c in ax.collections if isinstance(c, ContourSet)]
    assert len(sets) == 1, f"expected one contour set, found {len(sets)}"
    return sets[0]


def line_data(ax):
    return [(line.get_label(), np.asarray(line.get_xdata(), float),
             np.asarray(line.get_ydata(), float)) for line in ax.get_lines()]


# --- contour: orientation and levels ----------------------------------------------


@needs_matplotlib
@pytest.mark.parametrize("along", ["alpha", "beta"])
def test_contour_lines_of_a_one_direction_function_run_across_the_other(plt, along):
    """J linear in alpha only gives vertical lines at alpha = level - 2, spanning every
    beta (and the transpose for beta); marching squares is exact on a linear J."""
    if along == "alpha":
        res = surface_result(lambda a, b: 2.0 + a + 0 * b, ALPHAS, BETAS)
    else:
        res = surface_result(lambda a, b: 5.0 + b + 0 * a, ALPHAS, BETAS)
    fig = plot.contour(res, n_levels=9)
    ax = fig.axes[0]
    cs = contour_set(ax)
    drawn = 0
    for level, path in zip(cs.levels, cs.get_paths()):
        if len(path.vertices) == 0:
            continue
        drawn += 1
        x, y = path.vertices[:, 0], path.vertices[:, 1]
        across, constant, offset = (y, x, 2.0) if along == "alpha" else (x, y, 5.0)
        span = BETAS if along == "alpha" else ALPHAS
        np.testing.assert_allclose(constant, level - offset, rtol=0, atol=1e-12,
                                   err_msg=f"level {level} along {along}")
        assert across.min() == pytest.approx(span[0]) and across.max() == pytest.approx(
            span[-1]), f"level {level} does not cross the whole grid"
    assert drawn >= 7
    assert ax.get_xlim() == pytest.approx((ALPHAS[0], ALPHAS[-1]))
    assert ax.get_ylim() == pytest.approx((BETAS[0], BETAS[-1]))


@needs_matplotlib
def test_log_levels_of_a_positive_grid_are_geometric_from_min_to_max(plt):
    res = surface_result(paraboloid, np.linspace(-1, 1, 21), np.linspace(-2, 2, 11))
    lo, hi = 1.0, 1.0 + 1.0 + 3.0 * 4.0  # the grid holds (0, 0) and the corners
    levels = contour_set(plot.contour(res, n_levels=12).axes[0]).levels
    assert levels.size == 12
    assert levels[0] == lo and levels[-1] == hi
    ratios = levels[1:] / levels[:-1]
    np.testing.assert_allclose(ratios, (hi / lo) ** (1 / 11), rtol=1e-12)


@needs_matplotlib
@pytest.mark.parametrize("name,f,lo,hi", [
    # min <= 0: a saddle (min -4 at beta = +-2), Rosenbrock (0 at (1, 1), in the grid)
    ("saddle", saddle, -4.0, 1.0),
    ("rosenbrock", rosenbrock, 0.0, rosenbrock(-1.0, -2.0)),
])
def test_log_levels_shift_a_grid_whose_minimum_is_not_positive(plt, name, f, lo, hi):
    res = surface_result(f, np.linspace(-1, 1, 21), np.linspace(-2, 2, 41))
    levels = contour_set(plot.contour(res, n_levels=30).axes[0]).levels
    assert levels[0] == lo and levels[-1] == pytest.approx(hi, rel=1e-15), name
    shift = plot.LOG_SHIFT * (hi - lo)  # the documented shift
    logs = np.log(levels - lo + shift)
    np.testing.assert_allclose(np.diff(logs), (logs[-1] - logs[0]) / 29, rtol=1e-9,
                               err_msg=name)
    # crowded near the minimum: most levels in the lowest tenth of the range
    assert np.sum(levels < lo + 0.1 * (hi - lo)) > 15, name


@needs_matplotlib
def test_linear_and_explicit_levels(plt):
    res = surface_result(saddle, ALPHAS, BETAS)
    lo, hi = -9.0, 3.0  # a² - b² with |b| in {1, 3}
    linear = contour_set(plot.contour(res, levels="linear", n_levels=5).axes[0]).levels
    np.testing.assert_allclose(linear, np.linspace(lo, hi, 5), rtol=1e-15)
    chosen = [-5.0, -1.0, 0.0, 2.5]
    explicit = contour_set(plot.contour(res, levels=chosen).axes[0]).levels
    np.testing.assert_array_equal(explicit, chosen)


@needs_matplotlib
def test_contour_labels_and_title_name_the_directions(plt):
    res = surface_result(paraboloid, ALPHAS, BETAS, normalization="filter", seed=7)
    ax = plot.contour(res).axes[0]
    assert ax.get_xlabel() == "α (along d1, filter-normalized)"
    assert ax.get_ylabel() == "β (along d2, filter-normalized)"
    assert "filter-normalized directions, seed 7" in ax.get_title()
    assert len(ax.figure.axes) == 2, "the contour has a colorbar"
    theta = [d for d in line_data(ax) if d[0].startswith("θ")]
    assert len(theta) == 1 and theta[0][1:] == (0.0, 0.0), "θ, at (0, 0), is marked"


@needs_matplotlib
def test_contour_overlays_several_trajectories_and_shows_all_of_them(plt):
    res = surface_result(paraboloid, ALPHAS, BETAS)
    t = np.linspace(0.0, 1.0, 9)
    paths = {"sgd": np.c_[1.5 - 1.5 * t, 2.0 - 2.0 * t],
             "adam": np.c_[-2.5 + 2.5 * t, 4.0 * (1 - t)]}  # leaves the grid
    ax = plot.contour(res, trajectory=paths).axes[0]
    lines = {label: (x, y) for label, x, y in line_data(ax)}
    for label, coords in paths.items():
        np.testing.assert_array_equal(lines[label][0], coords[:, 0])
        np.testing.assert_array_equal(lines[label][1], coords[:, 1])
    assert ax.get_xlim() == pytest.approx((-2.5, 2.0))
    assert ax.get_ylim() == pytest.approx((-3.0, 4.0))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"sgd", "adam", "start", "end"} <= set(legend)


@needs_matplotlib
def test_start_and_end_markers_sit_on_the_path_ends(plt):
    res = surface_result(paraboloid, ALPHAS, BETAS)
    coords = np.array([[1.5, 2.0], [0.5, 1.0], [0.1, -0.2]])
    ax = plot.contour(res, trajectory=SimpleNamespace(coords=coords)).axes[0]
    markers = {line.get_marker(): (line.get_xdata(), line.get_ydata())
               for line in ax.get_lines() if len(line.get_xdata()) == 1}
    assert np.ravel(markers["o"]).tolist() == [1.5, 2.0]
    assert np.ravel(markers["*"]).tolist() == [0.1, -0.2]


@needs_matplotlib
def test_points_not_computed_are_blank_and_counted(plt):
    res = surface_result(paraboloid, np.linspace(-1, 1, 11), np.linspace(-1, 1, 9))
    res.values[2:4, 3] = np.nan
    res.values[0, 0] = np.inf
    for draw in (plot.contour, plot.heatmap, plot.surface3d):
        ax = draw(res).axes[0]
        assert "3 of 99 points not finite (blank)" in ax.get_title(), draw.__name__
    levels = contour_set(plot.contour(res).axes[0]).levels
    assert levels[-1] == paraboloid(1.0, 1.0), "inf is left out of the levels"
    mesh = plot.heatmap(res).axes[0].collections[0]
    assert np.ma.getmaskarray(mesh.get_array()).sum() == 3


@needs_matplotlib
def test_a_constant_grid_says_so_instead_of_drawing_lines(plt):
    res = surface_result(lambda a, b: 0 * a + 2.5, ALPHAS, BETAS)
    ax = plot.contour(res).axes[0]
    assert "J is constant: 2.5" in [t.get_text() for t in ax.texts]
    plot.heatmap(res)
    plot.surface3d(res)


# --- heatmap and 3-D surface --------------------------------------------------------


def rendered_axes_pixels(fig, ax):
    """RGB of the pixels inside the axes, row 0 at the top (as on screen)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    image = np.asarray(canvas.buffer_rgba())[..., :3].astype(float)
    box = ax.get_window_extent()
    height = image.shape[0]
    top, bottom = int(height - box.y1) + 3, int(height - box.y0) - 3
    return image[top:bottom, int(box.x0) + 3:int(box.x1) - 3]


@needs_matplotlib
@pytest.mark.parametrize("along", ["alpha", "beta"])
def test_heatmap_pixels_grow_along_the_right_axis(plt, along):
    """Read back the rendered image: viridis gets brighter with J, so J growing with
    alpha brightens left to right, with beta bottom to top."""
    alphas, betas = np.linspace(1, 4, 13), np.geomspace(1, 8, 5)  # no θ marker, uneven
    f = (lambda a, b: a + 0 * b) if along == "alpha" else (lambda a, b: b + 0 * a)
    fig = plot.heatmap(surface_result(f, alphas, betas))
    pixels = rendered_axes_pixels(fig, fig.axes[0]).sum(axis=2)
    rows, cols = pixels.shape
    left, right = pixels[rows // 2, cols // 20], pixels[rows // 2, -cols // 20]
    top, bottom = pixels[rows // 20, cols // 2], pixels[-rows // 20, cols // 2]
    if along == "alpha":
        assert left < right and top == bottom
    else:
        assert bottom < top and left == right


@needs_matplotlib
def test_heatmap_cells_are_centred_on_the_grid_points(plt):
    alphas, betas = np.array([-1.0, 0.0, 0.5, 2.0]), np.array([10.0, 20.0, 25.0])
    res = surface_result(lambda a, b: 3.0 + a + 10 * b, alphas, betas)
    fig = plot.heatmap(res)
    mesh = fig.axes[0].collections[0]
    colours = np.asarray(mesh.get_array()).reshape(betas.size, alphas.size)
    np.testing.assert_array_equal(colours, res.values.T)
    corners = mesh.get_coordinates()  # (n_betas + 1, n_alphas + 1, 2) cell edges
    assert corners.shape == (betas.size + 1, alphas.size + 1, 2)
    x_edges, y_edges = corners[0, :, 0], corners[:, 0, 1]
    assert np.all(x_edges[:-1] < alphas) and np.all(alphas < x_edges[1:])
    assert np.all(y_edges[:-1] < betas) and np.all(betas < y_edges[1:])
    assert fig.axes[1].get_ylabel() == "J (log colour scale)"


@needs_matplotlib
def test_surface3d_puts_alpha_and_beta_on_their_axes(plt):
    res = surface_result(saddle, ALPHAS, BETAS, normalization="layer")
    ax = plot.surface3d(res).axes[0]
    np.testing.assert_allclose(ax.xy_dataLim.intervalx, (ALPHAS[0], ALPHAS[-1]))
    np.testing.assert_allclose(ax.xy_dataLim.intervaly, (BETAS[0], BETAS[-1]))
    np.testing.assert_allclose(ax.zz_dataLim.intervalx, (-9.0, 3.0))
    assert ax.get_xlabel() == "α (along d1, layer-normalized)"
    assert ax.get_zlabel() == "J"


# --- 1-D curve, trajectory, spectrum -----------------------------------------------


@needs_matplotlib
def test_curve_draws_the_path_and_marks_both_ends(plt):
    alphas = np.linspace(-0.5, 1.5, 9)
    line = SimpleNamespace(alphas=alphas, values=(alphas - 1.0) ** 2)
    ax = plot.curve(line).axes[0]
    data = line_data(ax)
    assert data[0][0] == "J"
    np.testing.assert_array_equal(data[0][2], line.values)
    dots = [(x[0], y[0]) for label, x, y in data if len(x) == 1]
    assert dots == [(0.0, 1.0), (1.0, 0.0)]
    assert ax.get_xlabel() == "α" and ax.get_ylabel() == "J((1 − α)·θa + α·θb)"


@needs_matplotlib
def test_curve_interpolates_the_marks_between_grid_points_and_skips_outside(plt):
    alphas = np.array([0.3, 0.7, 1.3, 2.0])  # 0 outside, 1 between two points
    line = SimpleNamespace(alphas=alphas, values=3.0 * alphas + 1.0)
    ax = plot.curve(line).axes[0]
    dots = [(x[0], y[0]) for label, x, y in line_data(ax) if len(x) == 1]
    assert dots == [(1.0, pytest.approx(4.0, rel=1e-15))]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["J", "θb (α = 1)"]


@needs_matplotlib
def test_trajectory_labels_the_principal_axes_with_their_variance(plt):
    t = np.linspace(1.0, 0.0, 15)
    pca = SimpleNamespace(coords=np.c_[2 * t, 0.5 * np.sin(4 * t)],
                          explained_variance_ratio=np.array([0.875, 0.1]),
                          directions=np.eye(2, 5), center=np.zeros(5))
    res = surface_result(paraboloid, np.linspace(-0.5, 2.5, 13), np.linspace(-1, 1, 9))
    ax = plot.trajectory(pca, res).axes[0]
    assert ax.get_xlabel() == "PC1 (87.5% of the variance)"
    assert ax.get_ylabel() == "PC2 (10.0% of the variance)"
    lines = {label: (x, y) for label, x, y in line_data(ax)}
    np.testing.assert_array_equal(lines["trajectory"][0], pca.coords[:, 0])
    assert not any(label.startswith("θ") for label in lines)
    assert contour_set(ax).levels[0] == 1.0


@needs_matplotlib
def test_spectrum_stems_are_the_eigenvalues_signs_coloured(plt):
    values = np.array([9.0, 2.0, -1.5, 0.25])
    ax = plot.spectrum(SimpleNamespace(values=values, vectors=np.eye(4))).axes[0]
    stems = [c for c in ax.containers]
    heights = {c.get_label(): np.asarray(c.markerline.get_ydata()) for c in stems}
    np.testing.assert_array_equal(heights["λ ≥ 0"], [9.0, 2.0, 0.25])
    np.testing.assert_array_equal(heights["λ < 0"], [-1.5])
    assert ax.get_yscale() == "linear" and ax.get_ylabel() == "λ_k"


@needs_matplotlib
def test_spectrum_log_draws_absolute_values(plt):
    ax = plot.spectrum([100.0, -0.5, 1e-3], log=True).axes[0]
    heights = {c.get_label(): np.asarray(c.markerline.get_ydata()) for c in ax.containers}
    np.testing.assert_array_equal(heights["λ ≥ 0"], [100.0, 1e-3])
    np.testing.assert_array_equal(heights["λ < 0 (|λ| shown)"], [0.5])
    assert ax.get_yscale() == "log"
    lo, hi = ax.get_ylim()
    assert lo < 1e-3 and hi > 100.0


# --- saving --------------------------------------------------------------------------


def all_pictures():
    res = surface_result(paraboloid, ALPHAS, BETAS)
    alphas = np.linspace(0, 1, 5)
    pca = SimpleNamespace(coords=np.array([[1.0, 0.5], [0.0, 0.0]]),
                          explained_variance_ratio=np.array([0.9, 0.1]))
    return {
        "contour": lambda path: plot.contour(res, path=path),
        "heatmap": lambda path: plot.heatmap(res, path=path),
        "surface3d": lambda path: plot.surface3d(res, path=path),
        "curve": lambda path: plot.curve(SimpleNamespace(alphas=alphas, values=alphas),
                                         path=path),
        "trajectory": lambda path: plot.trajectory(pca, res, path=path),
        "spectrum": lambda path: plot.spectrum([3.0, 1.0], path=path),
    }


PICTURES = list(all_pictures())


@needs_matplotlib
@pytest.mark.parametrize("name", PICTURES)
def test_each_picture_saves_png_or_svg_by_extension(plt, tmp_path, name):
    from matplotlib.figure import Figure
    draw = all_pictures()[name]
    assert isinstance(draw(None), Figure)
    png, svg = tmp_path / f"{name}.PNG", str(tmp_path / f"{name}.svg")
    assert isinstance(draw(png), Figure)
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    draw(svg)
    with open(svg, encoding="utf-8") as text:
        assert "<svg" in text.read(2000)


@needs_matplotlib
@pytest.mark.parametrize("name", PICTURES)
@pytest.mark.parametrize("filename", ["x.jpg", "x.pdf", "x"])
def test_other_extensions_are_refused_before_anything_is_written(plt, tmp_path, name,
                                                                 filename):
    with pytest.raises(ValueError, match=r"path must end in \.png or \.svg, got .*" +
                       filename.replace(".", r"\.")):
        all_pictures()[name](tmp_path / filename)
    assert list(tmp_path.iterdir()) == []


@needs_matplotlib
def test_figures_are_not_kept_by_a_non_interactive_pyplot(plt):
    before = plt.get_fignums()
    for draw in all_pictures().values():
        draw(None)
    assert plt.get_fignums() == before


# --- bad input ----------------------------------------------------------------------


def grid(**changes):
    res = surface_result(paraboloid, ALPHAS, BETAS)
    for key, value in changes.items():
        setattr(res, key, value)
    return res


@needs_matplotlib
@pytest.mark.parametrize("res,message", [
    (grid(values=np.ones((4, 7))), r"res.values must have shape .* = \(7, 4\), got \(4, 7\)"),
    (grid(values=np.ones(28)), r"res.values must have shape .* got \(28,\)"),
    (grid(alphas=ALPHAS[::-1]), "res.alphas must be strictly increasing"),
    (grid(betas=np.array([0.0, 1.0, 1.0, 2.0])), "res.betas must be strictly increasing"),
    (grid(alphas=np.r_[ALPHAS[:-1], np.nan]), "res.alphas must be finite"),
    (grid(betas=np.ones((2, 2))), r"res.betas must be a 1-D array of at least 2 points, "
                                  r"got shape \(2, 2\)"),
    (surface_result(paraboloid, ALPHAS, [0.0]), "res.betas must be a 1-D array of at least 2"),
    (grid(values=np.full((7, 4), np.nan)), "res.values has no finite value to draw"),
], ids=["transposed", "flat", "alphas-decreasing", "betas-repeated", "alphas-nan",
        "betas-2d", "one-beta", "all-nan"])
def test_bad_grids_are_refused_by_every_grid_picture(plt, res, message):
    for draw in (plot.contour, plot.heatmap, plot.surface3d):
        with pytest.raises(ValueError, match=message):
            draw(res)
    pca = SimpleNamespace(coords=np.zeros((2, 2)), explained_variance_ratio=[0.5, 0.5])
    with pytest.raises(ValueError, match=message):
        plot.trajectory(pca, res)


@needs_matplotlib
@pytest.mark.parametrize("kwargs,message", [
    (dict(n_levels=1), "n_levels must be an integer >= 2, got 1"),
    (dict(n_levels=True), "n_levels must be an integer >= 2, got True"),
    (dict(n_levels=2.5), "n_levels must be an integer >= 2, got 2.5"),
    (dict(levels="cubic"), "levels must be 'log', 'linear' or a sequence of numbers, "
                           "got 'cubic'"),
    (dict(levels=[3.0, 1.0]), r"levels must be .* strictly increasing numbers, "
                              r"got \[3.0, 1.0\]"),
    (dict(levels=[1.0]), r"at least 2 finite, strictly increasing numbers, got \[1.0\]"),
    (dict(levels=[1.0, np.inf]), r"at least 2 finite"),
    (dict(trajectory=np.zeros((5, 3))), r"trajectory must have shape \(T, 2\) with T >= 1, "
                                        r"got \(5, 3\)"),
    (dict(trajectory=np.zeros((0, 2))), r"trajectory must have shape .* got \(0, 2\)"),
    (dict(trajectory={"sgd": np.zeros(4)}), r"trajectory\['sgd'\] must have shape "),
    (dict(trajectory=[[0.0, np.nan]]), "trajectory must be finite"),
], ids=["levels-1", "levels-bool", "levels-float", "levels-name", "levels-decreasing",
        "levels-one", "levels-inf", "traj-3-cols", "traj-empty", "traj-dict-1d",
        "traj-nan"])
def test_bad_contour_options_are_refused(plt, kwargs, message):
    with pytest.raises(ValueError, match=message):
        plot.contour(grid(), **kwargs)


@needs_matplotlib
@pytest.mark.parametrize("pca,message", [
    (SimpleNamespace(coords=np.zeros((3, 3)), explained_variance_ratio=[0.5, 0.5]),
     r"pca.coords must have shape \(T, 2\) with T >= 1, got \(3, 3\)"),
    (SimpleNamespace(coords=np.zeros((3, 2)), explained_variance_ratio=[0.5, 0.3, 0.2]),
     r"pca.explained_variance_ratio must be 2 finite numbers, got \[0.5, 0.3, 0.2\]"),
    (SimpleNamespace(coords=np.zeros((3, 2)), explained_variance_ratio=[np.nan, 0.1]),
     "pca.explained_variance_ratio must be 2 finite numbers"),
], ids=["coords", "ratio-3", "ratio-nan"])
def test_bad_pca_results_are_refused(plt, pca, message):
    with pytest.raises(ValueError, match=message):
        plot.trajectory(pca, grid())


@needs_matplotlib
@pytest.mark.parametrize("line,message", [
    (SimpleNamespace(alphas=[0.0, 1.0, 2.0], values=[1.0, 2.0]),
     r"line.values must have the shape of line.alphas \(3,\), got \(2,\)"),
    (SimpleNamespace(alphas=[1.0, 0.0], values=[1.0, 2.0]),
     "line.alphas must be strictly increasing"),
    (SimpleNamespace(alphas=[0.0], values=[1.0]),
     r"line.alphas must be a 1-D array of at least 2 points, got shape \(1,\)"),
    (SimpleNamespace(alphas=[0.0, 1.0], values=[np.nan, np.inf]),
     "line.values has no finite value to draw"),
], ids=["shape", "decreasing", "one-point", "all-nan"])
def test_bad_lines_are_refused(plt, line, message):
    with pytest.raises(ValueError, match=message):
        plot.curve(line)


@needs_matplotlib
@pytest.mark.parametrize("eigenvalues,log,message", [
    ([], False, r"eigenvalues must be a non-empty 1-D array, got shape \(0,\)"),
    ([[1.0, 2.0]], False, r"non-empty 1-D array, got shape \(1, 2\)"),
    ([1.0, np.nan], False, "eigenvalues must be finite"),
    ([2.0, 0.0, -1.0], True, "log=True needs nonzero eigenvalues; eigenvalue 2 is 0"),
], ids=["empty", "2d", "nan", "log-zero"])
def test_bad_spectra_are_refused(plt, eigenvalues, log, message):
    with pytest.raises(ValueError, match=message):
        plot.spectrum(eigenvalues, log=log)


# --- matplotlib optional, Agg without a display, examples -------------------------------


def run_python(code, env_drop=(), cwd=None):
    env = {k: v for k, v in os.environ.items() if k not in env_drop}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_without_matplotlib_import_works_and_calls_say_how_to_install():
    out = run_python("""
        import sys
        class NoMatplotlib:
            def find_spec(self, name, path=None, target=None):
                if name == "matplotlib" or name.startswith("matplotlib."):
                    raise ImportError("no matplotlib here")
        sys.meta_path.insert(0, NoMatplotlib())
        from fastloss import plot
        calls = {"contour": lambda: plot.contour(None), "heatmap": lambda: plot.heatmap(None),
                 "surface3d": lambda: plot.surface3d(None), "curve": lambda: plot.curve(None),
                 "trajectory": lambda: plot.trajectory(None, None),
                 "spectrum": lambda: plot.spectrum([1.0])}
        for name, call in calls.items():
            try:
                call()
            except ImportError as exc:
                print(name, exc)
            else:
                print(name, "drew without matplotlib")
    """)
    lines = out.splitlines()
    assert len(lines) == 6, out
    for line in lines:
        assert line.endswith("needs matplotlib: pip install 'fastloss[plot]'"), line


@needs_matplotlib
def test_without_a_display_the_agg_backend_draws(tmp_path):
    out = run_python("""
        import numpy as np
        from types import SimpleNamespace
        import matplotlib
        from fastloss import plot
        g = np.linspace(-1, 1, 5)
        fig = plot.contour(SimpleNamespace(alphas=g, betas=g, values=1 + np.add.outer(g, g) ** 2))
        import matplotlib.pyplot as plt
        fig.savefig("picture.png")
        print(matplotlib.get_backend().lower(), plt.get_fignums())
    """, env_drop=("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND"), cwd=tmp_path)
    assert out.split() == ["agg", "[]"]
    with open(tmp_path / "picture.png", "rb") as png:
        assert png.read(8) == b"\x89PNG\r\n\x1a\n"


@needs_matplotlib
def test_docstring_examples_run(plt):
    result = doctest.testmod(plot, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 20 and result.failed == 0
