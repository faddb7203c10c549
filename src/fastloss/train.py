"""Gradient descent loops (placeholder)."""

__all__ = []
