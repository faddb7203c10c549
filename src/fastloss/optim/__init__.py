"""Optimizers (placeholder until its kernels land)."""

__all__ = []
