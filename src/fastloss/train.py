"""Gradient descent loops: batch, stochastic and mini-batch.

`fit` trains any *model* with any optimizer of the `fastloss.optim` contract;
`minibatches` is the epoch iterator it uses, also usable on its own.

The model protocol
------------------
A model is any object with

- ``model.parameters()`` -> list of NumPy arrays, the trainable parameters. The optimizer
  updates them in place, so it must be built over these same arrays, in this order.
- ``model.value_and_grad(loss, X_batch, y_batch)`` -> ``(value, grads)``: the loss
  (a float) on the batch and the list of its gradients with respect to each parameter,
  aligned with ``parameters()``.
- optionally ``model.value(loss, X, y)`` -> float, used for the validation loss; without
  it the validation loss comes from ``value_and_grad`` (the gradient is discarded).

`loss` is passed through to the model untouched: usually a fastloss loss object such as
`fastloss.MSELoss()`, whose ``value_and_grad(prediction, target)`` gives the gradient with
respect to the prediction, which the model back-propagates to its parameters.

The update rule is ``theta := theta - lr * grad J(theta)`` (or whatever the optimizer
does); what changes between the three forms is the batch J is evaluated on:
``batch_size=None`` is batch gradient descent (the whole set at every step), ``1`` is
stochastic gradient descent (one sample per step), ``m`` is mini-batch gradient descent.

Examples
--------
A linear regression in ten lines of NumPy, trained by mini-batch gradient descent:

>>> import numpy as np, fastloss
>>> class LinearRegression:
...     def __init__(self, n_features):
...         self.w, self.b = np.zeros(n_features), np.zeros(1)
...     def parameters(self):
...         return [self.w, self.b]
...     def value_and_grad(self, loss, X, y):
...         value, d_prediction = loss.value_and_grad(X @ self.w + self.b, y)
...         return float(value), [X.T @ d_prediction, d_prediction.sum(keepdims=True)]

Any optimizer of the `fastloss.optim` contract works (``fastloss.optim.SGD`` for one);
the contract is small enough to write plain gradient descent in five lines:

>>> class GradientDescent:
...     def __init__(self, params, lr):
...         self.param_groups = [{"params": params, "lr": lr}]
...     def step(self, grads):
...         for p, g in zip(self.param_groups[0]["params"], grads):
...             p -= self.param_groups[0]["lr"] * g

>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(200, 3))
>>> y = X @ np.array([1.0, -2.0, 0.5]) + 3.0
>>> model = LinearRegression(3)
>>> optimizer = GradientDescent(model.parameters(), lr=0.05)
>>> history = fastloss.train.fit(model, fastloss.MSELoss(), optimizer, X, y,
...                              batch_size=20, epochs=30, seed=0, snapshot_every=10)
>>> np.round(model.w, 6).tolist(), np.round(model.b, 6).tolist()
([1.0, -2.0, 0.5], [3.0])
>>> history.steps, history.step_loss.shape, history.snapshots.shape
(300, (300,), (31, 4))
>>> bool(history.epoch_loss[-1] < 1e-12)
True

A logistic regression is the same model on logits: only the loss changes (the gradient
of `fastloss.BCEWithLogitsLoss` with respect to the logits back-propagates the same
way). Trained here by stochastic gradient descent (one sample per step):

>>> class LogisticRegression(LinearRegression):
...     def predict(self, X):
...         return (X @ self.w + self.b > 0).astype(float)
>>> X = np.r_[rng.normal(-2.0, 0.7, size=(60, 2)), rng.normal(2.0, 0.7, size=(60, 2))]
>>> y = np.r_[np.zeros(60), np.ones(60)]
>>> model = LogisticRegression(2)
>>> optimizer = GradientDescent(model.parameters(), lr=0.5)
>>> history = fastloss.train.fit(model, fastloss.BCEWithLogitsLoss(), optimizer, X, y,
...                              batch_size=1, epochs=10, seed=0)
>>> float(np.mean(model.predict(X) == y)), bool(history.epoch_loss[-1] < 0.05)
(1.0, True)
"""
import inspect
import math
import numbers
import sys
import time
import warnings

import numpy as np

from ._validation import check_real

__all__ = ["fit", "minibatches", "History", "EarlyStopping", "NonFiniteLossError"]

_MONITORS = ("auto", "loss", "val_loss")
_SCHEDULER_INTERVALS = ("epoch", "step")
_NONFINITE_POLICIES = ("raise", "stop")


def _check_positive_int(name, value, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        expected = "a positive integer or None" if allow_none else "a positive integer"
        raise TypeError(f"{name} must be {expected}, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value!r}")
    return int(value)


def _check_choice(name, value, choices):
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def _check_samples(X, y, x_name="X", y_name="y"):
    """X and y as arrays with the same number of samples (their first axis)."""
    X, y = np.asarray(X), np.asarray(y)
    for name, a in ((x_name, X), (y_name, y)):
        if a.ndim == 0:
            raise ValueError(f"{name} must have a first axis of samples, got a 0-d array")
    if len(X) != len(y):
        raise ValueError(f"{x_name} and {y_name} must have the same number of samples, got "
                         f"{x_name} of shape {X.shape} and {y_name} of shape {y.shape}")
    if len(X) == 0:
        raise ValueError(f"{x_name} and {y_name} hold no samples (shape {X.shape})")
    return X, y


def _epoch_batches(X, y, batch_size, shuffle, rng, drop_last):
    """One epoch's (X_batch, y_batch): slices of X and y in order, or fancy-indexed
    copies along a fresh permutation from `rng`."""
    n = len(X)
    if batch_size is None or (batch_size >= n and not drop_last):
        # A full batch: its order changes nothing but the rounding of the gradient.
        yield X, y
        return
    order = rng.permutation(n) if shuffle else None
    stop_at = n - n % batch_size if drop_last else n
    for start in range(0, stop_at, batch_size):
        if order is None:
            yield X[start:start + batch_size], y[start:start + batch_size]
        else:
            rows = order[start:start + batch_size]
            yield X[rows], y[rows]


def _batches_per_epoch(n, batch_size, drop_last):
    if batch_size is None:
        return 1
    return n // batch_size if drop_last else -(-n // batch_size)


def minibatches(X, y, batch_size, shuffle=True, seed=None, drop_last=False):
    """Iterate over one epoch of (X_batch, y_batch) pairs.

    Parameters
    ----------
    X, y : array_like
        Samples along the first axis; the same number of samples in both.
    batch_size : int or None
        Samples per batch (>= 1); ``None`` yields the whole set as one batch. The last
        batch is smaller when `batch_size` does not divide the number of samples.
    shuffle : bool, default True
        Visit the samples in a random order (a fresh permutation per call). The whole
        set as one batch is never shuffled: its order only changes rounding.
    seed : int, numpy.random.Generator or None
        Seeds ``numpy.random.default_rng``: the same int gives the same order. Pass one
        Generator to successive calls for a different, reproducible order per epoch.
    drop_last : bool, default False
        Skip the last, smaller batch.

    Yields
    ------
    (X_batch, y_batch)
        Views into X and y (slices) without shuffling; copies (fancy indexing) with it.
        Every sample appears exactly once per epoch (except those dropped by
        `drop_last`).

    Raises
    ------
    ValueError
        X and y of different lengths or empty, batch_size < 1.
    TypeError
        batch_size not an integer.

    Examples
    --------
    >>> import numpy as np
    >>> from fastloss.train import minibatches
    >>> X, y = np.arange(10).reshape(5, 2), np.arange(5)
    >>> [yb.tolist() for _, yb in minibatches(X, y, 2, shuffle=False)]
    [[0, 1], [2, 3], [4]]
    >>> sorted(int(v) for _, yb in minibatches(X, y, 2, seed=1) for v in yb)
    [0, 1, 2, 3, 4]
    """
    # Checked here, not when the first batch is drawn.
    X, y = _check_samples(X, y)
    batch_size = _check_positive_int("batch_size", batch_size, allow_none=True)
    rng = np.random.default_rng(seed) if shuffle else None
    return _epoch_batches(X, y, batch_size, bool(shuffle), rng, bool(drop_last))


class NonFiniteLossError(FloatingPointError):
    """Training met a NaN or infinite loss; `history` holds the run up to that step
    (the offending loss included; the parameters are those before that step)."""

    def __init__(self, message, history):
        super().__init__(message)
        self.history = history


class EarlyStopping:
    """Stop `fit` when the monitored loss stops improving.

    An epoch improves when its monitored loss is below ``best - min_delta``; training
    stops after `patience` epochs in a row without improvement. A NaN loss never
    improves. The monitored loss is chosen by `fit`'s `monitor` (the validation loss
    when `validation_data` is given, else the epoch's mean training loss).

    Parameters
    ----------
    patience : int, default 5
        Epochs without improvement before stopping (>= 1).
    min_delta : float, default 0.0
        Smallest decrease counted as an improvement (>= 0).
    restore_best : bool, default True
        At the end of `fit` (stopped early or not), copy the parameters of the best
        epoch back into the model's arrays. The history's last snapshot stays the
        trajectory's end.

    After `fit`, `best_epoch` (0-based) and `best` hold the best epoch and its loss.
    One object can serve several `fit` calls: each starts afresh.
    """

    def __init__(self, patience=5, min_delta=0.0, restore_best=True):
        self.patience = _check_positive_int("patience", patience)
        self.min_delta = check_real("min_delta", min_delta, low=0.0)
        self.restore_best = bool(restore_best)
        self.best = math.inf
        self.best_epoch = None
        self._epochs_without_improvement = 0

    def _reset(self):
        self.best = math.inf
        self.best_epoch = None
        self._epochs_without_improvement = 0

    def _update(self, epoch, value):
        """Record an epoch's loss; returns (improved, should_stop)."""
        if value < self.best - self.min_delta:
            self.best, self.best_epoch = value, epoch
            self._epochs_without_improvement = 0
            return True, False
        self._epochs_without_improvement += 1
        return False, self._epochs_without_improvement >= self.patience

    def __repr__(self):
        return (f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta}, "
                f"restore_best={self.restore_best})")


class History:
    """What `fit` recorded. Arrays grow as training runs (callbacks see them so far).

    Attributes
    ----------
    steps, epochs : int
        Optimizer steps taken and epochs completed.
    step_loss : ndarray (steps,) float64
        The batch loss of every step, at the parameters before the step.
    lr : ndarray (steps,) float64
        The learning rate of param group 0 used by every step.
    group_lrs : ndarray (steps, n_groups) float64
        The learning rate of every param group used by every step.
    epoch_loss : ndarray (epochs,) float64
        Mean step loss of each epoch, weighted by batch size: for a loss averaged over
        its batch, the mean per-sample loss over the epoch (each sample at the
        parameters of its step).
    val_loss : ndarray (epochs,) float64 or None
        The loss on `validation_data` after each epoch; None without validation data.
    epoch_time : ndarray (epochs,) float64
        Seconds from the start of `fit` to the end of each epoch.
    wall_time : float
        Seconds `fit` took.
    snapshots : ndarray (n_snapshots, n_params)
        With `snapshot_every=k`: copies of the parameters, raveled and concatenated in
        ``model.parameters()`` order, before the first step, after every k-th step, and
        after the last step (not after a non-finite loss, whose step made no update);
        dtype that of the parameters (their common type).
        Empty (0, n_params) without `snapshot_every`.
    snapshot_steps : ndarray (n_snapshots,) int64
        The number of steps taken when each snapshot was taken.
    stop_reason : str
        "completed", "early_stopping", "callback" or "nonfinite" (``on_nonfinite=
        "stop"``); None while training runs.
    best_epoch : int or None
        With early stopping: the epoch with the best monitored loss.
    """

    def __init__(self, max_steps, max_epochs, n_groups, n_params, snapshot_every,
                 snapshot_dtype, with_validation):
        self.steps = 0
        self.epochs = 0
        self.n_snapshots = 0
        self.wall_time = 0.0
        self.stop_reason = None
        self.best_epoch = None
        self._step_loss = np.empty(max_steps)
        self._group_lrs = np.empty((max_steps, n_groups))
        self._epoch_loss = np.empty(max_epochs)
        self._val_loss = np.empty(max_epochs) if with_validation else None
        self._epoch_time = np.empty(max_epochs)
        # the initial parameters, every k-th step, and the last step
        max_snapshots = 0 if snapshot_every is None else max_steps // snapshot_every + 2
        self._snapshots = np.empty((max_snapshots, n_params), dtype=snapshot_dtype)
        self._snapshot_steps = np.empty(max_snapshots, dtype=np.int64)

    @property
    def step_loss(self):
        return self._step_loss[:self.steps]

    @property
    def group_lrs(self):
        return self._group_lrs[:self.steps]

    @property
    def lr(self):
        return self._group_lrs[:self.steps, 0]

    @property
    def epoch_loss(self):
        return self._epoch_loss[:self.epochs]

    @property
    def val_loss(self):
        return None if self._val_loss is None else self._val_loss[:self.epochs]

    @property
    def epoch_time(self):
        return self._epoch_time[:self.epochs]

    @property
    def snapshots(self):
        return self._snapshots[:self.n_snapshots]

    @property
    def snapshot_steps(self):
        return self._snapshot_steps[:self.n_snapshots]

    def __repr__(self):
        last = f", epoch_loss[-1]={self.epoch_loss[-1]:.6g}" if self.epochs else ""
        return (f"History(steps={self.steps}, epochs={self.epochs}{last}, "
                f"stop_reason={self.stop_reason!r})")


class _ProgressBar:
    """One line on a terminal, redrawn at most ten times a second."""

    WIDTH = 30
    INTERVAL = 0.1

    def __init__(self, stream, epochs, batches_per_epoch):
        self.stream = stream
        self.epochs = epochs
        self.batches_per_epoch = batches_per_epoch
        self.last_draw = -math.inf

    def update(self, epoch, batch, loss, force=False):
        now = time.monotonic()
        if not force and now - self.last_draw < self.INTERVAL:
            return
        self.last_draw = now
        done = self.WIDTH * batch // self.batches_per_epoch
        bar = "#" * done + "." * (self.WIDTH - done)
        self.stream.write(f"\repoch {epoch + 1}/{self.epochs} [{bar}] "
                          f"{batch}/{self.batches_per_epoch} loss {loss:.6g}")
        self.stream.flush()

    def close(self):
        self.stream.write("\n")
        self.stream.flush()


def _check_model(model):
    for method in ("parameters", "value_and_grad"):
        if not callable(getattr(model, method, None)):
            raise TypeError(
                f"model must have methods parameters() and value_and_grad(loss, X, y); "
                f"{type(model).__name__} has no {method}()")
    params = model.parameters()
    if not isinstance(params, (list, tuple)) or not params:
        raise TypeError(f"model.parameters() must return a non-empty list of arrays, got "
                        f"{params!r:.80}")
    for i, p in enumerate(params):
        if not isinstance(p, np.ndarray):
            raise TypeError(f"model.parameters()[{i}] must be a numpy.ndarray, got "
                            f"{type(p).__name__}")
    return list(params)


def _same_array(a, b):
    return (a is b or isinstance(b, np.ndarray) and a.shape == b.shape
            and a.dtype == b.dtype
            and a.__array_interface__["data"][0] == b.__array_interface__["data"][0])


def _check_optimizer(optimizer, params):
    groups = getattr(optimizer, "param_groups", None)
    if not callable(getattr(optimizer, "step", None)) or not isinstance(groups, list) \
            or not groups or not all(isinstance(g, dict) and "lr" in g and "params" in g
                                     for g in groups):
        raise TypeError(f"optimizer must have step(grads) and a non-empty param_groups "
                        f"list of dicts with 'params' and 'lr' (the fastloss.optim "
                        f"contract), got {type(optimizer).__name__}")
    optimized = [p for g in groups for p in g["params"]]
    if len(optimized) != len(params) or not all(map(_same_array, params, optimized)):
        raise ValueError(f"optimizer must be built over model.parameters(), in the same "
                         f"order: the model has {len(params)} parameter arrays, the "
                         f"optimizer's param_groups hold {len(optimized)}, not the same "
                         f"arrays")
    return groups


def _split_callbacks(callbacks):
    """(epoch-end callables, step-end callables)."""
    if callable(callbacks) or not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"callbacks must be a list or tuple of callbacks, got "
                        f"{type(callbacks).__name__}")
    on_epoch, on_step = [], []
    for i, cb in enumerate(callbacks):
        epoch_end = getattr(cb, "on_epoch_end", None)
        step_end = getattr(cb, "on_step_end", None)
        if epoch_end is None and step_end is None:
            epoch_end = cb
        for hook, hooks in ((epoch_end, on_epoch), (step_end, on_step)):
            if hook is None:
                continue
            if not callable(hook):
                raise TypeError(f"callbacks[{i}] must be callable or have on_epoch_end / "
                                f"on_step_end methods, got {type(cb).__name__}")
            hooks.append(hook)
    return on_epoch, on_step


def _takes_metric(scheduler):
    """Whether scheduler.step's first parameter is required (ReduceLROnPlateau's
    step(metrics)); other schedulers' step takes no argument or an optional one."""
    try:
        signature = inspect.signature(scheduler.step)
    except (TypeError, ValueError):
        return False
    for p in signature.parameters.values():
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            return p.default is p.empty
    return False


def _check_scheduler(scheduler, takes_metric):
    if scheduler is None:
        return False
    if not callable(getattr(scheduler, "step", None)):
        raise TypeError(f"scheduler must have a step() method, got {type(scheduler).__name__}")
    if takes_metric is None:
        return _takes_metric(scheduler)
    if not isinstance(takes_metric, (bool, np.bool_)):
        raise TypeError(f"scheduler_takes_metric must be True, False or None, got "
                        f"{takes_metric!r}")
    return bool(takes_metric)


def _gradient_list(result, n_params):
    """(value, grads) from model.value_and_grad, checked."""
    if not isinstance(result, tuple) or len(result) != 2:
        raise TypeError(f"model.value_and_grad must return (value, grads), got "
                        f"{type(result).__name__}")
    value, grads = result
    if not isinstance(grads, (list, tuple)) or len(grads) != n_params:
        got = len(grads) if isinstance(grads, (list, tuple)) else type(grads).__name__
        raise ValueError(f"model.value_and_grad must return one gradient per parameter: "
                         f"{n_params} expected, got {got}")
    try:
        return float(value), grads
    except (TypeError, ValueError):
        raise TypeError(f"model.value_and_grad must return a real loss value, got "
                        f"{value!r:.80}") from None


def _evaluate(model, loss, X, y, n_params):
    value = getattr(model, "value", None)
    if callable(value):
        return float(value(loss, X, y))
    return _gradient_list(model.value_and_grad(loss, X, y), n_params)[0]


def _flatten_into(row, params):
    np.concatenate([p.ravel() for p in params], out=row, casting="same_kind")


def _restore(params, flat):
    start = 0
    for p in params:
        np.copyto(p, flat[start:start + p.size].reshape(p.shape), casting="same_kind")
        start += p.size


def fit(model, loss, optimizer, X, y, batch_size=None, epochs=1, scheduler=None,
        callbacks=(), progress=True, seed=None, snapshot_every=None, early_stopping=None,
        validation_data=None, *, shuffle=True, drop_last=False, monitor="auto",
        scheduler_interval="epoch", scheduler_takes_metric=None, on_nonfinite="raise"):
    """Train `model` by gradient descent on (X, y); returns a `History`.

    Each step draws a batch, calls ``model.value_and_grad(loss, X_batch, y_batch)`` and
    hands the gradients to ``optimizer.step(grads)``, which updates the parameters in
    place. See the module docstring for the model protocol.

    Parameters
    ----------
    model : object
        ``parameters()`` and ``value_and_grad(loss, X, y)`` (see the module docstring).
    loss : object
        Passed to the model as is (e.g. ``fastloss.MSELoss()``).
    optimizer : object
        A `fastloss.optim` optimizer or any object with ``step(grads)`` and
        ``param_groups`` (dicts with "params" and "lr"), built over
        ``model.parameters()`` in the same order (checked: the same arrays).
    X, y : array_like
        Training samples along the first axis, the same number in both.
    batch_size : int or None, default None
        None: batch gradient descent (the whole set every step); 1: stochastic gradient
        descent; m: mini-batches of m samples (the last one smaller unless `drop_last`).
    epochs : int, default 1
        Passes over the data (>= 1).
    scheduler : object, optional
        A learning-rate scheduler (``step()``), stepped after every epoch, or after
        every step with ``scheduler_interval="step"``. A scheduler whose ``step`` takes
        a metric (ReduceLROnPlateau's ``step(metrics)``) gets the monitored loss: the
        epoch's (see `monitor`), or the step's batch loss when stepped per step. It is
        detected from the signature (a required first argument), or forced with
        `scheduler_takes_metric`.
    callbacks : list, default ()
        Each is a function ``f(history)`` called at the end of every epoch, or an object
        with ``on_epoch_end(history)`` and/or ``on_step_end(history)`` methods. A true
        return value stops training (after the current step for ``on_step_end``; an
        epoch cut short is not recorded in the per-epoch arrays).
    progress : bool, default True
        Draw a progress bar on stderr, only when stderr is a terminal (never under
        pytest, in pipes or in logs).
    seed : int, numpy.random.Generator or None
        Seeds the shuffling. The same seed, model, optimizer and data give bitwise the
        same history and parameters.
    snapshot_every : int, optional
        Keep a copy of all parameters every this many steps (`History.snapshots`).
    early_stopping : EarlyStopping, optional
        Stop when the monitored loss stops improving, optionally restoring the best
        parameters.
    validation_data : (X_val, y_val), optional
        Evaluated after every epoch (``model.value`` if the model has it, else the value
        of ``model.value_and_grad``) into `History.val_loss`.
    shuffle : bool, default True
        A fresh permutation of the samples every epoch (never for a full batch).
    drop_last : bool, default False
        Skip each epoch's last, smaller batch.
    monitor : {"auto", "loss", "val_loss"}, default "auto"
        The epoch loss early stopping and metric schedulers watch: "val_loss" (needs
        `validation_data`), "loss" (the epoch's mean training loss), "auto" (val_loss
        when there is validation data).
    scheduler_interval : {"epoch", "step"}, default "epoch"
    scheduler_takes_metric : bool or None, default None (detect)
    on_nonfinite : {"raise", "stop"}, default "raise"
        A NaN or infinite batch loss (divergence, e.g. a learning rate too large) stops
        training before that step's update: "raise" raises `NonFiniteLossError`
        (a FloatingPointError carrying the history so far), "stop" warns
        (RuntimeWarning) and returns the history with ``stop_reason="nonfinite"``.
        The offending loss is the last entry of ``history.step_loss``.

    Returns
    -------
    History

    Raises
    ------
    TypeError, ValueError
        A model or optimizer without the protocol, an optimizer over other arrays, X
        and y of different lengths, batch_size, epochs or snapshot_every < 1, bad
        options, drop_last leaving no batch.
    NonFiniteLossError
        See `on_nonfinite`.
    """
    params = _check_model(model)
    groups = _check_optimizer(optimizer, params)
    X, y = _check_samples(X, y)
    batch_size = _check_positive_int("batch_size", batch_size, allow_none=True)
    epochs = _check_positive_int("epochs", epochs)
    snapshot_every = _check_positive_int("snapshot_every", snapshot_every, allow_none=True)
    if early_stopping is not None and not isinstance(early_stopping, EarlyStopping):
        raise TypeError(f"early_stopping must be a fastloss.train.EarlyStopping or None, "
                        f"got {type(early_stopping).__name__}")
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError(f"validation_data must be a pair (X_val, y_val), got "
                            f"{type(validation_data).__name__}")
        validation_data = _check_samples(*validation_data, "X_val", "y_val")
    monitor = _check_choice("monitor", monitor, _MONITORS)
    if monitor == "auto":
        monitor = "loss" if validation_data is None else "val_loss"
    elif monitor == "val_loss" and validation_data is None:
        raise ValueError("monitor='val_loss' needs validation_data")
    scheduler_interval = _check_choice("scheduler_interval", scheduler_interval,
                                       _SCHEDULER_INTERVALS)
    takes_metric = _check_scheduler(scheduler, scheduler_takes_metric)
    on_nonfinite = _check_choice("on_nonfinite", on_nonfinite, _NONFINITE_POLICIES)
    epoch_callbacks, step_callbacks = _split_callbacks(callbacks)

    n = len(X)
    batches_per_epoch = _batches_per_epoch(n, batch_size, drop_last)
    if batches_per_epoch == 0:
        raise ValueError(f"drop_last=True with batch_size={batch_size} > {n} samples "
                         f"leaves no batch")
    samples_per_epoch = batches_per_epoch * batch_size if drop_last and batch_size else n
    n_params = sum(p.size for p in params)
    dtype = np.result_type(*params)
    history = History(epochs * batches_per_epoch, epochs, len(groups), n_params,
                      snapshot_every, dtype, validation_data is not None)
    best_params = None
    if early_stopping is not None:
        early_stopping._reset()
        if early_stopping.restore_best:
            best_params = np.empty(n_params, dtype=dtype)
    rng = np.random.default_rng(seed)
    bar = None
    if progress and sys.stderr is not None and sys.stderr.isatty():
        bar = _ProgressBar(sys.stderr, epochs, batches_per_epoch)

    def snapshot():
        _flatten_into(history._snapshots[history.n_snapshots], params)
        history._snapshot_steps[history.n_snapshots] = history.steps
        history.n_snapshots += 1

    def step_scheduler(metric):
        if takes_metric:
            scheduler.step(metric)
        else:
            scheduler.step()

    start = time.perf_counter()
    if snapshot_every is not None:
        snapshot()
    try:
        for epoch in range(epochs):
            weighted_loss = 0.0
            for batch, (X_batch, y_batch) in enumerate(
                    _epoch_batches(X, y, batch_size, shuffle, rng, drop_last)):
                value, grads = _gradient_list(model.value_and_grad(loss, X_batch, y_batch),
                                              len(params))
                step = history.steps
                history._step_loss[step] = value
                for g, group in enumerate(groups):
                    history._group_lrs[step, g] = group["lr"]
                history.steps += 1
                if not math.isfinite(value):
                    message = (f"the loss is {value} at step {step} (epoch {epoch}, lr "
                               f"{groups[0]['lr']!r}); training stopped before this "
                               f"step's update")
                    if on_nonfinite == "raise":
                        raise NonFiniteLossError(message, history)
                    warnings.warn(message, RuntimeWarning, stacklevel=2)
                    history.stop_reason = "nonfinite"
                    return history
                optimizer.step(grads)
                weighted_loss += value * len(X_batch)
                if snapshot_every is not None and history.steps % snapshot_every == 0:
                    snapshot()
                if scheduler is not None and scheduler_interval == "step":
                    step_scheduler(value)
                if bar is not None:
                    bar.update(epoch, batch + 1, value)
                # a list, not a generator: every callback runs before any stops training
                if any([cb(history) for cb in step_callbacks]):
                    history.stop_reason = "callback"
                    return history

            history._epoch_loss[epoch] = weighted_loss / samples_per_epoch
            if validation_data is not None:
                history._val_loss[epoch] = _evaluate(model, loss, *validation_data, len(params))
            history._epoch_time[epoch] = time.perf_counter() - start
            history.epochs += 1
            monitored = (history._val_loss if monitor == "val_loss"
                         else history._epoch_loss)[epoch]
            stop_early = False
            if early_stopping is not None:
                improved, stop_early = early_stopping._update(epoch, monitored)
                if improved:
                    history.best_epoch = epoch
                    if best_params is not None:
                        _flatten_into(best_params, params)
            if scheduler is not None and scheduler_interval == "epoch":
                step_scheduler(monitored)
            if bar is not None:
                bar.update(epoch, batches_per_epoch, history._epoch_loss[epoch], force=True)
            if any([cb(history) for cb in epoch_callbacks]):
                history.stop_reason = "callback"
                break
            if stop_early:
                history.stop_reason = "early_stopping"
                break
        else:
            history.stop_reason = "completed"
    finally:
        # Only a run that ended normally gets its last snapshot; a stopped divergence
        # (history.stop_reason "nonfinite") still gets its best parameters back.
        if snapshot_every is not None and history.stop_reason not in (None, "nonfinite") \
                and history.snapshot_steps[-1] != history.steps:
            snapshot()
        if history.stop_reason is not None and best_params is not None \
                and early_stopping.best_epoch is not None:
            _restore(params, best_params)
        history.wall_time = time.perf_counter() - start
        if bar is not None:
            bar.close()
    return history
