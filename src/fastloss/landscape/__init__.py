"""Loss landscapes (placeholder until the implementation lands)."""
from ._fast import NetworkObjective

__all__ = ["NetworkObjective"]
