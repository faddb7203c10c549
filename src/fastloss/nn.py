"""Neural network layers (placeholder until its kernels land)."""

__all__ = []
