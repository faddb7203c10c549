"""Twins of the regularizers kernels."""
import numpy as np  # noqa: F401

__all__ = []
