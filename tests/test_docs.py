"""The examples in the docstrings run and print what they say."""
import doctest
import importlib
import math
import warnings

import pytest

from conftest import run_python_blocks

MODULES = ["fastloss.softmax", "fastloss.losses", "fastloss.regression", "fastloss.binary",
           "fastloss.margin", "fastloss.divergence", "fastloss.clustering",
           "fastloss.regularizers", "fastloss.composite", "fastloss.optim", "fastloss.optim._rules",
           "fastloss.optim._clip", "fastloss.optim.lr_scheduler",
           "fastloss.train", "fastloss.nn", "fastloss.gradient_check", "fastloss.datasets",
           "fastloss.datasets._generators", "fastloss.datasets._files",
           "fastloss.datasets._split", "fastloss.landscape._grid",
           "fastloss.landscape._directions", "fastloss.landscape._hessian",
           "fastloss.landscape._fast", "fastloss._config",
           "fastloss._build"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name, restore_threads):
    # `fastloss.softmax` is also the function; import the module itself
    module = importlib.import_module(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an example must not warn
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE,
                                 verbose=False, report=True)
    assert result.attempted > 0, f"no doctests found in {name}"
    assert result.failed == 0, f"{result.failed} of {result.attempted} doctests failed in {name}"


def _ce(row, label, eps=0.0):
    """Closed-form smoothed cross-entropy of one row of logits (math only)."""
    lse = math.log(sum(math.exp(v) for v in row))
    nll = [lse - v for v in row]
    return (1 - eps) * nll[label] + eps / len(row) * sum(nll)


@pytest.mark.parametrize("where,documented,computed", [
    # CrossEntropyLoss example: label_smoothing=0.1, mean of two rows
    ("CrossEntropyLoss docstring", 0.3455,
     lambda: round((_ce([2.0, 0.5, -1.0], 0, 0.1) + _ce([0.1, 0.2, 3.0], 2, 0.1)) / 2, 4)),
    # NLLLoss example: NLL of log_softmax == plain cross-entropy, mean of two rows
    ("NLLLoss docstring", 0.175456,
     lambda: round((_ce([2.0, 0.5, -1.0], 0) + _ce([0.1, 0.2, 3.0], 2)) / 2, 6)),
    ("cross_entropy docstring", 2.302585092994046, lambda: math.log(10)),
    ("nll_loss docstring", 0.6931471805599453, lambda: -math.log(0.5)),
    ("logsumexp docstring", 1000.6931471805599, lambda: 1000 + math.log(2)),
], ids=["CrossEntropyLoss", "NLLLoss", "cross_entropy", "nll_loss", "logsumexp"])
def test_docstring_numbers_are_right(where, documented, computed):
    """The numbers the examples print, recomputed from closed forms (so that a wrong
    example is told apart from a wrong kernel)."""
    assert computed() == pytest.approx(documented, rel=1e-15, abs=0), \
        f"{where}: the example prints {documented}, the closed form gives {computed()!r}"


def test_readme_example_runs():
    """The README's example runs as written."""
    run_python_blocks("README.md")
