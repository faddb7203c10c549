"""Loss landscapes: J(theta) along lines and planes of parameter space, and its curvature.

`interpolate` draws J along the segment between two parameter vectors, `surface` on a grid
of the plane spanned by two directions, taken at random (`random_directions`, filter
normalized) or from a training trajectory (`pca_directions`); `hessian_eigs` and
`hessian_trace` measure the curvature at a point. Any callable ``f(theta) -> float`` is an
objective; `NetworkObjective` makes one of a `fastloss.nn` model, a loss and data, and
computes whole grids in C. Grids run serially, on a `concurrent.futures` executor or on a
Dask cluster, with the same result.
"""
from ._directions import PCAResult, pca_directions, random_directions
from ._fast import NetworkObjective
from ._grid import interpolate, surface
from ._hessian import HessianEigs, TraceEstimate, hessian_eigs, hessian_trace
from ._results import LineResult, SurfaceError, SurfaceResult, load

__all__ = ["NetworkObjective", "interpolate", "surface", "random_directions",
           "pca_directions", "hessian_eigs", "hessian_trace", "load", "LineResult",
           "SurfaceResult", "SurfaceError", "PCAResult", "HessianEigs", "TraceEstimate"]
