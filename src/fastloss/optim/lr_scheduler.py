"""Learning-rate schedules (placeholder)."""

__all__ = []
