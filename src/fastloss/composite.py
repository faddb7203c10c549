"""Composite objectives ``L = L_task + sum_k lambda_k L_k`` with a per-term breakdown,
and the auxiliary terms that go into them.

The auxiliary terms are NumPy (their cost is small next to a model's); every one has
``value_and_grad`` and a twin in `fastloss.reference`.
"""
import numbers
import warnings
from typing import NamedTuple

import numpy as np

from ._validation import as_float_array, check_real, check_reduction
from .regularizers import Regularizer

__all__ = ["CompositeLoss", "CompositeResult", "TermReport", "BalanceWarning",
           "TemporalConsistency", "DemographicParityGap", "GANDiscriminatorLoss",
           "GANGeneratorLoss", "PerceptualLoss", "temporal_consistency",
           "demographic_parity_gap", "gan_discriminator_loss", "gan_generator_loss"]


# ---- helpers ------------------------------------------------------------------------

def _norm(a):
    """Euclidean norm in float64 of an array or a list of arrays."""
    arrays = a if isinstance(a, (list, tuple)) else [a]
    total = 0.0
    for x in arrays:
        x = np.asarray(x, dtype=np.float64).ravel()
        total += float(np.dot(x, x))
    return float(np.sqrt(total))


def _reduce(losses, reduction, dtype):
    """(value, gradient scale) of float64 per-element losses under `reduction`: the value
    is a NumPy scalar of `dtype` ("mean"/"sum", NaN for a mean over nothing) or an array
    of `dtype` ("none")."""
    if reduction == "none":
        return losses.astype(dtype), 1.0
    total = float(losses.sum())
    if reduction == "sum":
        return dtype.type(total), 1.0
    n = losses.size
    return dtype.type(total / n if n else np.nan), (1.0 / n if n else np.nan)


def _softplus(x):
    """log(1 + exp(x)) in float64, exact for |x| up to the float64 range."""
    with np.errstate(invalid="ignore"):  # NaN in, NaN out, as documented
        return np.logaddexp(0.0, x)


def _sigmoid(x):
    """1 / (1 + exp(-x)) in float64 without overflow: exp(-softplus(-x))."""
    return np.exp(-_softplus(-x))


def _check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


# ---- auxiliary terms ----------------------------------------------------------------

_TEMPORAL_KINDS = ("squared", "l1")


class TemporalConsistency:
    """Penalty on the change between consecutive predictions along axis 0 (time).

    .. math:: d_t = \\hat y_{t+1} - \\hat y_t, \\qquad
              L = \\frac{1}{n} \\sum_{t, j} d_{tj}^2 \\ (\\text{squared}) \\quad\\text{or}\\quad
              \\frac{1}{n} \\sum_{t, j} |d_{tj}| \\ (\\text{l1})

    with n = (T - 1) * (entries per step) for "mean" (n = 1 for "sum").

    Parameters
    ----------
    kind : {"squared", "l1"}, default "squared"
    reduction : {"mean", "sum"}, default "mean"
        "none" is not offered: a difference involves two steps, so no gradient row
        belongs to one step's loss alone.

    Notes
    -----
    ``value_and_grad(input)`` takes predictions of shape (T, ...) with T >= 1 and
    returns ``(value, d value / d input)``. With T = 1 there is no difference: "sum" is
    0 and "mean" NaN (a mean over nothing). The subgradient of |d| at 0 is 0. NaN in a
    step makes the value NaN. Computed in float64, returned in the input's dtype.

    Examples
    --------
    >>> import numpy as np, fastloss
    >>> y = np.array([[0.0, 1.0], [1.0, 1.0], [1.0, 3.0]])
    >>> value, grad = fastloss.TemporalConsistency("squared").value_and_grad(y)
    >>> float(value)  # (1 + 0 + 0 + 4) / 4
    1.25
    >>> grad
    array([[-0.5,  0. ],
           [ 0.5, -1. ],
           [ 0. ,  1. ]])
    """

    def __init__(self, kind="squared", reduction="mean"):
        self.kind = _check_choice("kind", kind, _TEMPORAL_KINDS)
        self.reduction = _check_choice("reduction", reduction, ("mean", "sum"))

    def value_and_grad(self, input):
        x = as_float_array("input", input)
        if x.ndim < 1:
            raise ValueError(f"input must have a time axis (axis 0), got shape {x.shape}")
        d = np.diff(x.astype(np.float64), axis=0)
        losses = d * d if self.kind == "squared" else np.abs(d)
        value, scale = _reduce(losses, self.reduction, x.dtype)
        dd = scale * (2.0 * d if self.kind == "squared" else np.sign(d))
        grad = np.zeros(x.shape, dtype=np.float64)
        grad[1:] += dd
        grad[:-1] -= dd
        return value, grad.astype(x.dtype)

    def __call__(self, input):
        return self.value_and_grad(input)[0]

    def __repr__(self):
        return f"TemporalConsistency(kind={self.kind!r}, reduction={self.reduction!r})"


_PARITY_KINDS = ("range", "mad")


def _as_groups(groups, n):
    if groups is None:
        raise ValueError("groups must be given, to DemographicParityGap(groups) or to the "
                         "call (groups=...)")
    g = np.asarray(groups)
    if g.shape != (n,):
        raise ValueError(f"groups must have one entry per prediction, shape ({n},), "
                         f"got {g.shape}")
    return g


class DemographicParityGap:
    """Demographic-parity gap: how far apart the mean predictions of groups are.

    With m_g the mean of the predictions of the samples in group g (groups that have
    no sample in the batch are left out) and G groups present:

    - ``kind="range"`` (default): ``max_g m_g - min_g m_g``; for two groups
      ``|m_a - m_b|``;
    - ``kind="mad"``: the mean absolute deviation ``1/G sum_g |m_g - mean_h m_h|``
      (every group counts, not only the extremes; for two groups half the range).

    Parameters
    ----------
    groups : array_like, shape (N,), optional
        The group of each sample (any values np.unique can sort: ints, bools,
        strings). May instead be passed to each call as ``groups=``, which wins.
    kind : {"range", "mad"}, default "range"

    Notes
    -----
    ``value_and_grad(input, groups=None)`` takes predictions of shape (N,) (e.g. the
    probability of the favourable outcome) and returns ``(value, d value / d input)``.
    The gap is a property of the whole batch, so there is no reduction option.
    Subgradients: where several groups tie for the max (min), the first in sorted
    group order carries the gradient; a gap of 0 gets gradient 0, and |.| at 0 has
    subgradient 0. One group gives 0; no sample at all gives NaN. NaN in, NaN out.

    Examples
    --------
    >>> import numpy as np, fastloss
    >>> p = np.array([0.9, 0.7, 0.2, 0.4])
    >>> gap = fastloss.DemographicParityGap(groups=[0, 0, 1, 1])
    >>> value, grad = gap.value_and_grad(p)
    >>> round(float(value), 12), grad
    (0.5, array([ 0.5,  0.5, -0.5, -0.5]))
    """

    def __init__(self, groups=None, *, kind="range"):
        self.groups = None if groups is None else np.asarray(groups)
        self.kind = _check_choice("kind", kind, _PARITY_KINDS)

    def value_and_grad(self, input, groups=None):
        x = as_float_array("input", input)
        if x.ndim != 1:
            raise ValueError(f"input must be 1-D (N,), one prediction per sample, "
                             f"got shape {x.shape}")
        g = _as_groups(self.groups if groups is None else groups, x.shape[0])
        _, member = np.unique(g, return_inverse=True)
        member = member.reshape(-1)
        counts = np.bincount(member).astype(np.float64)
        if counts.size == 0:
            return x.dtype.type(np.nan), np.empty_like(x)
        means = np.bincount(member, weights=x.astype(np.float64)) / counts
        if self.kind == "range":
            hi, lo = int(np.argmax(means)), int(np.argmin(means))
            value = means[hi] - means[lo]
            dmeans = np.zeros_like(means)
            if hi != lo:
                dmeans[hi], dmeans[lo] = 1.0, -1.0
        else:
            dev = means - means.mean()
            value = np.abs(dev).mean()
            s = np.sign(dev)
            dmeans = (s - s.mean()) / means.size
        grad = (dmeans / counts)[member]
        if np.isnan(value):
            grad[:] = np.nan
        return x.dtype.type(value), grad.astype(x.dtype)

    def __call__(self, input, groups=None):
        return self.value_and_grad(input, groups)[0]

    def __repr__(self):
        groups = None if self.groups is None else f"array(shape={self.groups.shape})"
        return f"DemographicParityGap(groups={groups}, kind={self.kind!r})"


_GAN_NOTES = """Losses and gradients are computed in float64 from ``softplus(x) =
    logaddexp(0, x)`` and ``sigmoid(x) = exp(-softplus(-x))``: exact and finite for
    logits of any finite size (1e30 included); +-inf logits give the limits (a loss
    of 0 or +inf, a gradient of 0 or +-1 per sample before the mean). NaN in, NaN out.
    Results are in the input's dtype."""


class GANDiscriminatorLoss:
    __doc__ = f"""Discriminator loss of a GAN on logits (binary cross-entropy, real = 1).

    .. math:: \\ell_i = \\mathrm{{softplus}}(-D(x_i)) + \\mathrm{{softplus}}(D(G(z_i)))

    Parameters
    ----------
    reduction : {{"mean", "sum", "none"}}, default "mean"
        Over the samples i; "mean" is the mean over real plus the mean over fake.

    Notes
    -----
    ``value_and_grad(real_logits, fake_logits)`` takes the discriminator's logits on
    a real and a generated batch (the same shape) and returns ``(value, (d value / d
    real_logits, d value / d fake_logits))``:
    ``-sigmoid(-real) * c`` and ``sigmoid(fake) * c``, c = 1/N for "mean".
    {_GAN_NOTES}

    Examples
    --------
    >>> import numpy as np, fastloss
    >>> value, (g_real, g_fake) = fastloss.GANDiscriminatorLoss().value_and_grad(
    ...     np.array([0.0, 1e30]), np.array([0.0, -1e30]))
    >>> round(float(value), 12), g_real, g_fake  # log 2 for the undecided pair
    (0.69314718056, array([-0.25, -0.  ]), array([0.25, 0.  ]))
    """

    def __init__(self, reduction="mean"):
        self.reduction = check_reduction(reduction)

    def value_and_grad(self, real_logits, fake_logits):
        r = as_float_array("real_logits", real_logits)
        f = as_float_array("fake_logits", fake_logits)
        if r.shape != f.shape:
            raise ValueError(f"real_logits and fake_logits must have the same shape, got "
                             f"{r.shape} and {f.shape}")
        if r.dtype != f.dtype:
            raise TypeError(f"real_logits and fake_logits must have the same dtype, got "
                            f"{r.dtype.name} and {f.dtype.name}")
        r64, f64 = r.astype(np.float64), f.astype(np.float64)
        value, c = _reduce(_softplus(-r64) + _softplus(f64), self.reduction, r.dtype)
        return value, ((-c * _sigmoid(-r64)).astype(r.dtype),
                       (c * _sigmoid(f64)).astype(f.dtype))

    def __call__(self, real_logits, fake_logits):
        return self.value_and_grad(real_logits, fake_logits)[0]

    def __repr__(self):
        return f"GANDiscriminatorLoss(reduction={self.reduction!r})"


class GANGeneratorLoss:
    __doc__ = f"""Non-saturating generator loss of a GAN on the discriminator's logits.

    .. math:: \\ell_i = \\mathrm{{softplus}}(-D(G(z_i))) = -\\log \\sigma(D(G(z_i)))

    Its gradient ``-sigmoid(-logit)`` stays near -1 while the discriminator rejects the
    fakes, where the saturating ``log(1 - sigma)`` form would vanish.

    Parameters
    ----------
    reduction : {{"mean", "sum", "none"}}, default "mean"

    Notes
    -----
    ``value_and_grad(fake_logits)`` returns ``(value, d value / d fake_logits)``. In a
    `CompositeLoss` it is a prediction-space term whose input is the logits.
    {_GAN_NOTES}

    Examples
    --------
    >>> import numpy as np, fastloss
    >>> value, grad = fastloss.GANGeneratorLoss(reduction="none").value_and_grad(
    ...     np.array([0.0, -1e30, 1e30]))
    >>> value, grad
    (array([6.93147181e-01, 1.00000000e+30, 0.00000000e+00]), array([-0.5, -1. , -0. ]))
    """

    def __init__(self, reduction="mean"):
        self.reduction = check_reduction(reduction)

    def value_and_grad(self, fake_logits):
        f = as_float_array("fake_logits", fake_logits)
        f64 = f.astype(np.float64)
        value, c = _reduce(_softplus(-f64), self.reduction, f.dtype)
        return value, (-c * _sigmoid(-f64)).astype(f.dtype)

    def __call__(self, fake_logits):
        return self.value_and_grad(fake_logits)[0]

    def __repr__(self):
        return f"GANGeneratorLoss(reduction={self.reduction!r})"


class PerceptualLoss:
    """Perceptual loss: squared distance in the feature space of a map phi.

    .. math:: L = \\frac{1}{n} \\lVert \\varphi(\\hat y) - \\varphi(y) \\rVert_2^2,
              \\qquad \\nabla_{\\hat y} L = \\varphi'(\\hat y)^T \\frac{2}{n}
              (\\varphi(\\hat y) - \\varphi(y))

    n the number of feature entries ("mean"; n = 1 for "sum").

    Parameters
    ----------
    phi : callable(array) -> array
        The feature map (e.g. a frozen network's activations).
    phi_vjp : callable(input, cotangent) -> array
        The vector-Jacobian product of phi at `input`: ``J_phi(input)^T cotangent``,
        of the input's shape.
    reduction : {"mean", "sum"}, default "mean"

    Notes
    -----
    ``value_and_grad(input, target)`` returns ``(value, d value / d input)``. The
    distance is summed in float64; the gradient is phi_vjp's result in the input's
    dtype. NaN features give NaN.

    Examples
    --------
    >>> import numpy as np, fastloss
    >>> A = np.array([[1.0, 2.0], [0.0, 1.0], [1.0, 0.0]])
    >>> loss = fastloss.PerceptualLoss(lambda x: A @ x, lambda x, v: A.T @ v)
    >>> value, grad = loss.value_and_grad(np.array([1.0, 0.0]), np.zeros(2))
    >>> float(value), grad  # phi = (1, 0, 1): (1 + 0 + 1) / 3
    (0.6666666666666666, array([1.33333333, 1.33333333]))
    """

    def __init__(self, phi, phi_vjp, reduction="mean"):
        if not callable(phi) or not callable(phi_vjp):
            raise TypeError(f"phi and phi_vjp must be callables, got "
                            f"{type(phi).__name__} and {type(phi_vjp).__name__}")
        self.phi, self.phi_vjp = phi, phi_vjp
        self.reduction = _check_choice("reduction", reduction, ("mean", "sum"))

    def value_and_grad(self, input, target):
        x = as_float_array("input", input)
        fx, ft = np.asarray(self.phi(x)), np.asarray(self.phi(target))
        if fx.shape != ft.shape:
            raise ValueError(f"phi(input) and phi(target) must have the same shape, got "
                             f"{fx.shape} and {ft.shape}")
        diff = fx.astype(np.float64) - ft.astype(np.float64)
        value, c = _reduce(diff * diff, self.reduction, x.dtype)
        grad = np.asarray(self.phi_vjp(x, 2.0 * c * diff))
        if grad.shape != x.shape:
            raise ValueError(f"phi_vjp must return an array of the input's shape {x.shape}, "
                             f"got {grad.shape}")
        return value, grad.astype(x.dtype)

    def __call__(self, input, target):
        return self.value_and_grad(input, target)[0]

    def __repr__(self):
        return f"PerceptualLoss(phi={self.phi!r}, phi_vjp={self.phi_vjp!r})"


def temporal_consistency(input, kind="squared", reduction="mean"):
    """The value of `TemporalConsistency` (kind, reduction) on input (T, ...)."""
    return TemporalConsistency(kind, reduction)(input)


def demographic_parity_gap(input, groups, kind="range"):
    """The value of `DemographicParityGap` on predictions (N,) and their groups."""
    return DemographicParityGap(groups, kind=kind)(input)


def gan_discriminator_loss(real_logits, fake_logits, reduction="mean"):
    """The value of `GANDiscriminatorLoss`."""
    return GANDiscriminatorLoss(reduction)(real_logits, fake_logits)


def gan_generator_loss(fake_logits, reduction="mean"):
    """The value of `GANGeneratorLoss`."""
    return GANGeneratorLoss(reduction)(fake_logits)


# ---- the composite ------------------------------------------------------------------

class BalanceWarning(UserWarning):
    """A weighted term's gradient outweighs the task's by more than `warn_ratio`."""


class TermReport(NamedTuple):
    """One line of a `CompositeLoss` breakdown (plain Python floats)."""
    weight: float           # lambda (1 for the task)
    value: float            # the term's own value
    weighted_value: float   # lambda * value: its share of the total
    grad_norm: float        # ||lambda * gradient||_2, in the term's space
    ratio: float            # grad_norm / the task's gradient norm in the same space
    flagged: bool           # ratio > warn_ratio


class CompositeResult(NamedTuple):
    """What `CompositeLoss.value_and_grad` returns."""
    value: np.generic       # task + sum_k lambda_k * term_k, in the input's dtype
    grad: np.ndarray        # d value / d input: task's + sum of lambda_k * prediction terms'
    param_grads: list       # d value / d params (None without parameter-space terms)
    breakdown: dict         # "task" and each term name -> TermReport


def _scalar(what, value):
    if np.ndim(value) != 0:
        raise ValueError(f"{what} must return a scalar value (reduction 'mean' or 'sum'), "
                         f"got shape {np.shape(value)}")
    return float(value)


def _checked_grad(what, grad, shape):
    grad = np.asarray(grad)
    if grad.shape != shape:
        raise ValueError(f"{what} returned a gradient of shape {grad.shape}, expected the "
                         f"input's shape {shape}")
    return grad


def _ratio(norm, reference):
    if reference > 0:
        return norm / reference
    return 0.0 if norm == 0 else (np.inf if norm > 0 else np.nan)


class CompositeLoss:
    """A task loss plus weighted auxiliary terms, with a breakdown of their balance.

    .. math:: L = L_{task}(\\hat y, y) + \\sum_k \\lambda_k L_k

    Parameters
    ----------
    task : loss object
        Anything with ``value_and_grad(input, target) -> (scalar value, grad)``: a
        fastloss loss with reduction "mean" or "sum" (`CrossEntropyLoss`, ...) or an
        object of your own.
    terms : dict of name -> (lambda, term)
        lambda >= 0 (finite). A term is either

        - a **prediction-space term**: ``term.value_and_grad(input, **kwargs) ->
          (scalar value, d value / d input)``, e.g. `TemporalConsistency`,
          `DemographicParityGap`, `GANGeneratorLoss`, `PerceptualLoss`; the keyword
          arguments come from ``context[name]`` at the call; or
        - a **parameter-space term**: a `Regularizer` (`L1`, `L2`, `ElasticNet`), which
          acts on the model's parameters.

        The name "task" is reserved for the task's line of the breakdown.
    warn_ratio : float > 0, default 10
        A term is flagged, and a `BalanceWarning` names it and its ratio, when the norm
        of its lambda-weighted gradient exceeds `warn_ratio` times the norm of the
        task's gradient in the same space (the term then dominates the update).

    Calls
    -----
    ``value_and_grad(input, target, *, params=None, backward=None, context=None)``
    returns a `CompositeResult` ``(value, grad, param_grads, breakdown)``:

    - ``value = task + sum_k lambda_k * term_k``, added in float64 in the order of
      `terms` (exactly the task's value plus the breakdown's weighted values), as a
      scalar of the input's dtype;
    - ``grad`` = the gradient of the task plus the lambda-weighted gradients of the
      prediction-space terms, with respect to `input` (a new array);
    - with parameter-space terms, `params` (the model's parameter arrays, as for
      `Regularizer`) and ``backward(grad_wrt_input) -> list of arrays`` (your
      backpropagation: the gradient with respect to each parameter, as new writeable
      arrays) are required. ``param_grads = backward(task grad) + backward(weighted
      prediction-term grads)`` (the second call only when there are such terms), into
      which every regularizer adds ``lambda * dR/dw`` in place: the full gradient of
      `value` with respect to the parameters. Otherwise ``param_grads`` is None.
    - ``breakdown[name]`` is a `TermReport`. Norms are Euclidean over all entries, in
      float64. A prediction-space term is compared with the task's gradient with
      respect to `input`; a parameter-space term with the task's gradient with respect
      to the parameters, ``backward(task grad)``. A ratio against a zero task gradient
      is +inf (0 when the term's gradient is 0 too).

    ``loss(input, target, *, params=None, context=None)`` returns the value alone
    (no gradients, no warnings); ``loss.grad(...)`` the gradient with respect to input.

    Examples
    --------
    >>> import numpy as np, fastloss, warnings
    >>> logits = np.array([[2.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    >>> loss = fastloss.CompositeLoss(
    ...     fastloss.CrossEntropyLoss(),
    ...     {"smooth": (0.1, fastloss.TemporalConsistency("squared"))})
    >>> value, grad, _, breakdown = loss.value_and_grad(logits, np.array([0, 1, 0]))
    >>> round(float(value), 6), round(breakdown["smooth"].weighted_value, 6)
    (0.565668, 0.25)
    >>> breakdown["smooth"].flagged
    False
    >>> loss = fastloss.CompositeLoss(fastloss.CrossEntropyLoss(),
    ...                               {"smooth": (100.0, fastloss.TemporalConsistency())})
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     result = loss.value_and_grad(logits, np.array([0, 1, 0]))
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    CompositeLoss: term 'smooth' has a weighted gradient norm ... times the task's ...
    """

    def __init__(self, task, terms, *, warn_ratio=10.0):
        if not callable(getattr(task, "value_and_grad", None)):
            raise TypeError(f"task must have a value_and_grad(input, target) method, got "
                            f"{type(task).__name__}")
        if not isinstance(terms, dict):
            raise TypeError(f"terms must be a dict of name -> (lambda, term), got "
                            f"{type(terms).__name__}")
        self.task = task
        self.terms = {}
        for name, entry in terms.items():
            if not isinstance(name, str) or name == "task":
                raise ValueError(f"term names must be strings other than 'task', got {name!r}")
            if not isinstance(entry, tuple) or len(entry) != 2:
                raise TypeError(f"terms[{name!r}] must be a (lambda, term) pair, got {entry!r}")
            lam, term = entry
            lam = check_real(f"terms[{name!r}] lambda", lam, low=0.0)
            if not isinstance(term, Regularizer) and not callable(
                    getattr(term, "value_and_grad", None)):
                raise TypeError(f"terms[{name!r}]: the term must be a Regularizer or have a "
                                f"value_and_grad method, got {type(term).__name__}")
            self.terms[name] = (lam, term)
        if isinstance(warn_ratio, (bool, np.bool_)) or not isinstance(warn_ratio,
                                                                       numbers.Real):
            raise TypeError(f"warn_ratio must be a positive float, got {warn_ratio!r}")
        if not float(warn_ratio) > 0:
            raise ValueError(f"warn_ratio must be > 0, got {warn_ratio!r}")
        self.warn_ratio = float(warn_ratio)

    def _parameter_terms(self):
        return {n: e for n, e in self.terms.items() if isinstance(e[1], Regularizer)}

    def _check_call(self, params, backward, context, need_backward):
        context = {} if context is None else context
        unknown = set(context) - set(self.terms)
        if unknown:
            raise ValueError(f"context names terms that do not exist: {sorted(unknown)}; "
                             f"terms are {list(self.terms)}")
        if self._parameter_terms():
            if params is None:
                raise ValueError(f"params are required: terms "
                                 f"{list(self._parameter_terms())} act on the parameters")
            if need_backward and not callable(backward):
                raise TypeError(f"backward(grad_wrt_input) -> list of arrays is required "
                                f"for terms {list(self._parameter_terms())}, got {backward!r}")
        return context

    def value_and_grad(self, input, target, *, params=None, backward=None, context=None):
        context = self._check_call(params, backward, context, True)
        task_value, task_grad = self.task.value_and_grad(input, target)
        task_value = _scalar("task", task_value)
        task_grad = np.asarray(task_grad)
        shape = task_grad.shape
        task_norm = _norm(task_grad)
        reports = {"task": TermReport(1.0, task_value, task_value, task_norm, 1.0, False)}

        weighted_sum = None  # sum of lambda_k * grad_k over the prediction-space terms
        for name, (lam, term) in self.terms.items():
            if isinstance(term, Regularizer):
                continue
            v, g = term.value_and_grad(input, **context.get(name, {}))
            v = _scalar(f"terms[{name!r}]", v)
            g = lam * _checked_grad(f"terms[{name!r}]", g, shape).astype(np.float64)
            weighted_sum = g if weighted_sum is None else weighted_sum + g
            norm = _norm(g)
            reports[name] = self._report(name, lam, v, norm, task_norm)
        grad = (task_grad.astype(np.float64) + weighted_sum).astype(task_grad.dtype) \
            if weighted_sum is not None else task_grad.copy()

        param_grads = None
        if self._parameter_terms():
            param_grads = list(backward(task_grad))
            param_norm = _norm(param_grads)
            if weighted_sum is not None:
                for p, extra in zip(param_grads, backward(weighted_sum.astype(grad.dtype))):
                    p += extra
            for name, (lam, term) in self._parameter_terms().items():
                v, norm, _ = term._accumulate(term._prepare(params), param_grads, scale=lam)
                reports[name] = self._report(name, lam, v, norm, param_norm)
        # the breakdown in the order of `terms`, the task first
        reports = {"task": reports["task"], **{n: reports[n] for n in self.terms}}
        total = task_value
        for name in self.terms:
            total += reports[name].weighted_value
        return CompositeResult(grad.dtype.type(total), grad, param_grads, reports)

    def _report(self, name, lam, value, norm, reference):
        ratio = _ratio(norm, reference)
        flagged = bool(ratio > self.warn_ratio)
        if flagged:
            warnings.warn(
                f"CompositeLoss: term {name!r} has a weighted gradient norm {norm:.3g}, "
                f"{ratio:.3g} times the task's ({reference:.3g}); above warn_ratio="
                f"{self.warn_ratio:g}: it dominates the update (lower its lambda?)",
                BalanceWarning, stacklevel=3)
        return TermReport(lam, value, lam * value, norm, ratio, flagged)

    def __call__(self, input, target, *, params=None, context=None):
        context = self._check_call(params, None, context, False)
        task_value, task_grad = self.task.value_and_grad(input, target)
        total = _scalar("task", task_value)
        for name, (lam, term) in self.terms.items():
            if isinstance(term, Regularizer):
                v = term(params)
            else:
                v = term.value_and_grad(input, **context.get(name, {}))[0]
            total += lam * _scalar(f"terms[{name!r}]", v)
        return np.asarray(task_grad).dtype.type(total)

    def grad(self, input, target, *, params=None, backward=None, context=None):
        """d value / d input (see `value_and_grad`)."""
        return self.value_and_grad(input, target, params=params, backward=backward,
                                   context=context).grad

    def __repr__(self):
        terms = ", ".join(f"{n!r}: ({lam}, {t!r})" for n, (lam, t) in self.terms.items())
        return (f"CompositeLoss(task={self.task!r}, terms={{{terms}}}, "
                f"warn_ratio={self.warn_ratio})")
