"""divergence losses (placeholder until its kernels land)."""

__all__ = []
