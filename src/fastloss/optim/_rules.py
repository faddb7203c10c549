"""The update rules: SGD, Adagrad, RMSprop, Adam and AdamW, with torch.optim's
options, defaults and semantics. Each class validates a group's hyperparameters and
makes one kernel call per group and dtype (see csrc/optim.h for the formulas)."""
from .. import _kernels
from .._validation import check_flag, check_real
from ._optimizer import Optimizer

__all__ = ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW"]

_COMMON_DOC = """n_threads : int, optional
        Threads per kernel call; default `fastloss.get_num_threads()`. Results are
        bitwise identical for every thread count (every update is elementwise).
    nonfinite : {"propagate", "skip"}, optional
        What a step does when a gradient holds inf or NaN. "propagate" (default, as
        PyTorch): the update runs and the non-finite values flow into the parameters
        and the state. "skip": the whole step is skipped (no parameter, state or step
        count changes), a RuntimeWarning is issued and ``skipped_steps`` counts it;
        this costs one extra read of the gradients.

    Notes
    -----
    `params` is a list of float32/float64 C-contiguous writeable arrays, updated in
    place, or a list of param-group dicts ``{"params": [...], "lr": ..., ...}`` whose
    missing options take the constructor's values. ``param_groups`` holds the groups
    with every option under PyTorch's key; a changed ``group["lr"]`` (e.g. by a
    scheduler) takes effect at the next step. The parameter arrays are fixed at
    construction. ``step(grads)`` takes one gradient per parameter (same shape and
    dtype, C-contiguous, not sharing memory with a parameter), flattened across groups
    or one list per group, and runs one C call per group and dtype: no Python loop
    over the arrays and no allocation. A bad gradient raises before anything is
    updated. Checkpoints: ``state_dict()`` / ``load_state_dict()``, ``save(path)`` /
    ``load(path)`` (.npz, see `fastloss.optim.load`)."""


def _check_common(group, where):
    lr = check_real(f"{where}['lr'] (lr)", group["lr"], low=0.0)
    wd = check_real(f"{where}['weight_decay'] (weight_decay)", group["weight_decay"],
                    low=0.0)
    maximize = check_flag(f"{where}['maximize'] (maximize)", group["maximize"])
    return lr, wd, maximize


def _check_eps(group, where):
    return check_real(f"{where}['eps'] (eps)", group["eps"], low=0.0, low_open=True)


class SGD(Optimizer):
    __doc__ = f"""Stochastic gradient descent with momentum, as torch.optim.SGD.

    With d = -g if maximize else g, plus ``weight_decay * p``: with momentum,
    ``b = d`` at the first step, then ``b = momentum * b + (1 - dampening) * d``;
    the step direction is ``d + momentum * b`` (nesterov) or ``b``; then
    ``p -= lr * direction``. Without momentum, ``p -= lr * d``.

    Parameters
    ----------
    params : list of arrays or list of dicts
        The parameters (see Notes).
    lr : float, default 1e-3
        Learning rate, >= 0.
    momentum : float, default 0
        Momentum factor, >= 0.
    dampening : float, default 0
        Dampening of the momentum's new term.
    weight_decay : float, default 0
        L2 penalty coefficient added to the gradient, >= 0.
    nesterov : bool, default False
        Nesterov momentum (needs momentum > 0 and dampening 0).
    maximize : bool, default False
        Ascend instead of descend.
    {_COMMON_DOC}

    Examples
    --------
    >>> import numpy as np
    >>> from fastloss.optim import SGD
    >>> w = np.array([1.0, -2.0])
    >>> opt = SGD([w], lr=0.1, momentum=0.9)
    >>> opt.step([np.array([1.0, 1.0])]); w
    array([ 0.9, -2.1])
    >>> opt.step([np.array([1.0, 1.0])]); w      # b = 0.9 * 1 + 1 = 1.9
    array([ 0.71, -2.29])
    """

    _state_kinds = ("momentum_buffer",)

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, maximize=False, *, n_threads=None, nonfinite="propagate"):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize),
                         n_threads=n_threads, nonfinite=nonfinite)

    def _check_group(self, group, where):
        lr, wd, maximize = _check_common(group, where)
        momentum = check_real(f"{where}['momentum'] (momentum)", group["momentum"], low=0.0)
        dampening = check_real(f"{where}['dampening'] (dampening)", group["dampening"])
        nesterov = check_flag(f"{where}['nesterov'] (nesterov)", group["nesterov"])
        if nesterov and (momentum <= 0.0 or dampening != 0.0):
            raise ValueError(f"{where}: nesterov momentum requires momentum > 0 and "
                             f"dampening 0, got momentum={momentum!r}, "
                             f"dampening={dampening!r}")
        return dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=wd,
                    nesterov=nesterov, maximize=maximize)

    def _state_names(self, o):
        return ("momentum_buffer",) if o["momentum"] != 0.0 else ()

    def _update(self, seg, addresses, o, step, started, n_threads):
        _kernels.sgd_step(seg.is_double, seg.offsets, addresses, 3 if o["momentum"] else 2,
                          o["lr"], o["momentum"], o["dampening"], o["weight_decay"],
                          o["nesterov"], o["maximize"], "momentum_buffer" not in started,
                          n_threads)


class Adagrad(Optimizer):
    __doc__ = f"""Adagrad, as torch.optim.Adagrad.

    At step t, with d = -g if maximize else g, plus ``weight_decay * p``:
    ``clr = lr / (1 + (t - 1) * lr_decay)``, ``s += d**2``,
    ``p -= clr * d / (sqrt(s) + eps)``; s starts at initial_accumulator_value.

    Parameters
    ----------
    params : list of arrays or list of dicts
        The parameters (see Notes).
    lr : float, default 1e-2
        Learning rate, >= 0.
    lr_decay : float, default 0
        Learning-rate decay per step, >= 0.
    weight_decay : float, default 0
        L2 penalty coefficient added to the gradient, >= 0.
    initial_accumulator_value : float, default 0
        Starting value of the sum of squares, >= 0.
    eps : float, default 1e-10
        Added to the root of the sum, > 0.
    maximize : bool, default False
        Ascend instead of descend.
    {_COMMON_DOC}

    Examples
    --------
    >>> import numpy as np
    >>> from fastloss.optim import Adagrad
    >>> w = np.array([1.0, -2.0])
    >>> opt = Adagrad([w], lr=0.5, eps=1e-10)
    >>> opt.step([np.array([3.0, -4.0])]); w      # first step: lr * sign(g)
    array([ 0.5, -1.5])
    """

    _state_kinds = ("sum",)

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, maximize=False, *,
                 n_threads=None, nonfinite="propagate"):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize),
                         n_threads=n_threads, nonfinite=nonfinite)

    def _check_group(self, group, where):
        lr, wd, maximize = _check_common(group, where)
        return dict(lr=lr, weight_decay=wd, maximize=maximize, eps=_check_eps(group, where),
                    lr_decay=check_real(f"{where}['lr_decay'] (lr_decay)",
                                        group["lr_decay"], low=0.0),
                    initial_accumulator_value=check_real(
                        f"{where}['initial_accumulator_value'] (initial_accumulator_value)",
                        group["initial_accumulator_value"], low=0.0))

    def _state_names(self, o):
        return ("sum",)

    def _state_init(self, o, name):
        return o["initial_accumulator_value"]

    def _update(self, seg, addresses, o, step, started, n_threads):
        clr = o["lr"] / (1 + (step - 1) * o["lr_decay"])
        _kernels.adagrad_step(seg.is_double, seg.offsets, addresses, 3, clr, o["eps"],
                              o["weight_decay"], o["maximize"], n_threads)


class RMSprop(Optimizer):
    __doc__ = f"""RMSprop, as torch.optim.RMSprop.

    With d = -g if maximize else g, plus ``weight_decay * p``:
    ``v = alpha * v + (1 - alpha) * d**2``; centered: ``a = lerp(a, d, 1 - alpha)``
    and ``r = sqrt(v - a**2) + eps``, else ``r = sqrt(v) + eps``; with momentum
    ``b = momentum * b + d / r`` and ``p -= lr * b``, else ``p -= lr * d / r``.

    Parameters
    ----------
    params : list of arrays or list of dicts
        The parameters (see Notes).
    lr : float, default 1e-2
        Learning rate, >= 0.
    alpha : float, default 0.99
        Smoothing constant, in [0, 1].
    eps : float, default 1e-8
        Added to the root, > 0.
    weight_decay : float, default 0
        L2 penalty coefficient added to the gradient, >= 0.
    momentum : float, default 0
        Momentum factor, >= 0.
    centered : bool, default False
        Normalize by an estimate of the gradient's variance.
    maximize : bool, default False
        Ascend instead of descend.
    {_COMMON_DOC}

    Examples
    --------
    >>> import numpy as np
    >>> from fastloss.optim import RMSprop
    >>> w = np.array([1.0])
    >>> opt = RMSprop([w], lr=0.01, alpha=0.75, eps=1e-8)
    >>> opt.step([np.array([2.0])]); w.round(6)      # 1 - 0.01 * 2 / sqrt(0.25 * 4)
    array([0.98])
    """

    _state_kinds = ("square_avg", "momentum_buffer", "grad_avg")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0,
                 momentum=0.0, centered=False, maximize=False, *, n_threads=None,
                 nonfinite="propagate"):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered,
                                      maximize=maximize),
                         n_threads=n_threads, nonfinite=nonfinite)

    def _check_group(self, group, where):
        lr, wd, maximize = _check_common(group, where)
        return dict(lr=lr, weight_decay=wd, maximize=maximize, eps=_check_eps(group, where),
                    alpha=check_real(f"{where}['alpha'] (alpha)", group["alpha"], low=0.0,
                                     high=1.0),
                    momentum=check_real(f"{where}['momentum'] (momentum)", group["momentum"],
                                        low=0.0),
                    centered=check_flag(f"{where}['centered'] (centered)", group["centered"]))

    def _state_names(self, o):
        return (("square_avg",) + (("momentum_buffer",) if o["momentum"] > 0 else ())
                + (("grad_avg",) if o["centered"] else ()))

    def _update(self, seg, addresses, o, step, started, n_threads):
        _kernels.rmsprop_step(seg.is_double, seg.offsets, addresses,
                              2 + len(self._state_names(o)), o["lr"], o["alpha"], o["eps"],
                              o["weight_decay"], o["momentum"], o["centered"],
                              o["maximize"], n_threads)


class Adam(Optimizer):
    __doc__ = f"""Adam, as torch.optim.Adam (AdamW: the same with decoupled weight decay).

    At step t, with d = -g if maximize else g (Adam: plus ``weight_decay * p``;
    AdamW: ``p *= 1 - lr * weight_decay`` first):
    ``m = lerp(m, d, 1 - beta1)``, ``v = beta2 * v + (1 - beta2) * d**2``
    (amsgrad: ``v_max = max(v_max, v)`` replaces v below), then
    ``p -= lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)``.

    Parameters
    ----------
    params : list of arrays or list of dicts
        The parameters (see Notes).
    lr : float, default 1e-3
        Learning rate, >= 0.
    betas : (float, float), default (0.9, 0.999)
        Decay rates of the first and second moments, each in [0, 1).
    eps : float, default 1e-8
        Added to the denominator, > 0.
    weight_decay : float, default 0 (AdamW: 1e-2)
        Weight decay coefficient, >= 0.
    amsgrad : bool, default False
        Use the running maximum of the second moment.
    maximize : bool, default False
        Ascend instead of descend.
    {_COMMON_DOC}

    Examples
    --------
    >>> import numpy as np
    >>> from fastloss.optim import Adam
    >>> w = np.array([1.0, -2.0])
    >>> opt = Adam([w], lr=0.1)
    >>> opt.step([np.array([0.5, -3.0])]); w.round(6)   # first step: lr * sign(g)
    array([ 0.9, -1.9])
    """

    _state_kinds = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, maximize=False, *, n_threads=None, nonfinite="propagate"):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize),
                         n_threads=n_threads, nonfinite=nonfinite)

    def _check_group(self, group, where):
        lr, wd, maximize = _check_common(group, where)
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"{where}['betas'] (betas) must be a pair of floats, "
                            f"got {betas!r}")
        beta1, beta2 = (check_real(f"{where}['betas'][{i}] (betas)", b, low=0.0, high=1.0,
                                   high_open=True) for i, b in enumerate(betas))
        return dict(lr=lr, weight_decay=wd, maximize=maximize, eps=_check_eps(group, where),
                    beta1=beta1, beta2=beta2,
                    amsgrad=check_flag(f"{where}['amsgrad'] (amsgrad)", group["amsgrad"]))

    def _state_names(self, o):
        return ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if o["amsgrad"] else ())

    def _update(self, seg, addresses, o, step, started, n_threads):
        # torch.optim.Adam's scalars, in double, in its order of operations
        step_size = o["lr"] / (1 - o["beta1"] ** step)
        bias_correction2_sqrt = (1 - o["beta2"] ** step) ** 0.5
        _kernels.adam_step(seg.is_double, seg.offsets, addresses, 5 if o["amsgrad"] else 4,
                           o["lr"], o["beta1"], o["beta2"], o["eps"], o["weight_decay"],
                           step_size, bias_correction2_sqrt, o["amsgrad"], o["maximize"],
                           self._decoupled, n_threads)


class AdamW(Adam):
    __doc__ = f"""AdamW: Adam with decoupled weight decay, as torch.optim.AdamW.

    Each step first shrinks the parameters, ``p *= 1 - lr * weight_decay``, then
    applies Adam's update without weight decay in the gradient (see `Adam`).

    Parameters
    ----------
    params, lr, betas, eps, amsgrad, maximize
        As for `Adam`.
    weight_decay : float, default 1e-2
        Decoupled weight decay coefficient, >= 0.
    {_COMMON_DOC}

    Examples
    --------
    >>> import numpy as np
    >>> from fastloss.optim import AdamW
    >>> w = np.array([1.0, -2.0])
    >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
    >>> opt.step([np.array([0.5, -3.0])]); w     # p * 0.95 - lr * sign(g)
    array([ 0.85, -1.8 ])
    """

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, maximize=False, *, n_threads=None, nonfinite="propagate"):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, n_threads=n_threads,
                         nonfinite=nonfinite)
