"""Learning-rate schedules, with the semantics of ``torch.optim.lr_scheduler``.

A scheduler drives the ``"lr"`` of every param group of an optimizer. It works with any
object whose ``param_groups`` is a list of dicts holding ``"lr"`` (a
``fastloss.optim`` optimizer, or a stand-in), exactly as PyTorch's schedulers do: it
writes ``group["lr"]``, which the optimizer reads at its next step, and, on a fresh
start, records ``group["initial_lr"]``. Constructing a scheduler sets the learning rate
of epoch 0; call ``step()`` once after each epoch (or each batch, when the schedule is
counted in batches)::

    for epoch in range(epochs):
        train_one_epoch(optimizer)   # uses group["lr"]
        scheduler.step()

Like PyTorch's, the decaying schedules (``StepLR``, ``MultiStepLR``, ``ExponentialLR``,
``CosineAnnealingLR``, ``LinearLR``) are *chainable*: each step updates the current
``group["lr"]`` rather than recomputing it from the initial value, so changes made by
other code between steps persist, and every step gives the same float as PyTorch.
``CosineAnnealingWarmRestarts`` and ``ReduceLROnPlateau`` work as in PyTorch too.

Differences from PyTorch: learning rates are Python floats (no tensors); ``step()`` of
the chainable schedules takes no epoch (PyTorch deprecated that argument); a scheduler
does not wrap ``optimizer.step`` to warn about the call order; ``MultiStepLR`` wants
strictly increasing milestones; ``SequentialLR`` is resumed with ``load_state_dict``
rather than ``last_epoch``; state dicts are laid out like PyTorch's but lack its
bookkeeping keys (``MultiStepLR`` keeps a list of milestones, not a counter, and warm
restarts add ``restarts`` and ``restart_decay``), so the two do not load into each other
(a state dict that does not fit raises ``ValueError``); and
``CosineAnnealingWarmRestarts`` accepts a real ``T_mult >= 1`` and decays each restart's
peak by ``restart_decay`` (Keras's ``m_mul``).
Every argument is checked: a bad one raises ``ValueError`` or ``TypeError`` naming it.
"""
import copy
import math
import numbers
import operator
from bisect import bisect_right

from .._validation import check_real

__all__ = ["LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
           "CosineAnnealingWarmRestarts", "LinearLR", "SequentialLR", "ReduceLROnPlateau"]


# ---------------------------------------------------------------- argument checks

def _check_optimizer(optimizer):
    groups = getattr(optimizer, "param_groups", None)
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise TypeError(f"optimizer must have a `param_groups` list of dicts (as "
                        f"fastloss.optim optimizers have), got {type(optimizer).__name__} "
                        f"whose param_groups is {type(groups).__name__}")
    if not groups:
        raise ValueError("optimizer.param_groups is empty: there is no learning rate to "
                         "schedule")
    for i, group in enumerate(groups):
        if "lr" not in group:
            raise ValueError(f"optimizer.param_groups[{i}] has no 'lr' key")
        check_real(f"optimizer.param_groups[{i}]['lr']", group["lr"], low=0.0)
    return optimizer


def _check_integer(name, value, minimum):
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {value!r} "
                        f"({type(value).__name__})") from None
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def _check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return value


def _check_increasing(name, values, minimum):
    try:
        values = list(values)
    except TypeError:
        raise TypeError(f"{name} must be a list of integers, got {values!r}") from None
    values = [_check_integer(f"{name}[{i}]", v, minimum) for i, v in enumerate(values)]
    for i in range(1, len(values)):
        if values[i] <= values[i - 1]:
            raise ValueError(f"{name} must be strictly increasing, got {values} "
                             f"({name}[{i}] = {values[i]} after {values[i - 1]})")
    return values


# ---------------------------------------------------------------- base class

class LRScheduler:
    """Base class of the schedules: sets ``initial_lr``, counts epochs, writes the lrs.

    Parameters
    ----------
    optimizer : object
        Anything with a ``param_groups`` list of dicts holding ``"lr"``.
    last_epoch : int, default -1
        Index of the last epoch done. -1 starts afresh: each group's ``"initial_lr"`` is
        set to its ``"lr"`` (unless already there). A value ``k >= 0`` resumes a schedule
        after epoch ``k`` and needs ``"initial_lr"`` in every group; construction then
        moves to epoch ``k + 1``, as in PyTorch. Prefer ``load_state_dict`` to resume.

    Subclasses give the learning rates of the next epoch from the current ones
    (``_chained_lrs``) and of epoch ``last_epoch`` from the initial ones
    (``_closed_form_lrs``).
    """

    def __init__(self, optimizer, last_epoch=-1):
        self.optimizer = _check_optimizer(optimizer)
        self.last_epoch = _check_integer("last_epoch", last_epoch, minimum=-1)
        groups = self.optimizer.param_groups
        if self.last_epoch == -1:
            for group in groups:
                group.setdefault("initial_lr", float(group["lr"]))
        for i, group in enumerate(groups):
            if "initial_lr" not in group:
                raise ValueError(f"last_epoch={last_epoch} resumes a schedule, but "
                                 f"optimizer.param_groups[{i}] has no 'initial_lr': start "
                                 "with last_epoch=-1 or restore the optimizer's state first")
            check_real(f"optimizer.param_groups[{i}]['initial_lr']", group["initial_lr"],
                       low=0.0)
        self.base_lrs = [float(group["initial_lr"]) for group in groups]
        self._advance(initial=True)

    def step(self):
        """Move to the next epoch and set each group's ``"lr"`` for it."""
        self._advance(initial=False)

    def get_last_lr(self):
        """The learning rates the last ``step`` (or the constructor) set, one per group."""
        return list(self._last_lr)

    def state_dict(self):
        """The scheduler's state (a dict of plain Python values, the optimizer left out)."""
        return {key: copy.deepcopy(value) for key, value in self.__dict__.items()
                if key != "optimizer"}

    def load_state_dict(self, state_dict):
        """Restore a state from ``state_dict()`` of the same kind of scheduler.

        Raises ``ValueError`` (and changes nothing) when the keys differ from this
        scheduler's, e.g. a state from another schedule, or when it holds a number of
        learning rates different from the optimizer's number of param groups.
        """
        self._check_state(state_dict)
        self.__dict__.update(copy.deepcopy(state_dict))

    def _check_state(self, state_dict):
        if not isinstance(state_dict, dict):
            raise TypeError(f"state_dict must be a dict, got {type(state_dict).__name__}")
        own = self.state_dict()
        if set(state_dict) != set(own):
            raise ValueError(
                f"state_dict does not fit a {type(self).__name__}: missing keys "
                f"{sorted(set(own) - set(state_dict))}, unexpected keys "
                f"{sorted(set(state_dict) - set(own))}")
        n_groups = len(self.optimizer.param_groups)
        for key in ("base_lrs", "min_lrs", "_last_lr"):
            if key in state_dict and len(state_dict[key]) != n_groups:
                raise ValueError(f"state_dict[{key!r}] holds {len(state_dict[key])} "
                                 f"learning rates, the optimizer has {n_groups} param groups")

    def _advance(self, initial):
        self.last_epoch += 1
        self._set_lrs(self._chained_lrs(initial))

    def _restart(self):
        """Jump to epoch 0 (what ``SequentialLR`` does at a milestone)."""
        self.last_epoch = 0
        self._set_lrs(self._closed_form_lrs())

    def _current_lrs(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    def _set_lrs(self, lrs):
        lrs = [float(lr) for lr in lrs]
        for group, lr in zip(self.optimizer.param_groups, lrs, strict=True):
            group["lr"] = lr
        self._last_lr = lrs

    def _chained_lrs(self, initial):
        raise NotImplementedError

    def _closed_form_lrs(self):
        raise NotImplementedError


# ---------------------------------------------------------------- decaying schedules

class StepLR(LRScheduler):
    """Decay each group's learning rate by ``gamma`` every ``step_size`` epochs.

    .. math:: \\eta_t = \\eta_0 \\, \\gamma^{\\lfloor t / \\text{step\\_size} \\rfloor}

    Parameters
    ----------
    optimizer : object
        Anything with a ``param_groups`` list of dicts holding ``"lr"``.
    step_size : int
        Period of the decay, in epochs (>= 1).
    gamma : float, default 0.1
        Multiplicative factor (> 0; above 1 the rate grows).
    last_epoch : int, default -1
        See `LRScheduler`.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from fastloss.optim.lr_scheduler import StepLR
    >>> optimizer = SimpleNamespace(param_groups=[{"lr": 1.0}])
    >>> scheduler = StepLR(optimizer, step_size=2, gamma=0.5)
    >>> lrs = []
    >>> for epoch in range(6):
    ...     lrs.append(optimizer.param_groups[0]["lr"])   # train one epoch
    ...     scheduler.step()
    >>> lrs
    [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = _check_integer("step_size", step_size, minimum=1)
        self.gamma = check_real("gamma", gamma, low=0.0, low_open=True)
        super().__init__(optimizer, last_epoch)

    def _chained_lrs(self, initial):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _closed_form_lrs(self):
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size)
                for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Decay each group's learning rate by ``gamma`` at each milestone epoch.

    .. math:: \\eta_t = \\eta_0 \\, \\gamma^{\\#\\{m \\in \\text{milestones} : m \\le t\\}}

    Parameters
    ----------
    optimizer : object
        Anything with a ``param_groups`` list of dicts holding ``"lr"``.
    milestones : list of int
        Strictly increasing epochs (>= 0) at which the rate drops.
    gamma : float, default 0.1
        Multiplicative factor (> 0).
    last_epoch : int, default -1
        See `LRScheduler`.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from fastloss.optim.lr_scheduler import MultiStepLR
    >>> optimizer = SimpleNamespace(param_groups=[{"lr": 1.0}])
    >>> scheduler = MultiStepLR(optimizer, milestones=[1, 4], gamma=0.5)
    >>> lrs = []
    >>> for epoch in range(6):
    ...     lrs.append(optimizer.param_groups[0]["lr"])
    ...     scheduler.step()
    >>> lrs
    [1.0, 0.5, 0.5, 0.5, 0.25, 0.25]
    """

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones = _check_increasing("milestones", milestones, minimum=0)
        self.gamma = check_real("gamma", gamma, low=0.0, low_open=True)
        super().__init__(optimizer, last_epoch)

    def _chained_lrs(self, initial):
        if self.last_epoch not in self.milestones:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _closed_form_lrs(self):
        passed = bisect_right(self.milestones, self.last_epoch)
        return [base_lr * self.gamma ** passed for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Decay each group's learning rate by ``gamma`` every epoch.

    .. math:: \\eta_t = \\eta_0 \\, \\gamma^t

    Parameters
    ----------
    optimizer : object
        Anything with a ``param_groups`` list of dicts holding ``"lr"``.
    gamma : float
        Multiplicative factor (> 0).
    last_epoch : int, default -1
        See `LRScheduler`; on a resume the optimizer's current rates are kept.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from fastloss.optim.lr_scheduler import ExponentialLR
    >>> optimizer = SimpleNamespace(param_groups=[{"lr": 1.0}])
    >>> scheduler = ExponentialLR(optimizer, gamma=0.5)
    >>> lrs = []
    >>> for epoch in range(4):
    ...     lrs.append(optimizer.param_groups[0]["lr"])
    ...     scheduler.step()
    >>> lrs
    [1.0, 0.5, 0.25, 0.125]
    """

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = check_real("gamma", gamma, low=0.0, low_open=True)
        super().__init__(optimizer, last_epoch)

    def _chained_lrs(self, initial):
        if initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _closed_form_lrs(self):
        return [base_lr * self.gamma ** self.last_epoch for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Anneal each group's learning rate from its initial value to ``eta_min`` along a
    half cosine over ``T_max`` epochs.

    .. math:: \\eta_t = \\eta_{min} + \\tfrac12 (\\eta_0 - \\eta_{min})
              \\left(1 + \\cos\\frac{\\pi t}{T_{max}}\\right)

    As in PyTorch, each step applies the ratio of two consecutive values of this curve
    to the current rate (so it chains with other changes), and past ``T_max`` the rate
    follows the cosine back up (period ``2 T_max``) with no restart; for restarts use
    `CosineAnnealingWarmRestarts`.

    Parameters
    ----------
    optimizer : object
        Anything with a ``param_groups`` list of dicts holding ``"lr"``.
    T_max : int
        Epochs of the half period (>= 1).
    eta_min : float, default 0.0
        Lowest learning rate (>= 0).
    last_epoch : int, default -1
        See `LRScheduler`; on a resume the optimizer's current rates are kept.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from fastloss.optim.lr_scheduler import CosineAnnealingLR
    >>> optimizer = SimpleNamespace(param_groups=[{"lr": 1.0}])
    >>> scheduler = CosineAnnealingLR(optimizer, T_max=4)
    >>> lrs = []
    >>> for epoch in range(5):
    ...     lrs.append(round(optimizer.param_groups[0]["lr"], 6))
    ...     scheduler.step()
    >>> lrs
    [1.0, 0.853553, 0.5, 0.146447, 0.0]
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max = _check_integer("T_max", T_max, minimum=1)
        self.eta_min = check_real("eta_min", eta_min, low=0.0)
        super().__init__(optimizer, last_epoch)

    def _chained_lrs(self, initial):
        t, period = self.last_epoch, self.T_max
        if initial:
            return self._current_lrs()
        if (t - 1 - period) % (2 * period) == 0:
            # leaving the trough: the ratio below would divide by 1 + cos(pi) = 0
            return [lr + (base_lr - self.eta_min) * (1 - math.cos(math.pi / period)) / 2
                    for lr, base_lr in zip(self._current_lrs(), self.base_lrs)]
        ratio = (1 + math.cos(math.pi * t / period)) / (1 + math.cos(math.pi * (t - 1) / period))
        return [ratio * (lr - self.eta_min) + self.eta_min for lr in self._current_lrs()]

    def _closed_form_lrs(self):
        return [self.eta_min
                + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    """Scale each group's learning rate by a factor that moves linearly from
    ``start_factor`` to ``end_factor`` over ``total_iters`` epochs (a warm-up when
    ``start_factor < end_factor``), then stays at ``end_factor``.

    .. math:: \\eta_t = \\eta_0 \\left(f_s + (f_e - f_s)
              \\frac{\\min(t, T)}{T}\\right), \\quad T = \\text{total\\_iters}

    Parameters
    ----------
    optimizer : object
        Anything with a ``param_groups`` list of dicts holding ``"lr"``.
    start_factor : float, default 1/3
        Factor of epoch 0, in (0, 1].
    end_factor : float, default 1.0
        Factor from epoch ``total_iters`` on, in [0, 1].
    total_iters : int, default 5
        Epochs of the linear change (>= 1).
    last_epoch : int, default -1
        See `LRScheduler`; on a resume the optimizer's current rates are kept.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from fastloss.optim.lr_scheduler import LinearLR
    >>> optimizer = SimpleNamespace(param_groups=[{"lr": 1.0}])
    >>> scheduler = LinearLR(optimizer, start_factor=0.25, total_iters=3)
    >>> lrs = []
    >>> for epoch in range(5):
    ...     lrs.append(optimizer.param_groups[0]["lr"])
    ...     scheduler.step()
    >>> lrs
    [0.25, 0.5, 0.75, 1.0, 1.0]
    """

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5,
                 last_epoch=-1):
        self.start_factor = check_real("start_factor", start_factor, low=0.0, high=1.0,
                                       low_open=True)
        self.end_factor = check_real("end_factor", end_factor, low=0.0, high=1.0)
        self.total_iters = _check_integer("total_iters", total_iters, minimum=1)
        super().__init__(optimizer, last_epoch)

    def _chained_lrs(self, initial):
        t, start, change = self.last_epoch, self.start_factor, self.end_factor - self.start_factor
        if t == 0:
            return [lr * start for lr in self._current_lrs()]
        if initial or t > self.total_iters:
            return self._current_lrs()
        # factor(t) / factor(t - 1), with factor(t) = start + change * t / total_iters
        ratio = 1.0 + change / (self.total_iters * start + (t - 1) * change)
        return [lr * ratio for lr in self._current_lrs()]

    def _closed_form_lrs(self):
        progress = min(self.total_iters, self.last_epoch) / self.total_iters
        return [base_lr * (self.start_factor + (self.end_factor - self.start_factor) * progress)
                for base_lr in self.base_lrs]


# ---------------------------------------------------------------- warm restarts

class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing with warm restarts (SGDR, Loshchilov & Hutter, 2017).

    Cycle :math:`i = 0, 1, \\dots` lasts :math:`T_i = T_0 \\, T_{mult}^i` epochs; within
    it, after :math:`T_{cur}` epochs,

    .. math:: \\eta = \\eta_{min} + \\tfrac12 (\\eta_0 - \\eta_{min}) \\, d^{\\,i}
              \\left(1 + \\cos\\frac{\\pi T_{cur}}{T_i}\\right)

    where :math:`d` is ``restart_decay``. Each restart jumps back to the (decayed) peak.
    With ``restart_decay=1`` and an integer ``T_mult`` this is PyTorch's schedule.

    Parameters
    ----------
    optimizer : object
        Anything with a ``param_groups`` list of dicts holding ``"lr"``.
    T_0 : int
        Length of the first cycle, in epochs (>= 1).
    T_mult : float, default 1
        Growth of the cycle length after each restart: a real number >= 1 (below 1 the
        cycles would shrink to nothing and restart infinitely often). A non-integer value
        gives non-integer cycle lengths; with integer steps a restart then happens at the
        first step at or past the end of a cycle, with :math:`T_{cur}` the fractional
        overshoot.
    eta_min : float, default 0.0
        Lowest learning rate (>= 0).
    last_epoch : int, default -1
        See `LRScheduler`; a resume moves to epoch ``last_epoch + 1`` by the closed form.
    restart_decay : float, default 1.0
        Factor in (0, 1] applied to the height of each new cycle above ``eta_min``
        (``m_mul`` in Keras's ``CosineDecayRestarts``); 1 keeps every peak at the
        initial rate.

    Notes
    -----
    ``step(epoch)`` jumps to any real ``epoch >= 0`` (e.g. ``epoch + batch / n_batches``
    after each batch); ``step()`` adds one epoch to the cycle position. ``last_epoch`` is
    ``floor(epoch)``; ``T_cur``, ``T_i`` and ``restarts`` (the cycle's index) give the
    position in the current cycle.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from fastloss.optim.lr_scheduler import CosineAnnealingWarmRestarts
    >>> optimizer = SimpleNamespace(param_groups=[{"lr": 1.0}])
    >>> scheduler = CosineAnnealingWarmRestarts(optimizer, T_0=2, T_mult=2,
    ...                                         restart_decay=0.5)
    >>> lrs = []
    >>> for epoch in range(8):
    ...     lrs.append(round(optimizer.param_groups[0]["lr"], 6))
    ...     scheduler.step()
    >>> lrs
    [1.0, 0.5, 0.5, 0.426777, 0.25, 0.073223, 0.25, 0.240485]
    """

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1,
                 restart_decay=1.0):
        self.T_0 = _check_integer("T_0", T_0, minimum=1)
        self.T_mult = check_real("T_mult", T_mult, low=1.0)
        if isinstance(T_mult, numbers.Integral):
            self.T_mult = int(T_mult)   # integer cycle lengths stay exact integers
        self.eta_min = check_real("eta_min", eta_min, low=0.0)
        self.restart_decay = check_real("restart_decay", restart_decay, low=0.0,
                                        high=1.0, low_open=True)
        self.T_i = self.T_0
        self.T_cur = 0
        self.restarts = 0
        super().__init__(optimizer, last_epoch)

    def step(self, epoch=None):
        """Move one epoch on, or to ``epoch`` (a real number >= 0) when given."""
        if epoch is None:
            self.last_epoch += 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
                self.restarts += 1
        else:
            self._move_to(check_real("epoch", epoch, low=0.0))
        self._set_lrs(self._closed_form_lrs())

    def _advance(self, initial):
        self.step(self.last_epoch + 1)

    def _restart(self):
        self.step(0)

    def _move_to(self, epoch):
        """Find the cycle holding ``epoch``: cycle n starts at S_n = T_0 (T_mult^n - 1) /
        (T_mult - 1), or T_0 n when T_mult = 1."""
        if self.T_mult == 1:
            cycle = int(epoch // self.T_0)
            self.T_cur = epoch % self.T_0
        else:
            def cycle_start(n):
                return self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
            cycle = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
            # the logarithm can round across a cycle boundary: settle on the exact cycle
            while cycle > 0 and cycle_start(cycle) > epoch:
                cycle -= 1
            while cycle_start(cycle + 1) <= epoch:
                cycle += 1
            self.T_cur = epoch - cycle_start(cycle)
        self.T_i = self.T_0 * self.T_mult ** cycle
        self.restarts = cycle
        self.last_epoch = math.floor(epoch)

    def _closed_form_lrs(self):
        cosine = 1 + math.cos(math.pi * self.T_cur / self.T_i)
        return [self.eta_min
                + (base_lr - self.eta_min) * self.restart_decay ** self.restarts * cosine / 2
                for base_lr in self.base_lrs]


# ---------------------------------------------------------------- composition

class SequentialLR(LRScheduler):
    """Run schedules one after the other, switching at the milestone epochs.

    Schedule ``i`` drives the learning rate from epoch ``milestones[i - 1]`` (0 for the
    first) and restarts from its own epoch 0 there; e.g. a `LinearLR` warm-up followed
    by `CosineAnnealingLR`. As in PyTorch, the schedules must be built on the same
    optimizer before being passed here, and construction resets every group's ``"lr"``
    to its ``"initial_lr"`` and sets epoch 0 of the first schedule.

    Parameters
    ----------
    optimizer : object
        The optimizer of every schedule.
    schedulers : list of LRScheduler
        At least one; not `ReduceLROnPlateau` (its step needs a metric) nor another
        `SequentialLR`.
    milestones : list of int
        ``len(schedulers) - 1`` strictly increasing epochs (>= 1).
    last_epoch : int, default -1
        Only -1: resume with ``load_state_dict``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from fastloss.optim.lr_scheduler import LinearLR, ExponentialLR, SequentialLR
    >>> optimizer = SimpleNamespace(param_groups=[{"lr": 1.0}])
    >>> warmup = LinearLR(optimizer, start_factor=0.5, total_iters=2)
    >>> decay = ExponentialLR(optimizer, gamma=0.5)
    >>> scheduler = SequentialLR(optimizer, [warmup, decay], milestones=[2])
    >>> lrs = []
    >>> for epoch in range(5):
    ...     lrs.append(optimizer.param_groups[0]["lr"])
    ...     scheduler.step()
    >>> lrs
    [0.5, 0.75, 1.0, 0.5, 0.25]
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        self.optimizer = _check_optimizer(optimizer)
        if last_epoch != -1:
            raise ValueError(f"SequentialLR starts at last_epoch=-1 (resume it with "
                             f"load_state_dict), got last_epoch={last_epoch!r}")
        schedulers = list(schedulers)
        if not schedulers:
            raise ValueError("schedulers is empty: SequentialLR needs at least one")
        for i, scheduler in enumerate(schedulers):
            if not isinstance(scheduler, LRScheduler):
                raise TypeError(f"schedulers[{i}] must be a learning-rate scheduler, got "
                                f"{type(scheduler).__name__}")
            if isinstance(scheduler, (ReduceLROnPlateau, SequentialLR)):
                raise ValueError(f"schedulers[{i}] is a {type(scheduler).__name__}, which "
                                 "SequentialLR cannot drive")
            if scheduler.optimizer is not optimizer:
                raise ValueError(f"schedulers[{i}] drives another optimizer than the one "
                                 "given to SequentialLR")
        self.milestones = _check_increasing("milestones", milestones, minimum=1)
        if len(self.milestones) != len(schedulers) - 1:
            raise ValueError(f"milestones must hold len(schedulers) - 1 = "
                             f"{len(schedulers) - 1} epochs, got {len(self.milestones)}")
        self._schedulers = schedulers
        self.last_epoch = 0
        self.base_lrs = [float(group["initial_lr"]) for group in optimizer.param_groups]
        self._set_lrs(self.base_lrs)
        # each schedule stepped once when it was built: take that back, then let the
        # first one set epoch 0 from the initial rates
        for scheduler in schedulers:
            scheduler.last_epoch -= 1
        schedulers[0]._advance(initial=True)
        self._last_lr = schedulers[0].get_last_lr()

    def step(self):
        """Move to the next epoch with the schedule in charge of it."""
        self.last_epoch += 1
        index = bisect_right(self.milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self.milestones[index - 1] == self.last_epoch:
            scheduler._restart()
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self):
        """This schedule's state, with the state of each schedule under ``"_schedulers"``."""
        state = {key: copy.deepcopy(value) for key, value in self.__dict__.items()
                 if key not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [scheduler.state_dict() for scheduler in self._schedulers]
        return state

    def load_state_dict(self, state_dict):
        """Restore a state from ``state_dict()`` of a `SequentialLR` of the same schedules
        (every state is checked before any is loaded)."""
        self._check_state(state_dict)
        states = state_dict["_schedulers"]
        if not isinstance(states, list) or len(states) != len(self._schedulers):
            raise ValueError(f"state_dict['_schedulers'] must be a list of "
                             f"{len(self._schedulers)} scheduler states, got {states!r}")
        for scheduler, state in zip(self._schedulers, states):
            scheduler._check_state(state)
        self.__dict__.update(copy.deepcopy({key: value for key, value in state_dict.items()
                                            if key != "_schedulers"}))
        for scheduler, state in zip(self._schedulers, states):
            scheduler.load_state_dict(state)


# ---------------------------------------------------------------- metric-driven

class ReduceLROnPlateau(LRScheduler):
    """Reduce the learning rate when a metric has stopped improving.

    After each epoch call ``step(metric)``. A value is an improvement when it beats the
    best so far by the threshold: in mode ``"min"``, ``metric < best * (1 - threshold)``
    (``threshold_mode="rel"``) or ``metric < best - threshold`` (``"abs"``); mode
    ``"max"`` mirrors this. Once more than ``patience`` epochs in a row bring no
    improvement, every group's rate becomes ``max(lr * factor, min_lr)`` (skipped when
    that changes it by no more than ``eps``), then ``cooldown`` epochs pass during which
    bad epochs are not counted. A NaN metric is never an improvement.

    Parameters
    ----------
    optimizer : object
        Anything with a ``param_groups`` list of dicts holding ``"lr"``.
    mode : {"min", "max"}, default "min"
        Whether the metric should go down (a loss) or up (an accuracy).
    factor : float, default 0.1
        Multiplier of the rate at a reduction, in (0, 1).
    patience : int, default 10
        Epochs without improvement tolerated before a reduction (>= 0).
    threshold : float, default 1e-4
        Smallest improvement that counts (>= 0; below 1 in ``"rel"`` mode).
    threshold_mode : {"rel", "abs"}, default "rel"
        Whether ``threshold`` is relative to the best value or absolute.
    cooldown : int, default 0
        Epochs after a reduction during which bad epochs are ignored (>= 0).
    min_lr : float or list of float, default 0
        Lowest rate, for all groups or per group (>= 0).
    eps : float, default 1e-8
        Reductions that change a rate by no more than this are skipped (>= 0).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from fastloss.optim.lr_scheduler import ReduceLROnPlateau
    >>> optimizer = SimpleNamespace(param_groups=[{"lr": 1.0}])
    >>> scheduler = ReduceLROnPlateau(optimizer, factor=0.5, patience=1)
    >>> lrs = []
    >>> for validation_loss in [3.0, 2.0, 2.5, 2.5, 2.5, 1.0]:
    ...     scheduler.step(validation_loss)
    ...     lrs.append(optimizer.param_groups[0]["lr"])
    >>> lrs
    [1.0, 1.0, 1.0, 0.5, 0.5, 0.5]
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8):
        self.optimizer = _check_optimizer(optimizer)
        n_groups = len(optimizer.param_groups)
        self.mode = _check_choice("mode", mode, {"min", "max"})
        self.factor = check_real("factor", factor, low=0.0, high=1.0,
                                 low_open=True, high_open=True)
        self.patience = _check_integer("patience", patience, minimum=0)
        self.threshold_mode = _check_choice("threshold_mode", threshold_mode, {"rel", "abs"})
        # a relative threshold of 1 or more would ask for a metric beyond zero (or NaN
        # from inf * 0 at the start): no improvement could ever count
        self.threshold = check_real("threshold", threshold, low=0.0, high=1.0,
                                    high_open=threshold_mode == "rel")
        self.cooldown = _check_integer("cooldown", cooldown, minimum=0)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n_groups:
                raise ValueError(f"min_lr holds {len(min_lr)} values, the optimizer has "
                                 f"{n_groups} param groups")
            self.default_min_lr = None
            self.min_lrs = [check_real(f"min_lr[{i}]", v, low=0.0)
                            for i, v in enumerate(min_lr)]
        else:
            self.default_min_lr = check_real("min_lr", min_lr, low=0.0)
            self.min_lrs = [self.default_min_lr] * n_groups
        self.eps = check_real("eps", eps, low=0.0)
        self.last_epoch = 0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self._last_lr = [float(lr) for lr in self._current_lrs()]

    def step(self, metrics):
        """Record the metric of the epoch just done and reduce the rates if it stalls."""
        if isinstance(metrics, (str, bytes)):
            raise TypeError(f"metrics must be a number, got {metrics!r}")
        try:
            current = float(metrics)
        except (TypeError, ValueError):
            raise TypeError(f"metrics must be a number, got {metrics!r} "
                            f"({type(metrics).__name__})") from None
        self.last_epoch += 1
        if self._improves(current):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lrs()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [float(lr) for lr in self._current_lrs()]

    def _improves(self, value):
        if self.mode == "min":
            bar = self.best * (1.0 - self.threshold) if self.threshold_mode == "rel" \
                else self.best - self.threshold
            return value < bar
        bar = self.best * (self.threshold + 1.0) if self.threshold_mode == "rel" \
            else self.best + self.threshold
        return value > bar

    def _reduce_lrs(self):
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise ValueError(f"the optimizer now has {len(groups)} param groups, but "
                                 f"min_lr was given for {len(self.min_lrs)}: set min_lrs to "
                                 "one value per group")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr
