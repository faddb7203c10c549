"""Twins of the composite kernels."""
import numpy as np  # noqa: F401

__all__ = []
