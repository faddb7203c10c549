"""Twins of the regression kernels."""
import numpy as np  # noqa: F401

__all__ = []
