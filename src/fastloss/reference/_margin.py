"""Twins of the margin kernels."""
import numpy as np  # noqa: F401

__all__ = []
