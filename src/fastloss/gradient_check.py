"""Gradient checking (placeholder)."""

__all__ = []
