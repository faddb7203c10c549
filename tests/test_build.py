"""build_info() and `python -m fastloss info`."""
import os
import platform
import subprocess
import sys
from importlib import metadata

import numpy as np
import pytest

import fastloss

KEYS = {"version", "openmp", "openmp_max_threads", "compiler", "simd_paths", "simd_active",
        "default_threads", "numpy", "python", "machine"}


def test_build_info_keys_and_types():
    info = fastloss.build_info()
    assert set(info) == KEYS
    assert isinstance(info["version"], str) and info["version"]
    assert isinstance(info["openmp"], bool)
    assert isinstance(info["openmp_max_threads"], int) and info["openmp_max_threads"] >= 1
    if not info["openmp"]:
        assert info["openmp_max_threads"] == 1
    for key in ("compiler", "simd_paths", "simd_active"):
        assert isinstance(info[key], str) and info[key], key
    assert info["simd_active"] in info["simd_paths"]
    assert isinstance(info["default_threads"], int) and info["default_threads"] >= 1
    assert info["numpy"] == np.__version__
    assert info["python"] == platform.python_version()
    assert info["machine"] == platform.machine()


def test_version_matches_the_installed_distribution():
    info = fastloss.build_info()
    assert info["version"] == fastloss.__version__
    assert fastloss.__version__ == metadata.version("fastloss")


def test_default_threads_is_get_num_threads(restore_threads):
    assert fastloss.build_info()["default_threads"] == fastloss.get_num_threads()
    fastloss.set_num_threads(3)
    assert fastloss.build_info()["default_threads"] == 3 == fastloss.get_num_threads()


def _run(args, env_update=None):
    env = dict(os.environ)
    env.update(env_update or {})
    # from a neutral directory, so that the installed package is what runs
    return subprocess.run([sys.executable, "-m", "fastloss", *args], capture_output=True,
                          text=True, timeout=120, cwd=os.path.dirname(sys.executable),
                          env=env)


def test_cli_info_prints_every_fact():
    res = _run(["info"])
    assert res.returncode == 0, res.stderr
    lines = dict(line.split(None, 1) for line in res.stdout.strip().splitlines())
    assert set(lines) == KEYS, res.stdout
    assert lines["version"].strip() == fastloss.__version__
    assert lines["openmp"].strip() == str(fastloss.build_info()["openmp"])


def test_cli_info_reports_omp_num_threads():
    res = _run(["info"], {"OMP_NUM_THREADS": "3"})
    assert res.returncode == 0, res.stderr
    assert any(line.split() == ["default_threads", "3"] for line in res.stdout.splitlines()), \
        res.stdout


@pytest.mark.parametrize("args", [[], ["nonsense"]])
def test_cli_usage_errors(args):
    res = _run(args)
    assert res.returncode == 2
    assert "usage: fastloss" in res.stderr


def test_import_leaves_the_environment_as_it_was():
    # fastloss shortens libgomp's spin-wait for its own load only, and never overrides
    # a user's choice
    code = ("import os, fastloss; print(os.environ.get('GOMP_SPINCOUNT'), "
            "os.environ.get('OMP_WAIT_POLICY'))")
    env = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["None", "None"]
    env["GOMP_SPINCOUNT"] = "12345"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["12345", "None"]
