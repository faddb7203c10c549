"""Twins of the optimizer kernels."""
import numpy as np  # noqa: F401

__all__ = []
