"""Optimizers (placeholder until its kernels land)."""
from . import lr_scheduler

__all__ = ["lr_scheduler"]
