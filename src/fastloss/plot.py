"""Pictures of loss landscapes (placeholder)."""

__all__ = []
