"""Pictures of loss landscapes: contours, heatmaps, 3-D surfaces, 1-D paths, training
trajectories on the PCA plane and Hessian spectra.

Each function draws one matplotlib Figure from a result of `fastloss.landscape` (or any
object with the same attributes), returns it, and saves it when given ``path``: PNG or
SVG, chosen by the file's extension (``.png``/``.svg``, any case; anything else is a
ValueError raised before drawing).

A typical session::

    res = landscape.surface(f, theta, d1, d2, alphas, betas)
    plot.contour(res, path="plane.png")
    plot.heatmap(res, path="plane_heatmap.svg")

Grids use the landscape's "ij" convention: ``res.values[i, j]`` is J at
``(res.alphas[i], res.betas[j])``, drawn with alpha on the horizontal axis and beta on
the vertical one, whatever the grid's shape. Values that are not finite (NaN for points
not computed, +-inf) are left blank, and the title says how many there are.

matplotlib is optional (``pip install 'fastloss[plot]'``): it is imported when a
function is called, which raises ImportError saying so when it is missing. With no
display (no ``DISPLAY``/``WAYLAND_DISPLAY`` on Linux and no ``MPLBACKEND`` set) the Agg
backend is selected before pyplot is first imported. Nothing here calls ``plt.show()``.
Figures drawn with a non-interactive backend are not kept by pyplot, so drawing many in a
loop holds no memory; with an interactive backend they are ordinary pyplot figures.
"""
import math
import os
import sys
from collections.abc import Mapping

import numpy as np

__all__ = ["contour", "heatmap", "surface3d", "curve", "trajectory", "spectrum"]

_SAVE_FORMATS = {".png": "png", ".svg": "svg"}
_NON_INTERACTIVE_BACKENDS = {"agg", "cairo", "pdf", "pgf", "ps", "svg", "template"}
_CMAP = "viridis"
# In "log" contour levels over a grid whose minimum is <= 0, the values are shifted so
# that the minimum sits this fraction of the grid's range above zero.
LOG_SHIFT = 1e-3


def _pyplot():
    """matplotlib.pyplot, choosing Agg first when there is no display to draw on."""
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError("fastloss.plot needs matplotlib: pip install 'fastloss[plot]'"
                          ) from exc
    if "matplotlib.pyplot" not in sys.modules and not _has_display():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _has_display():
    if os.environ.get("MPLBACKEND"):
        return True  # the user chose a backend: leave it to matplotlib
    if sys.platform in ("darwin", "win32", "cygwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _figure(plt, figsize, **subplot_kw):
    """A new figure of one axes, (fig, ax)."""
    fig = plt.figure(figsize=figsize)
    if plt.get_backend().lower() in _NON_INTERACTIVE_BACKENDS:
        # Nothing will ever be shown: let the caller own the figure alone, so figures
        # drawn in a loop are freed with their last reference.
        plt.close(fig)
    return fig, fig.add_subplot(**subplot_kw)


def _legend(ax):
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper right", fontsize=8, framealpha=0.8)


def _save_format(path):
    if path is None:
        return None
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext not in _SAVE_FORMATS:
        raise ValueError(f"path must end in .png or .svg, got {os.fspath(path)!r}")
    return _SAVE_FORMATS[ext]


def _finish(fig, path, fmt):
    if path is not None:
        fig.savefig(os.fspath(path), format=fmt, dpi=120, bbox_inches="tight")
    return fig


def _axis(values, name):
    axis = np.asarray(values, dtype=np.float64)
    if axis.ndim != 1 or axis.size < 2:
        raise ValueError(f"{name} must be a 1-D array of at least 2 points, "
                         f"got shape {axis.shape}")
    if not np.all(np.isfinite(axis)):
        raise ValueError(f"{name} must be finite, got {axis}")
    if not np.all(np.diff(axis) > 0):
        raise ValueError(f"{name} must be strictly increasing, got {axis}")
    return axis


def _grid(res):
    """(alphas, betas, values with non-finite entries as NaN, number of such entries)."""
    alphas = _axis(res.alphas, "res.alphas")
    betas = _axis(res.betas, "res.betas")
    values = np.array(res.values, dtype=np.float64)
    if values.shape != (alphas.size, betas.size):
        raise ValueError(f"res.values must have shape (len(alphas), len(betas)) = "
                         f"{(alphas.size, betas.size)}, got {values.shape}")
    blank = ~np.isfinite(values)
    if blank.all():
        raise ValueError("res.values has no finite value to draw")
    values[blank] = np.nan
    return alphas, betas, values, int(blank.sum())


def _log_offset(lo, hi):
    """c such that log(J + c) is the log scale of a grid spanning [lo, hi]: 0 when
    lo > 0, else the shift putting lo at LOG_SHIFT·(hi - lo) above zero."""
    return 0.0 if lo > 0 else LOG_SHIFT * (hi - lo) - lo


def _log_norm(lo, hi):
    """The colour scale of the "log" levels over [lo, hi]."""
    from matplotlib.colors import FuncNorm, LogNorm

    if lo > 0:
        return LogNorm(lo, hi)
    offset = _log_offset(lo, hi)

    def forward(v):
        # the colorbar also probes values below the grid's minimum: no warning for those
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(v + offset)

    return FuncNorm((forward, lambda u: np.exp(u) - offset), lo, hi)


def _contour_levels(lo, hi, levels, n_levels):
    if isinstance(n_levels, bool) or not isinstance(n_levels, (int, np.integer)) \
            or n_levels < 2:
        raise ValueError(f"n_levels must be an integer >= 2, got {n_levels!r}")
    if isinstance(levels, str):
        if levels == "linear":
            return np.linspace(lo, hi, n_levels)
        if levels != "log":
            raise ValueError(f"levels must be 'log', 'linear' or a sequence of numbers, "
                             f"got {levels!r}")
        offset = _log_offset(lo, hi)
        out = np.geomspace(lo + offset, hi + offset, n_levels) - offset
        out[0], out[-1] = lo, hi  # exactly the grid's extremes, whatever the rounding
        return out
    out = np.asarray(levels, dtype=np.float64)
    if out.ndim != 1 or out.size < 2 or not np.all(np.isfinite(out)) \
            or not np.all(np.diff(out) > 0):
        raise ValueError(f"levels must be 'log', 'linear' or at least 2 finite, strictly "
                         f"increasing numbers, got {levels!r}")
    return out


def _paths(trajectory, what="trajectory"):
    """[(label, coords (T, 2))] from None, an array, an object with .coords, or a
    mapping of labels to either; `what` names the argument in errors."""
    if trajectory is None:
        return []
    items = trajectory.items() if isinstance(trajectory, Mapping) else [(None, trajectory)]
    paths = []
    for label, path in items:
        name = what if label is None else f"{what}[{label!r}]"
        coords = np.asarray(getattr(path, "coords", path), dtype=np.float64)
        if coords.ndim != 2 or coords.shape[1] != 2 or coords.shape[0] < 1:
            raise ValueError(f"{name} must have shape (T, 2) with T >= 1, "
                             f"got {coords.shape}")
        if not np.all(np.isfinite(coords)):
            raise ValueError(f"{name} must be finite")
        paths.append((label, coords))
    return paths


def _direction_note(res):
    normalization = getattr(res, "normalization", None)
    seed = getattr(res, "seed", None)
    parts = []
    if normalization is not None:
        parts.append(f"{normalization}-normalized directions")
    if seed is not None:
        parts.append(f"seed {seed}")
    return ", ".join(parts)


def _title(ax, main, res, n_blank, size):
    notes = [n for n in (_direction_note(res),) if n]
    if n_blank:
        notes.append(f"{n_blank} of {size} points not finite (blank)")
    ax.set_title(main + ("\n" + "; ".join(notes) if notes else ""), fontsize=10)


def _mark_theta(ax, alphas, betas):
    if alphas[0] <= 0 <= alphas[-1] and betas[0] <= 0 <= betas[-1]:
        ax.plot([0.0], [0.0], "k+", ms=10, mew=1.5, label="θ (α = β = 0)")


def _draw_contour(fig, ax, alphas, betas, values, levels, n_levels, paths, mark_theta):
    """Line contours of values (ij grid) with a colorbar and the paths overlaid."""
    from matplotlib import colormaps
    from matplotlib.colors import BoundaryNorm

    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    levels = _contour_levels(lo, hi, levels, n_levels)
    if hi > lo:
        cmap = colormaps[_CMAP]
        # One colour step per level, so that log-spaced levels crowded near the minimum
        # still get distinct colours.
        cs = ax.contour(alphas, betas, values.T, levels=levels, cmap=cmap,
                        norm=BoundaryNorm(levels, cmap.N), linewidths=1.0)
        cbar = fig.colorbar(cs, ax=ax)
        cbar.set_ticks(levels[::max(1, math.ceil(levels.size / 8))])
        cbar.ax.yaxis.set_major_formatter("{x:.3g}")
        cbar.set_label("J (contour levels)")
    else:
        ax.text(0.5, 0.5, f"J is constant: {lo:.6g}", transform=ax.transAxes,
                ha="center", va="center")
    xs = [alphas[[0, -1]]] + [p[:, 0] for _, p in paths]
    ys = [betas[[0, -1]]] + [p[:, 1] for _, p in paths]
    if mark_theta:
        _mark_theta(ax, alphas, betas)
    for k, (label, coords) in enumerate(paths):
        colour = "C3" if len(paths) == 1 else f"C{k}"
        ax.plot(coords[:, 0], coords[:, 1], "-", color=colour, lw=1.5, marker=".", ms=3,
                label=label if label is not None else "trajectory")
        ax.plot(coords[0, 0], coords[0, 1], "o", ms=7, mfc="white", mec=colour, mew=1.5,
                label="start" if k == 0 else None)
        ax.plot(coords[-1, 0], coords[-1, 1], "*", ms=13, color=colour, mec="black",
                mew=0.5, label="end" if k == 0 else None)
    ax.set_xlim(min(x.min() for x in xs), max(x.max() for x in xs))
    ax.set_ylim(min(y.min() for y in ys), max(y.max() for y in ys))
    _legend(ax)


def _plane_labels(ax, res):
    normalization = getattr(res, "normalization", None)
    suffix = f", {normalization}-normalized" if normalization is not None else ""
    ax.set_xlabel(f"α (along d1{suffix})")
    ax.set_ylabel(f"β (along d2{suffix})")


def contour(res, levels="log", n_levels=30, trajectory=None, path=None):
    """Contour lines of a loss surface J(θ + α·d1 + β·d2) over its (α, β) grid.

    Parameters
    ----------
    res : SurfaceResult
        From `fastloss.landscape.surface`, or any object with ``alphas`` (m,),
        ``betas`` (n,), both strictly increasing, and ``values`` (m, n) with
        ``values[i, j] = J(θ + alphas[i]·d1 + betas[j]·d2)``; optional
        ``normalization`` and ``seed`` go into the labels and title.
    levels : {"log", "linear"} or sequence of float, default "log"
        "log": `n_levels` levels log-spaced from the grid's smallest finite value to its
        largest, which resolves the basin around a minimum. When the minimum ``lo`` is
        <= 0 (a loss shifted by a constant, a saddle), the levels are log-spaced in
        ``J - lo + s`` with ``s = LOG_SHIFT·(hi - lo)`` (``LOG_SHIFT = 1e-3``) and mapped
        back, so they still run from ``lo`` to ``hi`` and crowd near the minimum
        (``hi`` is the largest finite value).
        "linear": evenly spaced from min to max. A sequence: those levels (at least 2,
        strictly increasing).
    n_levels : int, default 30
        Number of levels for "log" and "linear" (>= 2).
    trajectory : array (T, 2), object with ``coords`` (T, 2), or mapping, optional
        Path(s) in (α, β) coordinates drawn over the contours, start marked by a circle
        and end by a star; a mapping ``{label: coords}`` draws several (e.g. one per
        optimizer) with a legend. The axes grow to show the whole path.
    path : str or os.PathLike, optional
        Where to save the picture: ``.png`` or ``.svg``.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    Non-finite grid values (NaN for points not computed, +-inf) are left blank and
    counted in the title; a constant grid has no contour lines and says so. θ itself,
    (0, 0), is marked by a black cross when it lies in the grid.

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> from fastloss import plot
    >>> alphas, betas = np.linspace(-1, 1, 21), np.linspace(-2, 2, 11)
    >>> J = 1 + alphas[:, None] ** 2 + 3 * betas[None, :] ** 2
    >>> fig = plot.contour(SimpleNamespace(alphas=alphas, betas=betas, values=J))
    >>> fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()
    ('α (along d1)', 'β (along d2)')
    """
    plt = _pyplot()
    fmt = _save_format(path)
    alphas, betas, values, n_blank = _grid(res)
    paths = _paths(trajectory)
    fig, ax = _figure(plt, (6.4, 5.0))
    _draw_contour(fig, ax, alphas, betas, values, levels, n_levels, paths, mark_theta=True)
    _plane_labels(ax, res)
    _title(ax, "Loss surface J(θ + α·d1 + β·d2)", res, n_blank, values.size)
    return _finish(fig, path, fmt)


def heatmap(res, path=None):
    """The loss surface as a filled heatmap over its (α, β) grid, with a colorbar.

    Each grid point is a cell centred on ``(alphas[i], betas[j])`` (non-uniform and
    non-square grids included), α horizontal and β vertical, increasing to the right and
    upwards. The colour scale is logarithmic, as the "log" levels of `contour`: in J
    when every finite value is > 0, else in ``J - lo + s`` with ``s = LOG_SHIFT·(hi -
    lo)``; a constant grid gets one colour.

    Parameters
    ----------
    res : SurfaceResult
        As in `contour`.
    path : str or os.PathLike, optional
        Where to save the picture: ``.png`` or ``.svg``.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    Non-finite values are blank cells, counted in the title.

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> from fastloss import plot
    >>> alphas, betas = np.linspace(-1, 1, 5), np.linspace(0, 1, 3)
    >>> J = 1 + alphas[:, None] ** 2 + betas[None, :]
    >>> fig = plot.heatmap(SimpleNamespace(alphas=alphas, betas=betas, values=J))
    >>> fig.axes[0].collections[0].get_array().shape  # rows are betas, columns alphas
    (3, 5)
    """
    plt = _pyplot()
    from matplotlib.colors import Normalize

    fmt = _save_format(path)
    alphas, betas, values, n_blank = _grid(res)
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    norm = _log_norm(lo, hi) if hi > lo else Normalize(lo, hi)
    fig, ax = _figure(plt, (6.4, 5.0))
    mesh = ax.pcolormesh(alphas, betas, np.ma.masked_invalid(values.T), shading="nearest",
                         cmap=_CMAP, norm=norm)
    cbar = fig.colorbar(mesh, ax=ax)
    cbar.set_label("J (log colour scale)")
    _mark_theta(ax, alphas, betas)
    _legend(ax)
    _plane_labels(ax, res)
    _title(ax, "Loss surface J(θ + α·d1 + β·d2)", res, n_blank, values.size)
    return _finish(fig, path, fmt)


def surface3d(res, path=None):
    """The loss surface as a 3-D surface: J over the (α, β) plane.

    Parameters
    ----------
    res : SurfaceResult
        As in `contour`.
    path : str or os.PathLike, optional
        Where to save the picture: ``.png`` or ``.svg``.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    Non-finite values leave holes in the surface, counted in the title.

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> from fastloss import plot
    >>> alphas, betas = np.linspace(-1, 1, 9), np.linspace(-1, 1, 5)
    >>> J = alphas[:, None] ** 2 - betas[None, :] ** 2
    >>> fig = plot.surface3d(SimpleNamespace(alphas=alphas, betas=betas, values=J))
    >>> fig.axes[0].get_zlabel()
    'J'
    """
    plt = _pyplot()
    fmt = _save_format(path)
    alphas, betas, values, n_blank = _grid(res)
    fig, ax = _figure(plt, (7.0, 5.6), projection="3d")
    grid_a, grid_b = np.meshgrid(alphas, betas, indexing="ij")
    surf = ax.plot_surface(grid_a, grid_b, values, cmap=_CMAP, linewidth=0,
                           antialiased=True, rcount=min(alphas.size, 101),
                           ccount=min(betas.size, 101))
    fig.colorbar(surf, ax=ax, shrink=0.6, pad=0.1, label="J")
    _plane_labels(ax, res)
    ax.set_zlabel("J")
    _title(ax, "Loss surface J(θ + α·d1 + β·d2)", res, n_blank, values.size)
    return _finish(fig, path, fmt)


def curve(line, path=None):
    """J along the line (1 - α)·θa + α·θb (Goodfellow et al. 2015), α = 0 and 1 marked.

    Parameters
    ----------
    line : LineResult
        From `fastloss.landscape.interpolate`, or any object with ``alphas`` (m,),
        strictly increasing, m >= 2, and ``values`` (m,). α outside [0, 1] is
        extrapolation beyond θa or θb.
    path : str or os.PathLike, optional
        Where to save the picture: ``.png`` or ``.svg``.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    α = 0 (θa) and α = 1 (θb) get a dashed vertical line when inside the range of
    ``alphas``, and a dot at J linearly interpolated between the neighbouring grid
    points when those are finite. Non-finite values are gaps in the curve, counted in
    the title.

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> from fastloss import plot
    >>> alphas = np.linspace(-0.5, 1.5, 41)
    >>> fig = plot.curve(SimpleNamespace(alphas=alphas, values=(alphas - 1) ** 2))
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['J', 'θa (α = 0)', 'θb (α = 1)']
    """
    plt = _pyplot()
    fmt = _save_format(path)
    alphas = _axis(line.alphas, "line.alphas")
    values = np.array(line.values, dtype=np.float64)
    if values.shape != alphas.shape:
        raise ValueError(f"line.values must have the shape of line.alphas "
                         f"{alphas.shape}, got {values.shape}")
    blank = ~np.isfinite(values)
    if blank.all():
        raise ValueError("line.values has no finite value to draw")
    values[blank] = np.nan
    fig, ax = _figure(plt, (6.4, 4.2))
    ax.plot(alphas, values, "-", color="C0", lw=1.8, label="J")
    for alpha, name, colour in ((0.0, "θa", "C2"), (1.0, "θb", "C3")):
        if not alphas[0] <= alpha <= alphas[-1]:
            continue
        ax.axvline(alpha, color=colour, ls="--", lw=1.0, label=f"{name} (α = {alpha:g})")
        at = np.interp(alpha, alphas, values)  # NaN when a neighbour is NaN
        if np.isfinite(at):
            ax.plot([alpha], [at], "o", color=colour, ms=7)
    ax.set_xlabel("α")
    ax.set_ylabel("J((1 − α)·θa + α·θb)")
    title = "Loss along the line from θa (α = 0) to θb (α = 1)"
    if blank.any():
        title += f"\n{int(blank.sum())} of {values.size} points not finite (gaps)"
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _finish(fig, path, fmt)


def trajectory(pca, res, path=None):
    """A training trajectory over the contours of the loss on its PCA plane.

    Parameters
    ----------
    pca : PCAResult
        From `fastloss.landscape.pca_directions`, or any object with ``coords``
        (T, 2), the snapshots' coordinates relative to the final parameters, and
        ``explained_variance_ratio`` (2,), which goes into the axis labels.
    res : SurfaceResult
        The surface computed around ``pca.center`` along ``pca.directions``, so that its
        (α, β) are the trajectory's PC1 and PC2 coordinates; drawn as in `contour` with
        "log" levels.
    path : str or os.PathLike, optional
        Where to save the picture: ``.png`` or ``.svg``.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    The start of the trajectory is a circle, its end (the final parameters, the plane's
    origin) a star; the axes grow to show the whole path.

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> from fastloss import plot
    >>> t = np.linspace(1, 0, 20)
    >>> pca = SimpleNamespace(coords=np.c_[t, 0.3 * np.sin(3 * t)],
    ...                       explained_variance_ratio=np.array([0.9, 0.08]))
    >>> g = np.linspace(-1.2, 1.2, 25)
    >>> res = SimpleNamespace(alphas=g, betas=g, values=1 + g[:, None] ** 2 + g ** 2)
    >>> fig = plot.trajectory(pca, res)
    >>> fig.axes[0].get_xlabel()
    'PC1 (90.0% of the variance)'
    """
    plt = _pyplot()
    fmt = _save_format(path)
    paths = _paths(pca, "pca.coords")
    ratio = np.asarray(pca.explained_variance_ratio, dtype=np.float64)
    if ratio.shape != (2,) or not np.all(np.isfinite(ratio)):
        raise ValueError(f"pca.explained_variance_ratio must be 2 finite numbers, "
                         f"got {pca.explained_variance_ratio!r}")
    alphas, betas, values, n_blank = _grid(res)
    fig, ax = _figure(plt, (6.4, 5.0))
    # The plane's origin is the trajectory's end, already marked by its star.
    _draw_contour(fig, ax, alphas, betas, values, "log", 30, paths, mark_theta=False)
    ax.set_xlabel(f"PC1 ({100 * ratio[0]:.1f}% of the variance)")
    ax.set_ylabel(f"PC2 ({100 * ratio[1]:.1f}% of the variance)")
    _title(ax, "Training trajectory on the PCA plane of its snapshots", res, n_blank,
           values.size)
    return _finish(fig, path, fmt)


def spectrum(eigenvalues, path=None, *, log=False):
    """Hessian eigenvalues as a stem plot, λ_1, λ_2, ... in the order given.

    Parameters
    ----------
    eigenvalues : array_like (k,) or HessianEigs
        The eigenvalues, or a result of `fastloss.landscape.hessian_eigs` (its
        ``values``); at least one, all finite.
    path : str or os.PathLike, optional
        Where to save the picture: ``.png`` or ``.svg``.
    log : bool, default False
        Draw |λ| on a logarithmic axis, negative eigenvalues (directions of negative
        curvature, which the absolute value would hide) in a separate colour. Every
        eigenvalue must then be nonzero.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from fastloss import plot
    >>> fig = plot.spectrum([12.5, 3.0, -0.4], log=True)
    >>> fig.axes[0].get_yscale(), fig.axes[0].get_ylabel()
    ('log', '|λ_k|')
    """
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    fmt = _save_format(path)
    values = np.asarray(getattr(eigenvalues, "values", eigenvalues), dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"eigenvalues must be a non-empty 1-D array, got shape "
                         f"{values.shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"eigenvalues must be finite, got {values}")
    if log and np.any(values == 0):
        raise ValueError(f"log=True needs nonzero eigenvalues; eigenvalue "
                         f"{int(np.flatnonzero(values == 0)[0]) + 1} is 0")
    index = np.arange(1, values.size + 1)
    heights = np.abs(values) if log else values
    bottom = heights.min() / 10 if log else 0.0
    fig, ax = _figure(plt, (6.4, 4.2))
    for chosen, colour, label in ((values >= 0, "C0", "λ ≥ 0"),
                                  (values < 0, "C3", "λ < 0 (|λ| shown)" if log
                                   else "λ < 0")):
        if chosen.any():
            stems = ax.stem(index[chosen], heights[chosen], bottom=bottom, basefmt=" ",
                            linefmt=colour + "-", markerfmt=colour + "o", label=label)
            stems.baseline.set_visible(False)
    if log:
        ax.set_yscale("log")
    else:
        ax.axhline(0.0, color="0.4", lw=0.8)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(0.5, values.size + 0.5)
    ax.set_xlabel("k")
    ax.set_ylabel("|λ_k|" if log else "λ_k")
    ax.set_title("Hessian eigenvalues", fontsize=10)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8)
    return _finish(fig, path, fmt)
