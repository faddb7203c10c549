"""The fast path of loss surfaces for fastloss.nn models (placeholder: serial only)."""
import numpy as np

__all__ = ["NetworkObjective"]


class NetworkObjective:
    """J(theta) = loss(model(X), y) for a fastloss.nn model, as a callable of the flat
    parameter vector (placeholder: evaluates through the model, no fast grid yet)."""

    def __init__(self, model, loss, X, y):
        self.model, self.loss, self.X, self.y = model, loss, np.asarray(X), np.asarray(y)

    def __call__(self, theta):
        self.model.set_flat(theta)
        return float(self.loss(self.model.predict(self.X), self.y))
