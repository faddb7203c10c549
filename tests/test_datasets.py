"""fastloss.datasets: the generators' geometry and seeding, the stored Iris data against
scikit-learn, the CSV and .npz loaders, load_dataset, train_test_split, and bad input."""
import importlib

import numpy as np
import pytest

from fastloss import datasets
from fastloss.datasets import (Dataset, load_csv, load_dataset, load_iris, load_npz,
                               make_blobs, make_moons, make_regression, make_spirals,
                               train_test_split)

from conftest import case

DTYPES = [np.float32, np.float64]
DTYPE_IDS = ["f32", "f64"]
CLASSIFIERS = {
    "moons": lambda **kw: make_moons(101, noise=0.1, **kw),
    "spirals": lambda **kw: make_spirals(301, arms=3, noise=0.05, **kw),
    "blobs": lambda **kw: make_blobs(100, centers=4, std=0.5, **kw),
}


# --- generators ------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
def test_classifiers_shapes_dtypes_and_balanced_labels(name, dtype):
    X, y = CLASSIFIERS[name](seed=1, dtype=dtype)
    n_classes = {"moons": 2, "spirals": 3, "blobs": 4}[name]
    msg = case(name=name, dtype=dtype)
    assert X.dtype == dtype and X.flags.c_contiguous and X.ndim == 2, msg
    assert y.dtype == np.int64 and y.shape == (X.shape[0],), msg
    counts = np.bincount(y)
    assert counts.size == n_classes and counts.max() - counts.min() <= 1, msg


@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
def test_classifiers_are_deterministic_from_the_seed(name):
    X1, y1 = CLASSIFIERS[name](seed=5)
    X2, y2 = CLASSIFIERS[name](seed=5)
    X3, _ = CLASSIFIERS[name](seed=6)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    # a Generator is accepted in place of a seed and draws the same stream
    X4, _ = CLASSIFIERS[name](seed=np.random.default_rng(5))
    np.testing.assert_array_equal(X1, X4)
    # float32 data is the float64 data rounded
    X32, y32 = CLASSIFIERS[name](seed=5, dtype=np.float32)
    np.testing.assert_array_equal(X32, X1.astype(np.float32))
    np.testing.assert_array_equal(y32, y1)
    # None draws fresh entropy
    assert not np.array_equal(CLASSIFIERS[name](seed=None)[0], CLASSIFIERS[name](seed=None)[0])


def test_moons_lie_on_their_half_circles_without_noise():
    X, y = make_moons(51, shuffle=False)
    assert np.bincount(y).tolist() == [26, 25] and y.tolist() == sorted(y.tolist())
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0, rtol=1e-15)
    assert np.all(upper[:, 1] >= -1e-15)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0, rtol=1e-15)
    assert np.all(lower[:, 1] <= 0.5 + 1e-15)
    np.testing.assert_allclose(upper[[0, -1]], [[1.0, 0.0], [-1.0, 0.0]], atol=1e-15)


def test_moons_noise_has_the_requested_spread():
    clean, y = make_moons(4000, shuffle=False)
    noisy, _ = make_moons(4000, noise=0.2, shuffle=False, seed=2)
    spread = float(np.std(noisy - clean))
    assert spread == pytest.approx(0.2, rel=0.05)  # 8000 draws: std within ~2%


@pytest.mark.parametrize("arms", [2, 3, 5])
def test_spiral_arms_follow_the_formula_and_are_rotations(arms):
    turns = 1.5
    X, y = make_spirals(40 * arms, arms=arms, turns=turns, shuffle=False)
    for k in range(arms):
        points = X[y == k]
        r = np.linspace(0.1, 1.0, 40)
        np.testing.assert_allclose(np.hypot(*points.T), r, rtol=1e-14)
        angle = 2 * np.pi * (turns * r + k / arms)
        np.testing.assert_allclose(points, r[:, None] * np.column_stack(
            [np.cos(angle), np.sin(angle)]), atol=1e-15)
        rotation = 2 * np.pi * k / arms
        R = np.array([[np.cos(rotation), -np.sin(rotation)],
                      [np.sin(rotation), np.cos(rotation)]])
        np.testing.assert_allclose(points, X[y == 0] @ R.T, atol=1e-14)


def test_spirals_default_is_the_classic_two_arm_problem():
    X, y = make_spirals()
    assert X.shape == (300, 2) and np.bincount(y).tolist() == [150, 150]


def test_spirals_uneven_split_gives_the_first_arms_the_extra_points():
    _, y = make_spirals(11, arms=3)
    assert np.bincount(y).tolist() == [4, 4, 3]


def test_blobs_with_given_centers_and_stds():
    centers = np.array([[0.0, 0.0, 0.0], [10.0, -5.0, 2.0]])
    X, y = make_blobs(20000, centers=centers, std=[0.5, 2.0], seed=3)
    assert X.shape == (20000, 3)
    for k, s in enumerate([0.5, 2.0]):
        points = X[y == k]
        # mean within 5 standard errors, std within 3 %
        np.testing.assert_allclose(points.mean(axis=0), centers[k], atol=5 * s / 100)
        np.testing.assert_allclose(points.std(axis=0), s, rtol=0.03)


def test_blobs_random_centers_lie_in_the_box():
    X, y = make_blobs(500, centers=5, std=0.0, n_features=4, center_box=(2.0, 3.0), seed=4)
    assert X.shape == (500, 4)
    assert np.all((X >= 2.0) & (X <= 3.0))
    assert len({tuple(row) for row in X}) == 5  # std 0: every point is its center


def test_regression_without_noise_is_exactly_linear():
    X, y, coef = make_regression(200, 5, seed=6, bias=-3.0)
    assert X.shape == (200, 5) and y.shape == (200,) and coef.shape == (5,)
    np.testing.assert_allclose(y, X @ coef - 3.0, rtol=1e-14, atol=1e-13)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_regression_least_squares_recovers_the_coefficients(dtype):
    X, y, coef = make_regression(5000, 3, noise=0.5, seed=7, bias=1.0, dtype=dtype)
    assert X.dtype == y.dtype == coef.dtype == dtype
    A = np.column_stack([X, np.ones(len(y))]).astype(np.float64)
    solution, *_ = np.linalg.lstsq(A, y.astype(np.float64), rcond=None)
    # standard error of each coefficient ~ 0.5 / sqrt(5000) = 0.007
    np.testing.assert_allclose(solution, [*coef, 1.0], atol=0.04)
    assert float(np.std(y - A @ solution)) == pytest.approx(0.5, rel=0.05)


# --- Iris ------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_iris_shape_classes_and_names(dtype):
    iris = load_iris(dtype=dtype)
    assert iris.X.shape == (150, 4) and iris.X.dtype == dtype
    assert iris.y.dtype == np.int64 and np.bincount(iris.y).tolist() == [50, 50, 50]
    assert iris.y.tolist() == [0] * 50 + [1] * 50 + [2] * 50
    assert iris.target_names == ["setosa", "versicolor", "virginica"]
    assert iris.feature_names == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    assert "Fisher" in iris.description and "UCI" in iris.description
    # first row, and rows 35 and 38 as in Fisher's paper (the UCI file differs there)
    np.testing.assert_array_equal(iris.X[[0, 34, 37]], np.array(
        [[5.1, 3.5, 1.4, 0.2], [4.9, 3.1, 1.5, 0.2], [4.9, 3.6, 1.4, 0.1]], dtype=dtype))
    # the Setosa class is linearly separable: petal length < 2.5 exactly for it
    np.testing.assert_array_equal(iris.X[:, 2] < 2.5, iris.y == 0)


def test_iris_matches_scikit_learn():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    reference = sklearn_datasets.load_iris()
    iris = load_iris()
    np.testing.assert_array_equal(iris.X, reference.data)
    np.testing.assert_array_equal(iris.y, reference.target)
    assert iris.target_names == list(reference.target_names)
    np.testing.assert_allclose(iris.X.mean(axis=0), reference.data.mean(axis=0), rtol=1e-15)
    # the column means printed in every description of the dataset
    np.testing.assert_allclose(iris.X.mean(axis=0), [5.8433, 3.0573, 3.7580, 1.1993],
                               atol=5e-5)


def test_iris_file_states_its_source():
    text = importlib.resources.files("fastloss.datasets").joinpath("iris.csv").read_text()
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert any("R. A. Fisher (1936)" in line for line in header)
    assert any("UCI Machine Learning Repository" in line for line in header)
    assert any("scikit-learn" in line for line in header)
    assert "Fisher (1936)" in load_iris.__doc__


def test_iris_through_load_csv_matches_load_iris(tmp_path):
    text = importlib.resources.files("fastloss.datasets").joinpath("iris.csv").read_text()
    path = tmp_path / "iris.csv"
    path.write_text(text)
    data, iris = load_csv(path), load_iris()
    np.testing.assert_array_equal(data.X, iris.X)
    np.testing.assert_array_equal(data.y, iris.y)
    assert data.target_names == iris.target_names


# --- load_dataset ----------------------------------------------------------------------

@pytest.mark.parametrize("name,options,generator", [
    ("moons", dict(n_samples=80, noise=0.1, seed=3), make_moons),
    ("spirals", dict(n_samples=80, noise=0.1, seed=3, arms=4), make_spirals),
    ("blobs", dict(n_samples=80, seed=3), make_blobs),
])
def test_load_dataset_forwards_to_the_generators(name, options, generator):
    data = load_dataset(name, **options)
    X, y = generator(**options)
    assert isinstance(data, Dataset)
    np.testing.assert_array_equal(data.X, X)
    np.testing.assert_array_equal(data.y, y)
    unpacked_X, unpacked_y = data
    assert unpacked_X is data.X and unpacked_y is data.y
    assert data.feature_names == ["x0", "x1"]
    assert data.target_names == [str(k) for k in range(int(y.max()) + 1)]
    assert data.description and data.coef is None


def test_load_dataset_regression_carries_the_coefficients():
    data = load_dataset("regression", n_samples=30, n_features=4, seed=2, dtype=np.float32)
    X, y, coef = make_regression(30, 4, seed=2, dtype=np.float32)
    np.testing.assert_array_equal(data.coef, coef)
    np.testing.assert_array_equal(data.X, X)
    assert data.target_names is None
    assert repr(data) == "Dataset(X: (30, 4) float32, y: (30,) float32)"


def test_load_dataset_iris():
    X, y = load_dataset("iris", dtype=np.float32)
    assert X.dtype == np.float32 and X.shape == (150, 4)
    assert repr(load_dataset("iris")) == (
        "Dataset(X: (150, 4) float64, y: (150,) int64, "
        "classes=['setosa', 'versicolor', 'virginica'])")


# --- load_csv --------------------------------------------------------------------------

def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_load_csv_with_header_comments_and_text_labels(tmp_path):
    path = write(tmp_path, "# a comment\n\na,b,label\n1,2.5,spam\n\n3,-4e2,ham\n5,inf,spam\n")
    data = load_csv(path)
    np.testing.assert_array_equal(data.X, [[1, 2.5], [3, -400], [5, np.inf]])
    assert data.y.tolist() == [1, 0, 1] and data.target_names == ["ham", "spam"]
    assert data.feature_names == ["a", "b"]
    assert str(path) in data.description


def test_load_csv_without_header_and_target_choices(tmp_path):
    path = write(tmp_path, "1;2;3\n4;5;6\n")
    data = load_csv(path, target_column=0, delimiter=";", dtype=np.float32)
    assert data.X.dtype == np.float32 and data.X.tolist() == [[2, 3], [5, 6]]
    assert data.y.tolist() == [0, 1] and data.target_names == ["1", "4"]
    assert data.feature_names == ["x0", "x1"]
    unlabelled = load_csv(path, target_column=None, delimiter=";")
    assert unlabelled.y is None and unlabelled.X.shape == (2, 3)
    values = load_csv(path, target_column=-2, delimiter=";", target_kind="values")
    assert values.y.dtype == np.float64 and values.y.tolist() == [2.0, 5.0]


def test_load_csv_numeric_labels_are_encoded_in_numeric_order(tmp_path):
    path = write(tmp_path, "0.5,10\n0.1,2\n0.2,10\n0.3,-1\n")
    data = load_csv(path)
    assert data.y.tolist() == [2, 1, 2, 0] and data.target_names == ["-1", "2", "10"]


def test_load_csv_fractional_target_is_read_as_values(tmp_path):
    path = write(tmp_path, "x,price\n1,2.5\n2,3.0\n")
    data = load_csv(path, target_column="price")
    assert data.y.dtype == np.float64 and data.y.tolist() == [2.5, 3.0]
    assert data.target_names is None
    forced = load_csv(path, target_kind="classes")
    assert forced.y.tolist() == [0, 1] and forced.target_names == ["2.5", "3.0"]


def test_load_csv_header_can_be_forced(tmp_path):
    path = write(tmp_path, "1,2,0\n3,4,1\n")
    data = load_csv(path, header=True)
    assert data.feature_names == ["1", "2"] and data.X.tolist() == [[3.0, 4.0]]


@pytest.mark.parametrize("text,kwargs,error,match", [
    ("", {}, ValueError, "holds no data"),
    ("# only a comment\n\n", {}, ValueError, "holds no data"),
    ("a,b,c\n", {}, ValueError, "has a header line but no data"),
    ("1,2,3\n4,5\n", {}, ValueError, r"line 2: 2 fields, expected 3"),
    ("a,b,y\n1,x,0\n", {}, ValueError, r"line 2, column 1 \('b'\): cannot read 'x' as a number"),
    ("1,,0\n", {}, ValueError, r"line 1, column 1: cannot read '' as a number"),
    ("1,2,3\n", dict(target_column=3), ValueError, "target_column=3 is outside the file's 3"),
    ("1,2,3\n", dict(target_column=-4), ValueError, "target_column=-4 is outside"),
    ("1,2,3\n", dict(target_column="y"), ValueError, "names a column, but the file has no header"),
    ("a,b\n1,2\n", dict(target_column="c"), ValueError, r"'c' is not a column.*\['a', 'b'\]"),
    ("1,2\n", dict(target_column=1.0), TypeError, "target_column must be an int, a column name"),
    ("1,2\n", dict(target_column=True), TypeError, "target_column must be an int"),
    ("1\n2\n", {}, ValueError, "no feature column besides the target"),
    ("1,a\n2,b\n", dict(target_kind="values"), ValueError, "needs numbers.*got 'a'"),
    ("1,2\n", dict(target_kind="labels"), ValueError, "target_kind must be one of"),
    ("1,2\n", dict(header="yes"), TypeError, "header must be True, False or None, got 'yes'"),
    ("1,2\n", dict(dtype=np.int32), TypeError, "dtype must be float32 or float64"),
])
def test_load_csv_bad_input(tmp_path, text, kwargs, error, match):
    with pytest.raises(error, match=match):
        load_csv(write(tmp_path, text), **kwargs)


def test_load_csv_bad_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        load_csv(tmp_path / "missing.csv")
    with pytest.raises(TypeError, match="path must be a str or os.PathLike, got int"):
        load_csv(3)


# --- load_npz --------------------------------------------------------------------------

def test_load_npz_round_trip(tmp_path):
    X = np.arange(12, dtype=np.int32).reshape(4, 3)
    path = tmp_path / "d.npz"
    np.savez(path, features=X, labels=np.array([1, 0, 1, 2], dtype=np.int16),
             target=np.array([0.5, 1.5, 2.5, 3.5]))
    data = load_npz(path, x_key="features", y_key="labels", dtype=np.float32)
    assert data.X.dtype == np.float32 and data.X.tolist() == X.tolist()
    assert data.y.dtype == np.int64 and data.y.tolist() == [1, 0, 1, 2]
    regression = load_npz(path, x_key="features", y_key="target", dtype=np.float32)
    assert regression.y.dtype == np.float32
    assert load_npz(path, x_key="features", y_key=None).y is None


@pytest.mark.parametrize("arrays,kwargs,error,match", [
    (dict(X=np.ones((2, 2))), {}, ValueError, r"y_key='y' is not in .*\['X'\]"),
    (dict(y=np.ones(2)), {}, ValueError, r"x_key='X' is not in .*\['y'\]"),
    (dict(X=np.ones(3), y=np.ones(3)), {}, ValueError, r"must be 2-D.*got shape \(3,\)"),
    (dict(X=np.ones((3, 2)), y=np.ones(2)), {}, ValueError,
     r"'y' .* must have shape \(3,\), one entry per row of 'X', got \(2,\)"),
    (dict(X=np.array([["a"]]), y=np.ones(1)), {}, TypeError, "'X' .* must be numeric"),
    (dict(X=np.ones((1, 1)), y=np.array(["a"])), {}, TypeError, "'y' .* must be numeric"),
    (dict(X=np.array([[None]], dtype=object), y=np.ones(1)), {}, TypeError,
     "is an object array"),
    (dict(X=np.ones((1, 1)), y=np.ones(1)), dict(dtype="int8"), TypeError,
     "dtype must be float32 or float64"),
])
def test_load_npz_bad_input(tmp_path, arrays, kwargs, error, match):
    path = tmp_path / "d.npz"
    np.savez(path, **arrays)
    with pytest.raises(error, match=match):
        load_npz(path, **kwargs)


def test_load_npz_refuses_other_files(tmp_path):
    np.save(tmp_path / "a.npy", np.ones(3))
    with pytest.raises(ValueError, match="holds a single array, not an .npz archive"):
        load_npz(tmp_path / "a.npy")
    with pytest.raises(ValueError, match="is not a NumPy .npz archive"):
        load_npz(write(tmp_path, "1,2\n"))
    with pytest.raises(FileNotFoundError):
        load_npz(tmp_path / "missing.npz")


# --- train_test_split ------------------------------------------------------------------

@pytest.mark.parametrize("test_size,n_test", [(0.25, 25), (0.3, 30), (0.333, 34), (10, 10)])
def test_split_sizes_partition_and_alignment(test_size, n_test):
    X = np.arange(200, dtype=np.float32).reshape(100, 2)
    y = np.arange(100)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size, seed=1)
    msg = case(test_size=test_size)
    assert X_test.shape == (n_test, 2) and X_train.shape == (100 - n_test, 2), msg
    assert X_train.dtype == np.float32 and y_train.dtype == y.dtype, msg
    rows = np.concatenate([y_train, y_test])
    assert sorted(rows.tolist()) == list(range(100)), msg  # disjoint and complete
    np.testing.assert_array_equal(X_train[:, 0], 2 * y_train)  # X and y stay aligned
    np.testing.assert_array_equal(X_test[:, 0], 2 * y_test)
    assert not np.array_equal(y_train, np.sort(y_train)), msg  # shuffled


def test_split_is_deterministic_from_the_seed():
    X, y = make_moons(50)
    first = train_test_split(X, y, seed=4)
    for a, b in zip(first, train_test_split(X, y, seed=4)):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[3], train_test_split(X, y, seed=5)[3])
    assert not np.array_equal(train_test_split(X, y)[3], train_test_split(X, y)[3])


@pytest.mark.parametrize("counts,test_size,expected", [
    ([50, 50, 50], 0.2, [10, 10, 10]),
    ([60, 30, 10], 0.25, [15, 8, 2]),  # ideal 15, 7.5, 2.5: remainders tie, lower class wins
    ([7, 3], 3, [2, 1]),  # ideal 2.1, 0.9
])
def test_stratified_split_keeps_the_class_proportions(counts, test_size, expected):
    y = np.repeat(np.array(["a", "b", "c"][:len(counts)]), counts)
    X = np.arange(y.size)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size, seed=0, stratify=True)
    _, test_counts = np.unique(y_test, return_counts=True)
    assert test_counts.tolist() == expected, case(counts=counts, test_size=test_size)
    np.testing.assert_array_equal(y[X_train], y_train)
    assert sorted(np.concatenate([X_train, X_test]).tolist()) == list(range(y.size))


@pytest.mark.parametrize("args,kwargs,error,match", [
    ((np.ones((4, 2)), np.ones(3)), {}, ValueError,
     "X and y must have the same number of samples, got 4 and 3"),
    ((np.ones((4, 2)), np.ones((4, 1))), {}, ValueError, r"y must be 1-D.*\(4, 1\)"),
    ((np.float64(1.0), np.ones(1)), {}, ValueError, "X must have one row per sample"),
    ((np.ones(4), np.ones(4)), dict(test_size=0.0), ValueError, r"in \(0, 1\), got 0.0"),
    ((np.ones(4), np.ones(4)), dict(test_size=1.0), ValueError, r"in \(0, 1\), got 1.0"),
    ((np.ones(4), np.ones(4)), dict(test_size=4), ValueError,
     "leaves 4 of 4 samples for testing"),
    ((np.ones(4), np.ones(4)), dict(test_size=0), ValueError, "leaves 0 of 4"),
    ((np.ones(4), np.ones(4)), dict(test_size=0.99), ValueError, "leaves 4 of 4"),
    ((np.ones(4), np.ones(4)), dict(test_size="half"), TypeError,
     "test_size must be a fraction in \\(0, 1\\) or a count, got 'half'"),
    ((np.ones(4), np.ones(4)), dict(test_size=True), TypeError, "got True"),
    ((np.ones(4), np.ones(4)), dict(stratify="yes"), TypeError, "stratify must be True or False"),
    ((np.ones(4), np.ones(4)), dict(seed=-1), ValueError, "seed must be >= 0, got -1"),
    ((np.ones(4), np.ones(4)), dict(seed=1.5), TypeError, "seed must be an int"),
])
def test_split_bad_input(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        train_test_split(*args, **kwargs)


# --- bad input to the generators and load_dataset --------------------------------------

@pytest.mark.parametrize("call,error,match", [
    (lambda: make_moons(1), ValueError, "n_samples must be >= 2, got 1"),
    (lambda: make_moons(10.0), TypeError, "n_samples must be an integer, got 10.0"),
    (lambda: make_moons(True), TypeError, "n_samples must be an integer, got True"),
    (lambda: make_moons(10, noise=-0.1), ValueError, "noise must be finite and >= 0, got -0.1"),
    (lambda: make_moons(10, noise=float("nan")), ValueError, "noise must be finite and >= 0, got nan"),
    (lambda: make_moons(10, noise="lots"), TypeError, "noise must be a real number"),
    (lambda: make_moons(10, seed=-3), ValueError, "seed must be >= 0, got -3"),
    (lambda: make_moons(10, seed="a"), TypeError, "seed must be an int, a numpy.random"),
    (lambda: make_moons(10, shuffle=1), TypeError, "shuffle must be True or False, got 1"),
    (lambda: make_moons(10, dtype=np.float16), TypeError, "dtype must be float32 or float64"),
    (lambda: make_moons(10, dtype="bogus"), TypeError, "dtype must be float32 or float64"),
    (lambda: make_spirals(10, arms=1), ValueError, "arms must be >= 2, got 1"),
    (lambda: make_spirals(3, arms=4), ValueError, r"n_samples must be >= arms \(4\).*got 3"),
    (lambda: make_spirals(10, turns=0), ValueError, "turns must be > 0, got 0"),
    (lambda: make_spirals(10, turns=-1.0), ValueError, "turns must be finite and >= 0, got -1.0"),
    (lambda: make_blobs(10, centers=0), ValueError, "centers must be >= 1, got 0"),
    (lambda: make_blobs(10, centers="three"), TypeError, "centers must be an int or a 2-D"),
    (lambda: make_blobs(10, centers=[1.0, 2.0]), ValueError,
     r"centers as an array must have shape \(n_centers, n_features\), got shape \(2,\)"),
    (lambda: make_blobs(10, centers=[[0.0, np.nan]]), ValueError, "centers must be finite"),
    (lambda: make_blobs(10, centers=[[0.0, 1.0]], n_features=3), ValueError,
     r"n_features=3 disagrees with centers of shape \(1, 2\)"),
    (lambda: make_blobs(2, centers=3), ValueError,
     r"n_samples must be >= the number of centers \(3\), got 2"),
    (lambda: make_blobs(10, std=-1.0), ValueError, "std must be finite and >= 0, got -1.0"),
    (lambda: make_blobs(10, centers=2, std=[1.0, 2.0, 3.0]), ValueError,
     r"one entry per center \(2\), got 3 entries"),
    (lambda: make_blobs(10, centers=2, std=[1.0, -2.0]), ValueError, r"std\[1\] must be finite and >= 0, got -2.0"),
    (lambda: make_blobs(10, center_box=(1.0,)), TypeError, "center_box must be a pair"),
    (lambda: make_blobs(10, center_box=(3.0, 1.0)), ValueError, "low < high"),
    (lambda: make_regression(10, 0), ValueError, "n_features must be >= 1, got 0"),
    (lambda: make_regression(10, 2, bias=float("inf")), ValueError, "bias must be finite"),
    (lambda: make_regression(10, 2, bias="b"), TypeError, "bias must be a real number"),
    (lambda: load_dataset("mnist"), ValueError,
     r"name must be one of \['blobs', 'iris', 'moons', 'regression', 'spirals'\], got 'mnist'"),
    (lambda: load_dataset(3), ValueError, "name must be one of"),
    (lambda: load_dataset("moons", arms=3), TypeError,
     r"load_dataset\('moons'\) got unknown option 'arms'; it takes \['n_samples'"),
    (lambda: load_dataset("iris", seed=0), TypeError,
     r"load_dataset\('iris'\) got unknown option 'seed'; it takes \['dtype'\]"),
])
def test_generator_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_public_names():
    assert set(datasets.__all__) == {
        "Dataset", "load_dataset", "load_csv", "load_npz", "load_iris", "make_moons",
        "make_spirals", "make_blobs", "make_regression", "train_test_split"}
