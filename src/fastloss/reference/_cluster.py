"""Twins of the cluster kernels."""
import numpy as np  # noqa: F401

__all__ = []
