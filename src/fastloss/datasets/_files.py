"""Data from files: a user's CSV or .npz, and the Iris data stored in the package."""
import csv
import os
from importlib import resources

import numpy as np

from ._common import Dataset, check_dtype

__all__ = ["load_csv", "load_npz", "load_iris"]

TARGET_KINDS = ("auto", "classes", "values")


def _check_path(path):
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    return path


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _looks_like_header(first_lines):
    """A header has text where the data below it has numbers (a text column, such as
    class names, says nothing); a lone line is a header when it holds no number."""
    if len(first_lines) == 1:
        return not any(_is_number(f) for f in first_lines[0])
    top, below = first_lines
    return any(not _is_number(a) and _is_number(b) for a, b in zip(top, below))


def _target_index(target_column, names, n_columns):
    if isinstance(target_column, str):
        if names is None:
            raise ValueError(f"target_column={target_column!r} names a column, but the file "
                             f"has no header line")
        if target_column not in names:
            raise ValueError(f"target_column={target_column!r} is not a column of the file; "
                             f"columns: {names}")
        return names.index(target_column)
    if isinstance(target_column, bool) or not isinstance(target_column, (int, np.integer)):
        raise TypeError(f"target_column must be an int, a column name or None, "
                        f"got {target_column!r}")
    if not -n_columns <= target_column < n_columns:
        raise ValueError(f"target_column={target_column} is outside the file's "
                         f"{n_columns} columns")
    return int(target_column) % n_columns


def _encode_classes(values):
    """Labels 0..k-1 in the sorted order of the distinct values (numbers numerically)."""
    if all(_is_number(v) for v in values):
        distinct = sorted(set(values), key=float)
    else:
        distinct = sorted(set(values))
    index = {v: k for k, v in enumerate(distinct)}
    return np.array([index[v] for v in values], dtype=np.int64), distinct


def _target(values, kind, source, dtype):
    numeric = all(_is_number(v) for v in values)
    if kind == "auto":
        kind = "classes" if not numeric or all(float(v).is_integer() for v in values) \
            else "values"
    if kind == "classes":
        return _encode_classes(values)
    if not numeric:
        bad = next(v for v in values if not _is_number(v))
        raise ValueError(f"{source}: target_kind='values' needs numbers in the target "
                         f"column, got {bad!r}")
    return np.array([float(v) for v in values], dtype=dtype), None


def _parse_csv(stream, source, target_column, delimiter, header, target_kind, dtype,
               comments):
    lines = []
    reader = csv.reader(stream, delimiter=delimiter)
    for fields in reader:
        stripped = [f.strip() for f in fields]
        if not any(stripped) or (comments and stripped[0].startswith(comments)):
            continue
        lines.append((reader.line_num, stripped))
    if not lines:
        raise ValueError(f"{source} holds no data")
    if header is None:
        header = _looks_like_header([fields for _, fields in lines[:2]])
    names = lines.pop(0)[1] if header else None
    if not lines:
        raise ValueError(f"{source} has a header line but no data")
    n_columns = len(names) if names is not None else len(lines[0][1])
    for line_num, fields in lines:
        if len(fields) != n_columns:
            raise ValueError(f"{source}, line {line_num}: {len(fields)} fields, expected "
                             f"{n_columns} (as on the first line)")
    target = None if target_column is None else _target_index(target_column, names,
                                                              n_columns)
    features = [j for j in range(n_columns) if j != target]
    if not features:
        raise ValueError(f"{source} has no feature column besides the target")
    X = np.empty((len(lines), len(features)), dtype=np.float64)
    for i, (line_num, fields) in enumerate(lines):
        for col, j in enumerate(features):
            try:
                X[i, col] = float(fields[j])
            except ValueError:
                label = f" ({names[j]!r})" if names is not None else ""
                raise ValueError(f"{source}, line {line_num}, column {j}{label}: cannot read "
                                 f"{fields[j]!r} as a number") from None
    y, target_names = (None, None) if target is None else _target(
        [fields[target] for _, fields in lines], target_kind, source, dtype)
    feature_names = [names[j] for j in features] if names is not None else \
        [f"x{col}" for col in range(len(features))]
    return Dataset(X.astype(dtype), y, feature_names, target_names,
                   description=f"Loaded from {source}.")


def load_csv(path, target_column=-1, *, delimiter=",", header=None, target_kind="auto",
             dtype=np.float64, comments="#"):
    """A table of numbers from a CSV file, as features X and a target y.

    Blank lines and lines starting with `comments` are skipped; every other line must
    have the same number of fields. All columns but the target must hold numbers
    (``nan`` and ``inf`` are read as such; an empty field is an error, not a NaN).

    Parameters
    ----------
    path : str or os.PathLike
        A UTF-8 text file.
    target_column : int, str or None, default -1
        Index of the target column (negative counts from the end), its name in the
        header line, or None for a file without a target (``y`` is then None).
    delimiter : str, default ","
    header : bool or None, default None
        Whether the first line holds column names. None guesses: a header when it has
        text in a column where the second line has a number (or, for a file of one
        line, when no field is a number).
    target_kind : {"auto", "classes", "values"}, default "auto"
        "classes" encodes the target as int64 labels 0..k-1, in the sorted order of its
        distinct values (numerically for numbers), and keeps those values as
        ``target_names``; "values" reads it as numbers of dtype `dtype`; "auto" chooses
        "classes" when the column holds text or only whole numbers, else "values".
    dtype : float32 or float64, default float64
        Dtype of X (and of y for "values").
    comments : str, default "#"

    Returns
    -------
    Dataset
        Unpacks as ``X, y``; also has ``feature_names`` (the header's, else x0, x1, ...)
        and ``target_names``.

    Raises
    ------
    ValueError
        For an empty file, lines of different widths, a feature that is not a number
        (naming the line, the column and the text), or a target column that does not
        exist.

    Examples
    --------
    >>> import io, os, tempfile
    >>> from fastloss.datasets import load_csv
    >>> path = os.path.join(tempfile.mkdtemp(), "pets.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("weight,height,animal\\n4.0,25,cat\\n30.5,60,dog\\n3.5,23,cat\\n")
    >>> X, y = load_csv(path, target_column="animal")
    >>> X.tolist(), y.tolist(), load_csv(path).target_names
    ([[4.0, 25.0], [30.5, 60.0], [3.5, 23.0]], [0, 1, 0], ['cat', 'dog'])
    """
    path = _check_path(path)
    if target_kind not in TARGET_KINDS:
        raise ValueError(f"target_kind must be one of {TARGET_KINDS}, got {target_kind!r}")
    if header not in (None, True, False):
        raise TypeError(f"header must be True, False or None, got {header!r}")
    dtype = check_dtype(dtype)
    with open(path, newline="", encoding="utf-8") as stream:
        return _parse_csv(stream, os.fsdecode(path), target_column, delimiter, header,
                          target_kind, dtype, comments)


def load_npz(path, x_key="X", y_key="y", *, dtype=np.float64):
    """Features and targets from a NumPy ``.npz`` archive (as written by ``np.savez``).

    Parameters
    ----------
    path : str or os.PathLike
    x_key : str, default "X"
        Name of the (n_samples, n_features) feature array in the archive.
    y_key : str or None, default "y"
        Name of the (n_samples,) target array; None to load X alone (``y`` is None).
    dtype : float32 or float64, default float64
        Dtype of X, and of y when y holds floats; integer targets become int64 labels
        unchanged.

    Returns
    -------
    Dataset
        Unpacks as ``X, y``.

    Raises
    ------
    ValueError
        If the file is not an .npz archive, a key is missing (the message lists the
        keys present), X is not 2-D or y is not 1-D with one entry per row of X.
    TypeError
        If X or y is not numeric (object arrays are never unpickled).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from fastloss.datasets import load_npz
    >>> path = os.path.join(tempfile.mkdtemp(), "data.npz")
    >>> np.savez(path, X=np.arange(6).reshape(3, 2), y=np.array([0, 1, 1]))
    >>> X, y = load_npz(path)
    >>> X.dtype.name, X.shape, y.tolist()
    ('float64', (3, 2), [0, 1, 1])
    """
    path = _check_path(path)
    dtype = check_dtype(dtype)
    source = os.fsdecode(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise ValueError(f"{source} is not a NumPy .npz archive ({exc})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{source} holds a single array, not an .npz archive; "
                         f"use numpy.load")
    with archive:
        arrays = {}
        for name, key in (("x_key", x_key), ("y_key", y_key)):
            if key is None and name == "y_key":
                continue
            if key not in archive.files:
                raise ValueError(f"{name}={key!r} is not in {source}; it holds "
                                 f"{sorted(archive.files)}")
            try:
                arrays[name] = archive[key]
            except ValueError:
                raise TypeError(f"{name}={key!r} in {source} is an object array; only "
                                f"numeric arrays are loaded") from None
    X = arrays["x_key"]
    if X.dtype.kind not in "fiu":
        raise TypeError(f"{x_key!r} in {source} must be numeric, got dtype {X.dtype.name}")
    if X.ndim != 2:
        raise ValueError(f"{x_key!r} in {source} must be 2-D (n_samples, n_features), "
                         f"got shape {X.shape}")
    y = arrays.get("y_key")
    if y is not None:
        if y.dtype.kind not in "fiu":
            raise TypeError(f"{y_key!r} in {source} must be numeric, got dtype "
                            f"{y.dtype.name}")
        if y.shape != (X.shape[0],):
            raise ValueError(f"{y_key!r} in {source} must have shape ({X.shape[0]},), one "
                             f"entry per row of {x_key!r}, got {y.shape}")
        y = y.astype(np.int64 if y.dtype.kind in "iu" else dtype)
    feature_names = [f"x{j}" for j in range(X.shape[1])]
    return Dataset(np.ascontiguousarray(X, dtype=dtype), y, feature_names,
                   description=f"Loaded from {source}.")


IRIS_DESCRIPTION = """\
Fisher's Iris data: 150 flowers, 50 of each species (setosa, versicolor, virginica),
four measurements in cm (sepal length, sepal width, petal length, petal width).
Source: R. A. Fisher (1936), "The use of multiple measurements in taxonomic problems",
Annals of Eugenics 7(2), 179-188; UCI Machine Learning Repository (Iris). Values as
distributed with scikit-learn, which follow Fisher's paper (two entries differ from the
UCI file: rows 35 and 38). Public domain."""


def load_iris(dtype=np.float64):
    """Fisher's Iris data, stored in the package (no download).

    150 flowers, 50 of each of three species, four measurements in centimetres. Setosa
    is linearly separable from the other two; versicolor and virginica overlap.

    Source: R. A. Fisher (1936), "The use of multiple measurements in taxonomic
    problems", Annals of Eugenics 7(2), 179-188; UCI Machine Learning Repository. The
    values are those distributed with scikit-learn, which follow Fisher's paper (they
    differ from the UCI file in rows 35 and 38). Public domain.

    Parameters
    ----------
    dtype : float32 or float64, default float64

    Returns
    -------
    Dataset
        X of shape (150, 4), y int64 labels 0 (setosa), 1 (versicolor), 2 (virginica),
        in the original order (50 of each, by species).

    Examples
    --------
    >>> from fastloss.datasets import load_iris
    >>> iris = load_iris()
    >>> iris.X.shape, iris.target_names, iris.feature_names[0]
    ((150, 4), ['setosa', 'versicolor', 'virginica'], 'sepal_length')
    >>> iris.X[0].tolist(), int(iris.y[0])
    ([5.1, 3.5, 1.4, 0.2], 0)
    """
    dtype = check_dtype(dtype)
    data = resources.files(__package__).joinpath("iris.csv")
    with data.open("r", newline="", encoding="utf-8") as stream:
        dataset = _parse_csv(stream, "iris.csv", "species", ",", True, "classes", dtype, "#")
    dataset.description = IRIS_DESCRIPTION
    return dataset
