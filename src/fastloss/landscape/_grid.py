"""J along a line and on a plane of parameter space, serially or on an executor.

Every path evaluates a point the same way: the same module-level function builds the
parameter vector from the same arrays with the same NumPy operations, so a grid is
bitwise the same whether it was computed here, in a thread pool, in worker processes or
on a Dask cluster (the objective itself being deterministic).
"""
import json
import math
import numbers
import pickle
import sys
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from .._config import resolve_threads
from ._checks import as_axis, as_parameter_vector
from ._results import LineResult, SurfaceError, SurfaceResult, theta_hash

__all__ = ["interpolate", "surface"]

# At most this many tasks go to an executor: enough to balance a few dozen workers, few
# enough that sending the objective with each task stays cheap.
_MAX_TASKS = 64


def _line_point(arrays, alphas, _betas, index):
    theta_a, theta_b = arrays
    alpha = float(alphas[index])
    return (1.0 - alpha) * theta_a + alpha * theta_b


def _grid_point(arrays, alphas, betas, index):
    theta, d1, d2 = arrays
    i, j = divmod(index, betas.size)
    return theta + float(alphas[i]) * d1 + float(betas[j]) * d2


def _as_number(name, value):
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(())[()]
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"the objective returned {type(value).__name__} {value!r} as the "
                        f"{name}, not a real number")
    return float(value)


def _evaluate(f, theta):
    """(loss, accuracy or None, None) at theta, or (nan, None, why) when f fails."""
    try:
        out = f(theta)
        if isinstance(out, Mapping):
            if "loss" not in out:
                raise TypeError(f"the objective returned a dict without 'loss' (keys "
                                f"{sorted(out)})")
            accuracy = out.get("accuracy")
            return (_as_number("loss", out["loss"]),
                    None if accuracy is None else _as_number("accuracy", accuracy), None)
        return _as_number("loss", out), None, None
    except Exception as exc:  # the failure of one point is recorded, not fatal
        return math.nan, None, f"{type(exc).__name__}: {exc}"


def _evaluate_points(f, make_point, arrays, alphas, betas, indices):
    """One task: the listed points, in order (runs wherever the executor puts it)."""
    return [_evaluate(f, make_point(arrays, alphas, betas, index)) for index in indices]


class _Progress:
    """"done/total points" rewritten in place on stderr, when stderr is a terminal."""

    def __init__(self, enabled, total, what):
        self.enabled = bool(enabled) and hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
        self.total, self.what, self.done = total, what, 0

    def advance(self, n):
        self.done += n
        if self.enabled:
            end = "\n" if self.done == self.total else ""
            sys.stderr.write(f"\r{self.what}: {self.done}/{self.total} points{end}")
            sys.stderr.flush()


def _check_executor(executor, f):
    if not callable(getattr(executor, "submit", None)):
        raise TypeError(f"executor must be a concurrent.futures.Executor or a "
                        f"dask.distributed Client (an object with .submit), got "
                        f"{type(executor).__name__}")
    if isinstance(executor, ProcessPoolExecutor):
        try:
            pickle.dumps(f)
        except Exception as exc:
            raise TypeError(f"the objective {f!r} cannot be pickled ({exc}), so it cannot "
                            f"run in a process pool: define it at module level, or use a "
                            f"thread pool or a dask Client (which uses cloudpickle)") from None


def _run(f, make_point, arrays, alphas, betas, n_points, executor, progress, what):
    """Every point's (loss, accuracy or None, error or None), in index order."""
    bar = _Progress(progress, n_points, what)
    if executor is None:
        outcomes = []
        for index in range(n_points):
            outcomes += _evaluate_points(f, make_point, arrays, alphas, betas, [index])
            bar.advance(1)
        return outcomes
    _check_executor(executor, f)
    size = -(-n_points // _MAX_TASKS)
    chunks = [range(start, min(start + size, n_points)) for start in range(0, n_points, size)]
    if callable(getattr(executor, "scatter", None)):
        # dask: send the objective and the arrays to the workers once, not with each task
        f_ref, arrays_ref = executor.scatter([f, arrays], broadcast=True, hash=False)
        futures = [executor.submit(_evaluate_points, f_ref, make_point, arrays_ref, alphas,
                                   betas, list(chunk), pure=False) for chunk in chunks]
    else:
        futures = [executor.submit(_evaluate_points, f, make_point, arrays, alphas, betas,
                                   list(chunk)) for chunk in chunks]
    outcomes = []
    for chunk, future in zip(chunks, futures):
        try:
            outcomes += future.result()
        except Exception as exc:  # a lost worker or a failed transfer loses its task only
            why = f"the executor failed on this task: {type(exc).__name__}: {exc}"
            outcomes += [(math.nan, None, why)] * len(chunk)
        bar.advance(len(chunk))
    return outcomes


def _collect(outcomes, shape, point_of):
    values = np.array([loss for loss, _, _ in outcomes], dtype=np.float64).reshape(shape)
    accuracy = None
    if any(acc is not None for _, acc, _ in outcomes):
        accuracy = np.array([math.nan if acc is None else acc for _, acc, _ in outcomes],
                            dtype=np.float64).reshape(shape)
    missing = np.array([why is not None for _, _, why in outcomes]).reshape(shape)
    errors = {point_of(k): why for k, (_, _, why) in enumerate(outcomes) if why is not None}
    return values, accuracy, missing, errors


def _check_on_error(on_error):
    if on_error not in ("raise", "return"):
        raise ValueError(f"on_error must be 'raise' or 'return', got {on_error!r}")


def interpolate(f, theta_a, theta_b, alphas, executor=None, progress=True, *,
                on_error="raise"):
    """J along the line through two parameter vectors (Goodfellow et al. 2015).

    ``values[i] = f((1 - alphas[i]) theta_a + alphas[i] theta_b)``: alpha = 0 is
    `theta_a`, 1 is `theta_b`; alphas outside [0, 1] extrapolate.

    Parameters
    ----------
    f : callable theta -> float, or -> {"loss": float, "accuracy": float}
        The objective; it receives a fresh 1-D array of theta_a's dtype at each point.
    theta_a, theta_b : array_like (n,)
        Finite parameter vectors of the same size (theta_b is cast to theta_a's dtype).
    alphas : array_like (m,)
        Finite positions along the line, m >= 1.
    executor, progress, on_error
        As in `surface`.

    Returns
    -------
    LineResult
        ``.alphas``, ``.values``, ``.accuracy``, ``.missing``, ``.errors``.

    Raises
    ------
    ValueError, TypeError
        Bad vectors or alphas (non-finite, wrong sizes, empty).
    SurfaceError
        When f raised at some points (with ``on_error="raise"``); its ``.result`` holds
        every computed point.

    Examples
    --------
    >>> import numpy as np
    >>> from fastloss import landscape
    >>> line = landscape.interpolate(lambda t: float(t @ t), np.zeros(2), np.ones(2),
    ...                              [0.0, 0.5, 1.0, 2.0], progress=False)
    >>> line.values.tolist()
    [0.0, 0.5, 2.0, 8.0]
    """
    _check_on_error(on_error)
    theta_a = as_parameter_vector("theta_a", theta_a)
    theta_b = as_parameter_vector("theta_b", theta_b, theta_a.size, theta_a.dtype)
    alphas = as_axis("alphas", alphas)
    outcomes = _run(f, _line_point, (theta_a, theta_b), alphas, None, alphas.size, executor,
                    progress, "interpolate")
    result = LineResult(alphas, *_collect(outcomes, alphas.shape, int))
    if result.errors and on_error == "raise":
        raise SurfaceError(result)
    return result


def _describe(f):
    """What can be said of the objective and its data without guessing."""
    description = {"objective": getattr(f, "__name__", type(f).__name__)}
    for attribute in ("model", "loss"):
        if hasattr(f, attribute):
            description[attribute] = repr(getattr(f, attribute))
    X = getattr(f, "X", None)
    if isinstance(X, np.ndarray):
        description["n_samples"], description["X_shape"] = int(X.shape[0]), list(X.shape)
        description["X_dtype"] = X.dtype.name
    return description


def surface(f, theta, d1, d2, alphas, betas, executor=None, progress=True, *, n_threads=None,
            seed=None, normalization=None, description=None, on_error="raise"):
    """J on a grid of the plane through `theta` spanned by two directions.

    ``values[i, j] = f(theta + alphas[i] * d1 + betas[j] * d2)`` for every pair of grid
    coordinates; any grid shape (non-square included) keeps this "ij" orientation.

    Parameters
    ----------
    f : callable theta -> float, or -> {"loss": float, "accuracy": float}
        The objective; it receives a fresh 1-D array of theta's dtype at each point. An
        objective with a ``_fast_surface`` method (`NetworkObjective`) computes the whole
        grid in one call when no executor is given.
    theta : array_like (n,)
        Finite centre of the plane; float32 and float64 are kept (the points have its
        dtype).
    d1, d2 : array_like (n,)
        Finite directions (e.g. from `random_directions` or `pca_directions`).
    alphas, betas : array_like (m1,), (m2,)
        Finite grid coordinates along d1 and d2, each non-empty.
    executor : concurrent.futures.Executor or dask.distributed.Client, optional
        Runs the grid in at most 64 tasks of consecutive points. A thread pool calls f from
        several threads at once: f must allow it (a `NetworkObjective` serializes its
        calls, since they set its model's parameters: correct, but no faster; use its
        fast path, or processes). A process pool pickles f with every task: f must be
        picklable (a module-level function or a picklable object). A dask Client receives
        f and the vectors once (scattered to every worker) and cloudpickles f. A task whose
        transfer or worker fails marks its points missing, the others are kept.
    progress : bool, default True
        "done/total points" on stderr, when stderr is a terminal.
    n_threads : int, optional
        Threads of the fast path (default `fastloss.get_num_threads()`).
    seed, normalization : optional
        Those the directions were drawn with, recorded in the result.
    description : dict, optional
        JSON-serialisable text about the data, recorded in the result (default: what f
        tells about itself: its type, and its model, loss and X when it has them).
    on_error : {"raise", "return"}, default "raise"
        When f raises (or returns no number) at some points: raise `SurfaceError`, whose
        ``.result`` carries every computed point, or return the result as is.

    Returns
    -------
    SurfaceResult
        NaN and ``missing`` where a point was not computed, with the reason in
        ``errors[(i, j)]``; a NaN returned by f is a value (not missing). Saved with
        ``.save(path)``, read with `load`.

    Raises
    ------
    ValueError, TypeError
        Non-finite theta or directions, directions of the wrong size, empty or non-finite
        axes, a bad executor, an unpicklable f for a process pool, a description that is
        not JSON.
    SurfaceError
        Points failed and ``on_error="raise"``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastloss import landscape
    >>> res = landscape.surface(lambda t: float(t[0] ** 2 + 10 * t[1] ** 2), np.zeros(2),
    ...                         np.array([1.0, 0.0]), np.array([0.0, 1.0]),
    ...                         [-1.0, 0.0, 1.0], [0.0, 1.0], progress=False)
    >>> res.values.tolist()
    [[1.0, 11.0], [0.0, 10.0], [1.0, 11.0]]
    """
    _check_on_error(on_error)
    theta = as_parameter_vector("theta", theta)
    d1 = as_parameter_vector("d1", d1, theta.size, theta.dtype)
    d2 = as_parameter_vector("d2", d2, theta.size, theta.dtype)
    alphas, betas = as_axis("alphas", alphas), as_axis("betas", betas)
    n_threads = resolve_threads(n_threads)
    if description is None:
        description = _describe(f)
    try:
        description = json.loads(json.dumps(description))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"description must be JSON-serialisable, got {description!r}: "
                        f"{exc}") from None
    if not isinstance(description, dict):
        raise TypeError(f"description must be a dict, got {type(description).__name__}")
    shape = (alphas.size, betas.size)
    meta = dict(seed=seed, normalization=normalization, theta_hash=theta_hash(theta),
                description=description)
    if executor is None and hasattr(f, "_fast_surface"):
        values = np.asarray(f._fast_surface(theta, d1, d2, alphas, betas, n_threads),
                            dtype=np.float64)
        if values.shape != shape:
            raise RuntimeError(f"{type(f).__name__}._fast_surface returned shape "
                               f"{values.shape} for a {shape} grid")
        return SurfaceResult(values, None, alphas, betas, **meta)
    outcomes = _run(f, _grid_point, (theta, d1, d2), alphas, betas, alphas.size * betas.size,
                    executor, progress, "surface")
    values, accuracy, missing, errors = _collect(
        outcomes, shape, lambda k: tuple(int(v) for v in divmod(k, betas.size)))
    result = SurfaceResult(values, accuracy, alphas, betas, missing=missing, errors=errors,
                           **meta)
    if errors and on_error == "raise":
        raise SurfaceError(result)
    return result
