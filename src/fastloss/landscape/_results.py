"""Results of the landscape functions, and their files (.npz, HDF5)."""
import hashlib
import json
import os

import numpy as np

__all__ = ["LineResult", "SurfaceResult", "SurfaceError", "load"]

_FORMAT = "fastloss.landscape.surface/1"


def theta_hash(theta):
    """sha256 (hex) of theta's bytes, which names the point a surface is centred on."""
    return hashlib.sha256(np.ascontiguousarray(theta).tobytes()).hexdigest()


class SurfaceError(RuntimeError):
    """The objective raised (or returned no number) at some points of a line or grid.

    Attributes
    ----------
    result : LineResult or SurfaceResult
        Everything that was computed; the failed points are NaN in ``result.values``,
        True in ``result.missing`` and described in ``result.errors``.
    """

    def __init__(self, result):
        self.result = result
        errors = result.errors
        first = next(iter(errors))
        super().__init__(
            f"the objective failed at {len(errors)} of {result.missing.size} points "
            f"(first at {_point_name(result, first)}: {errors[first]}); the other points "
            f"were computed and are in this error's .result")


def _point_name(result, point):
    if isinstance(result, LineResult):
        return f"index {point} (alpha={result.alphas[point]!r})"
    i, j = point
    return f"(i, j) = ({i}, {j}) (alpha={result.alphas[i]!r}, beta={result.betas[j]!r})"


class LineResult:
    """J along a line: ``values[i] = J((1 - alphas[i]) theta_a + alphas[i] theta_b)``.

    Attributes
    ----------
    alphas : ndarray (m,) float64
    values : ndarray (m,) float64
        NaN where the objective failed (see `missing`, `errors`) or returned NaN.
    accuracy : ndarray (m,) float64 or None
        When the objective returns ``{"loss": ..., "accuracy": ...}``.
    missing : ndarray (m,) bool
        Points not computed.
    errors : dict {i: str}
        Why each missing point is missing.
    """

    def __init__(self, alphas, values, accuracy, missing, errors):
        self.alphas, self.values, self.accuracy = alphas, values, accuracy
        self.missing, self.errors = missing, errors

    def __repr__(self):
        return (f"LineResult({self.values.size} points, {int(self.missing.sum())} missing, "
                f"min={np.nanmin(self.values) if not self.missing.all() else np.nan!r})")


class SurfaceResult:
    """J on a grid of the plane ``theta + alpha d1 + beta d2``.

    Attributes
    ----------
    values : ndarray (len(alphas), len(betas)) float64
        ``values[i, j] = J(theta + alphas[i] d1 + betas[j] d2)`` ("ij" indexing: draw
        with ``contour(alphas, betas, values.T)``). NaN where a point was not computed
        (`missing`) or where the objective returned NaN.
    accuracy : ndarray like `values`, or None
        When the objective returns ``{"loss": ..., "accuracy": ...}``.
    alphas, betas : ndarray float64
        The axes.
    seed, normalization : as given to `surface` (those of the directions), or None
    theta_hash : str
        sha256 (hex) of theta's bytes.
    description : dict
        Free text about the objective and data (JSON-serialisable).
    missing : ndarray bool like `values`
        Points not computed.
    errors : dict {(i, j): str}
        Why each missing point is missing.
    """

    def __init__(self, values, accuracy, alphas, betas, *, seed=None, normalization=None,
                 theta_hash="", description=None, missing=None, errors=None):
        self.values, self.accuracy, self.alphas, self.betas = values, accuracy, alphas, betas
        self.seed, self.normalization = seed, normalization
        self.theta_hash = theta_hash
        self.description = {} if description is None else description
        self.missing = np.zeros(values.shape, dtype=bool) if missing is None else missing
        self.errors = {} if errors is None else errors

    def __repr__(self):
        return (f"SurfaceResult({self.values.shape[0]}x{self.values.shape[1]} grid, "
                f"{int(self.missing.sum())} missing, normalization={self.normalization!r}, "
                f"seed={self.seed!r}, theta_hash={self.theta_hash[:12]!r}...)")

    def _arrays(self):
        arrays = {"values": self.values, "alphas": self.alphas, "betas": self.betas,
                  "missing": self.missing}
        if self.accuracy is not None:
            arrays["accuracy"] = self.accuracy
        return arrays

    def _meta(self):
        return json.dumps({"format": _FORMAT, "seed": self.seed,
                           "normalization": self.normalization,
                           "theta_hash": self.theta_hash, "description": self.description,
                           "errors": [[i, j, m] for (i, j), m in self.errors.items()]})

    def save(self, path):
        """Write to `path`: ``.npz`` (NumPy), or ``.h5``/``.hdf5`` (needs h5py). Read back
        with `fastloss.landscape.load`. Returns the path."""
        path = os.fspath(path)
        kind = _file_kind(path)
        meta = self._meta()
        if kind == "npz":
            with open(path, "wb") as fh:  # np.savez would append ".npz" to other names
                np.savez(fh, meta=np.array(meta), **self._arrays())
        else:
            h5py = _import_h5py(path)
            with h5py.File(path, "w") as fh:
                fh.attrs["meta"] = meta
                for name, array in self._arrays().items():
                    fh.create_dataset(name, data=array)
        return path


def _file_kind(path):
    ext = os.path.splitext(path)[1].lower()
    if ext == ".npz":
        return "npz"
    if ext in (".h5", ".hdf5"):
        return "hdf5"
    raise ValueError(f"path must end with .npz, .h5 or .hdf5, got {path!r}")


def _import_h5py(path):
    try:
        import h5py
    except ImportError:
        raise ImportError(f"writing or reading {path!r} needs h5py (pip install h5py); "
                          f"use a .npz path without it") from None
    return h5py


def load(path):
    """Read a `SurfaceResult` written by `SurfaceResult.save` (.npz, .h5 or .hdf5)."""
    path = os.fspath(path)
    if _file_kind(path) == "npz":
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        meta = str(arrays.pop("meta"))
    else:
        h5py = _import_h5py(path)
        with h5py.File(path, "r") as fh:
            arrays = {name: fh[name][()] for name in fh.keys()}
            meta = fh.attrs["meta"]
    meta = json.loads(meta)
    if meta.get("format") != _FORMAT:
        raise ValueError(f"{path!r} is not a fastloss landscape surface file "
                         f"(format {meta.get('format')!r}, expected {_FORMAT!r})")
    return SurfaceResult(arrays["values"], arrays.get("accuracy"), arrays["alphas"],
                         arrays["betas"], seed=meta["seed"],
                         normalization=meta["normalization"], theta_hash=meta["theta_hash"],
                         description=meta["description"], missing=arrays["missing"],
                         errors={(i, j): m for i, j, m in meta["errors"]})
