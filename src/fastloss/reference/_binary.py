"""Twins of the binary kernels."""
import numpy as np  # noqa: F401

__all__ = []
