"""Directions of parameter space to draw a landscape along: random and from a trajectory."""
import numpy as np

from ._checks import check_positive_int

__all__ = ["random_directions", "pca_directions", "PCAResult"]

_NORMALIZATIONS = ("filter", "layer", "none")


def _blocks(model_or_params):
    """[(array, is_bias)] of the parameters, in flat order, and the dtype of theta."""
    if hasattr(model_or_params, "named_parameters") and hasattr(model_or_params, "bias_mask"):
        arrays = [np.asarray(a) for _, a in model_or_params.named_parameters()]
        biases = list(model_or_params.bias_mask())
    elif isinstance(model_or_params, (list, tuple)) and model_or_params:
        arrays = [np.asarray(a) for a in model_or_params]
        biases = [a.ndim <= 1 for a in arrays]
    else:
        raise TypeError(f"model_or_params must be a fastloss.nn model (with "
                        f"named_parameters() and bias_mask()) or a non-empty list of "
                        f"parameter arrays, got {type(model_or_params).__name__}")
    for k, a in enumerate(arrays):
        if a.dtype.kind != "f":
            raise TypeError(f"parameter {k} has dtype {a.dtype}, not a float dtype")
        if not np.isfinite(a).all():
            raise ValueError(f"parameter {k} (shape {a.shape}) is not finite")
    if sum(a.size for a in arrays) == 0:
        raise ValueError("the model has no parameters")
    return arrays, biases, np.result_type(*arrays)


def _rescale_rows(direction, weight):
    """Rescale each row of `direction` (rows, cols) to the norm of the same row of
    `weight`; a zero row of `direction` stays zero."""
    target = np.linalg.norm(weight, axis=1)
    norm = np.linalg.norm(direction, axis=1)
    scale = np.divide(target, norm, out=np.zeros_like(norm), where=norm > 0)
    return direction * scale[:, None]


def random_directions(model_or_params, k=2, normalization="filter", ignore_biases=True,
                      seed=None):
    """Gaussian directions of parameter space, normalized to the parameters' scale.

    Each direction is drawn from a standard normal distribution (never uniform), one
    array per parameter, then rescaled (Li et al. 2018, "Visualizing the Loss Landscape
    of Neural Nets"):

    - ``"filter"``: each filter of a weight (a row of a Linear weight ``(out, in)``, the
      slice ``w[i]`` of a higher-dimensional one) gets the norm of the same filter of the
      parameters, so the landscape does not depend on the scale of each filter (which a
      ReLU network does not depend on either);
    - ``"layer"``: each parameter array gets the norm of that array of the parameters;
    - ``"none"``: the Gaussian draw as it is.

    Biases (``model.bias_mask()``; for a list of arrays, the 1-D ones) are zeroed when
    `ignore_biases`, else normalized as one block (the bias vector gets the norm of the
    parameters' bias vector) by "filter" and "layer": each entry is rescaled exactly once.
    The draw does not depend on `normalization` or `ignore_biases`: with the same seed the
    weights' directions are the same.

    Parameters
    ----------
    model_or_params : fastloss.nn model, or list of arrays
        Supplies the blocks and their norms (the current parameters, theta).
    k : int >= 1, default 2
    normalization : {"filter", "layer", "none"}, default "filter"
    ignore_biases : bool, default True
    seed : int, numpy.random.Generator or None
        The same int gives the same directions. Record it with the surface
        (``surface(..., seed=seed, normalization=normalization)``).

    Returns
    -------
    list of k ndarrays (n,)
        Flat like ``model.get_flat()`` (the concatenated raveled arrays), in the
        parameters' dtype.

    Raises
    ------
    TypeError, ValueError
        Not a model nor a list of float arrays, non-finite parameters, k < 1, an unknown
        normalization.

    Examples
    --------
    >>> import numpy as np
    >>> from fastloss import landscape
    >>> W, b = np.array([[3.0, 4.0], [0.0, 2.0]]), np.array([1.0, 1.0])
    >>> d1, d2 = landscape.random_directions([W, b], seed=0)
    >>> np.linalg.norm(d1[:4].reshape(2, 2), axis=1).round(12).tolist(), d1[4:].tolist()
    ([5.0, 2.0], [0.0, 0.0])
    """
    arrays, biases, dtype = _blocks(model_or_params)
    k = check_positive_int("k", k)
    if normalization not in _NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {_NORMALIZATIONS}, got "
                         f"{normalization!r}")
    rng = np.random.default_rng(seed)
    sizes = [a.size for a in arrays]
    directions = []
    for _ in range(k):
        draw = rng.standard_normal(sum(sizes))
        pieces = np.split(draw, np.cumsum(sizes)[:-1])
        out = []
        for piece, array, is_bias in zip(pieces, arrays, biases):
            theta_block = np.asarray(array, dtype=np.float64)
            if is_bias and ignore_biases:
                piece = np.zeros_like(piece)
            elif normalization == "filter" and array.ndim >= 2 and not is_bias:
                rows = array.shape[0]
                piece = _rescale_rows(piece.reshape(rows, -1),
                                      theta_block.reshape(rows, -1)).ravel()
            elif normalization != "none":  # "layer", and one-block arrays under "filter"
                piece = _rescale_rows(piece[None, :], theta_block.reshape(1, -1)).ravel()
            out.append(piece)
        directions.append(np.concatenate(out).astype(dtype))
    return directions


class PCAResult:
    """The plane of a training trajectory (see `pca_directions`).

    Attributes
    ----------
    directions : ndarray (2, n) float64
        Orthonormal rows: the top two principal directions.
    explained_variance_ratio : ndarray (2,)
        Share of the variance of the centred differences along each direction.
    coords : ndarray (T, 2)
        ``(theta_t - theta_final) @ directions.T``: the trajectory in the plane, the
        final point at the origin.
    center : ndarray (n,)
        theta_final, the last snapshot (centre the surface there).
    """

    def __init__(self, directions, explained_variance_ratio, coords, center):
        self.directions = directions
        self.explained_variance_ratio = explained_variance_ratio
        self.coords, self.center = coords, center

    def __repr__(self):
        ratio = np.round(self.explained_variance_ratio, 4).tolist()
        return (f"PCAResult({self.coords.shape[0]} snapshots of {self.center.size} "
                f"parameters, explained_variance_ratio={ratio})")


def pca_directions(trajectory):
    """The plane that holds most of a training trajectory (Li et al. 2018, section 7).

    The differences ``theta_t - theta_final`` of the snapshots are centred on their mean
    and decomposed (SVD); the two leading right singular vectors are the directions, each
    signed so that its largest-magnitude entry is positive. The trajectory's coordinates
    are the projections of the (uncentred) differences, so the final point is at (0, 0).

    Parameters
    ----------
    trajectory : array_like (T, n), or an object with ``.snapshots`` (`train.History`)
        The parameters at T >= 3 moments of training, the last one final; finite.

    Returns
    -------
    PCAResult
        ``.directions`` (2, n), ``.explained_variance_ratio`` (2,), ``.coords`` (T, 2),
        ``.center`` (n,).

    Raises
    ------
    ValueError
        Not 2-D, fewer than 3 snapshots or 2 parameters, non-finite entries, or a
        trajectory that does not span a plane (it stays on a line or a point).

    Examples
    --------
    >>> import numpy as np
    >>> from fastloss import landscape
    >>> steps = np.array([[4.0, 2.0, 0.0], [2.0, 1.0, 0.0], [1.0, 0.0, 0.0],
    ...                   [0.0, 0.0, 0.0]])
    >>> pca = landscape.pca_directions(steps)
    >>> np.abs(pca.directions[:, 2]).tolist(), pca.coords[-1].tolist()
    ([0.0, 0.0], [0.0, 0.0])
    """
    snapshots = getattr(trajectory, "snapshots", trajectory)
    traj = np.asarray(snapshots)
    if traj.dtype.kind not in "iuf":
        raise TypeError(f"trajectory must be an array of numbers, got dtype {traj.dtype}")
    traj = traj.astype(np.float64)
    if traj.ndim != 2 or traj.shape[0] < 3 or traj.shape[1] < 2:
        raise ValueError(f"trajectory must be 2-D (snapshots, parameters) with at least 3 "
                         f"snapshots and 2 parameters, got shape {traj.shape}")
    if not np.isfinite(traj).all():
        raise ValueError("trajectory must be finite (a diverged run has inf or NaN "
                         "parameters)")
    center = traj[-1].copy()
    diffs = traj - center
    _, singular, vt = np.linalg.svd(diffs - diffs.mean(axis=0), full_matrices=False)
    if singular[1] <= np.finfo(np.float64).eps * max(traj.shape) * singular[0]:
        raise ValueError(f"the trajectory does not span a plane (singular values "
                         f"{singular[:2].tolist()}): it stays on a line or at one point")
    directions = vt[:2].copy()
    largest = np.argmax(np.abs(directions), axis=1)
    directions *= np.sign(directions[np.arange(2), largest])[:, None]
    variance = singular ** 2
    return PCAResult(directions, variance[:2] / variance.sum(), diffs @ directions.T, center)
