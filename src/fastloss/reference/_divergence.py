"""Twins of the divergence kernels."""
import numpy as np  # noqa: F401

__all__ = []
