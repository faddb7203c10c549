"""Datasets for training small models, all in the package (nothing is downloaded).

Seeded generators of toy problems (`make_moons`, `make_spirals`, `make_blobs`,
`make_regression`), Fisher's Iris data (`load_iris`), loaders for a user's CSV or .npz
file, `load_dataset` to get any of the built-in ones by name, and `train_test_split`.
Features are float64 unless a `dtype` says float32; class labels are int64, 0..k-1.

Examples
--------
>>> from fastloss.datasets import load_dataset, train_test_split
>>> X, y = load_dataset("spirals", n_samples=200, arms=3, noise=0.1, seed=0)
>>> X_train, X_test, y_train, y_test = train_test_split(X, y, seed=0, stratify=True)
>>> X_train.shape, X_test.shape
((150, 2), (50, 2))
"""
import inspect

from ._common import Dataset
from ._files import load_csv, load_iris, load_npz
from ._generators import make_blobs, make_moons, make_regression, make_spirals
from ._split import train_test_split

__all__ = ["Dataset", "load_dataset", "load_csv", "load_npz", "load_iris", "make_moons",
           "make_spirals", "make_blobs", "make_regression", "train_test_split"]

_DESCRIPTIONS = {
    "moons": "Two interleaving half circles (make_moons).",
    "spirals": "Interleaved spirals, one class per arm (make_spirals).",
    "blobs": "Isotropic Gaussian clusters, one class per center (make_blobs).",
    "regression": "A noisy linear problem with known coefficients (make_regression).",
}

_LOADERS = {"moons": make_moons, "spirals": make_spirals, "blobs": make_blobs,
            "regression": make_regression, "iris": load_iris}


def load_dataset(name, **options):
    """A built-in dataset by name: "moons", "spirals", "blobs", "regression" or "iris".

    Parameters
    ----------
    name : str
    **options
        Passed to the generator (`make_moons`, `make_spirals`, `make_blobs`,
        `make_regression`) or to `load_iris` (only ``dtype``); each generator's defaults
        apply, including its fixed default seed.

    Returns
    -------
    Dataset
        Unpacks as ``X, y``; ``feature_names``, ``target_names`` (None for regression),
        ``description``, and ``coef`` (the true coefficients, regression only).

    Raises
    ------
    ValueError
        For an unknown name (the message lists the names).
    TypeError
        For an option the dataset does not take (the message lists the ones it does).

    Examples
    --------
    >>> from fastloss.datasets import load_dataset
    >>> data = load_dataset("moons", n_samples=50, noise=0.1)
    >>> data
    Dataset(X: (50, 2) float64, y: (50,) int64, classes=['0', '1'])
    >>> X, y = load_dataset("iris")
    >>> X.shape, y.shape
    ((150, 4), (150,))
    """
    if not isinstance(name, str) or name not in _LOADERS:
        raise ValueError(f"name must be one of {sorted(_LOADERS)}, got {name!r}")
    loader = _LOADERS[name]
    accepted = list(inspect.signature(loader).parameters)
    unknown = [key for key in options if key not in accepted]
    if unknown:
        raise TypeError(f"load_dataset({name!r}) got unknown option {unknown[0]!r}; "
                        f"it takes {accepted}")
    if name == "iris":
        return loader(**options)
    if name == "regression":
        X, y, coef = loader(**options)
        return Dataset(X, y, [f"x{j}" for j in range(X.shape[1])], None,
                       _DESCRIPTIONS[name], coef)
    X, y = loader(**options)
    n_classes = int(y.max()) + 1
    return Dataset(X, y, [f"x{j}" for j in range(X.shape[1])],
                   [str(k) for k in range(n_classes)], _DESCRIPTIONS[name])
