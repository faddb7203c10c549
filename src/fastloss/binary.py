"""binary losses (placeholder until its kernels land)."""

__all__ = []
