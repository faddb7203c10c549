"""fastloss.train: minibatches and fit.

The optimizers and schedulers here are stand-ins written against the fastloss.optim
contract (param_groups of dicts with "params" and "lr", step(grads) updating in place;
schedulers with step() / step(metrics)), so that the real classes drop in. Expected
values come from closed forms (least squares), from hand-made loss sequences, or from a
plain loop written out in the test.
"""
import io
import math
import sys

import numpy as np
import pytest

import fastloss
from fastloss.train import EarlyStopping, History, NonFiniteLossError, fit, minibatches

from conftest import case


# ---- contract stand-ins -----------------------------------------------------------------

class StandInSGD:
    """Plain gradient descent, ``p -= lr * g``, under the fastloss.optim contract."""

    def __init__(self, params, lr):
        self.defaults = {"lr": lr}
        if params and isinstance(params[0], dict):
            self.param_groups = [{"lr": lr, **group} for group in params]
        else:
            self.param_groups = [{"params": list(params), "lr": lr}]

    def step(self, grads):
        params = [(p, group["lr"]) for group in self.param_groups for p in group["params"]]
        assert len(grads) == len(params)
        for (p, lr), g in zip(params, grads):
            p -= lr * g


class StandInExponentialLR:
    """lr := lr * gamma at every step(), as torch.optim.lr_scheduler.ExponentialLR."""

    def __init__(self, optimizer, gamma):
        self.optimizer, self.gamma = optimizer, gamma
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.calls = 0

    def step(self):
        self.calls += 1
        for group in self.optimizer.param_groups:
            group["lr"] *= self.gamma

    def get_last_lr(self):
        return [group["lr"] for group in self.optimizer.param_groups]


class StandInPlateau:
    """Records the metrics it is given and halves lr when one does not improve
    (ReduceLROnPlateau with patience 0)."""

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.metrics = []

    def step(self, metrics):
        if self.metrics and not metrics < min(self.metrics):
            for group in self.optimizer.param_groups:
                group["lr"] *= 0.5
        self.metrics.append(float(metrics))

    def get_last_lr(self):
        return [group["lr"] for group in self.optimizer.param_groups]


# ---- the models of the docs: ten lines of NumPy each -------------------------------------

class LinearRegression:
    def __init__(self, n_features, dtype=np.float64):
        self.w, self.b = np.zeros(n_features, dtype), np.zeros(1, dtype)

    def parameters(self):
        return [self.w, self.b]

    def value_and_grad(self, loss, X, y):
        value, d_prediction = loss.value_and_grad(X @ self.w + self.b, y)
        return float(value), [X.T @ d_prediction, d_prediction.sum(keepdims=True)]


class LogisticRegression(LinearRegression):
    """The same algebra on logits; the loss is fastloss.BCEWithLogitsLoss."""

    def predict(self, X):
        return (X @ self.w + self.b > 0).astype(X.dtype)


class ScriptedModel:
    """One parameter w (starting at 0) with gradient 1 at every step and the loss of
    step k taken from `losses`: with lr 1, w = -(number of steps taken). `val_losses`,
    when given, are the successive validation losses."""

    def __init__(self, losses, val_losses=None):
        self.w = np.zeros(1)
        self.losses = iter(losses)
        if val_losses is not None:
            self.val_losses = iter(val_losses)
            self.value = lambda loss, X, y: next(self.val_losses)

    def parameters(self):
        return [self.w]

    def value_and_grad(self, loss, X, y):
        return next(self.losses), [np.ones(1)]


def regression_data(n=200, noise=0.1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 3.0 + noise * rng.normal(size=n)
    return X, y


def least_squares(X, y):
    return np.linalg.lstsq(np.c_[X, np.ones(len(X))], y, rcond=None)[0]


def train_linear(X, y, lr, dtype=np.float64, gamma=None, **options):
    model = LinearRegression(X.shape[1], dtype)
    optimizer = StandInSGD(model.parameters(), lr)
    scheduler = None if gamma is None else StandInExponentialLR(optimizer, gamma)
    history = fit(model, fastloss.MSELoss(), optimizer, X.astype(dtype), y.astype(dtype),
                  scheduler=scheduler, **options)
    return model, history


def scripted_fit(losses, lr=1.0, **options):
    model = ScriptedModel(losses, options.pop("val_losses", None))
    X = np.zeros((1, 1))
    history = fit(model, None, StandInSGD(model.parameters(), lr), X, np.zeros(1),
                  epochs=len(losses), **options)
    return model, history


# ---- minibatches ------------------------------------------------------------------------

@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("batch_size", [1, 3, 7, 10, 25, None])
@pytest.mark.parametrize("drop_last", [False, True])
def test_minibatches_cover_every_sample_once(shuffle, batch_size, drop_last):
    n = 10
    X = np.arange(2 * n).reshape(n, 2)
    y = np.arange(n) * 10
    batches = list(minibatches(X, y, batch_size, shuffle=shuffle, seed=3, drop_last=drop_last))
    msg = case(batch_size=batch_size, shuffle=shuffle, drop_last=drop_last)
    size = n if batch_size is None else batch_size
    if drop_last and batch_size is not None:
        expected_sizes = [size] * (n // size)
    else:
        expected_sizes = [min(size, n - start) for start in range(0, n, size)]
    assert [len(xb) for xb, _ in batches] == expected_sizes, msg
    seen = np.concatenate([yb for _, yb in batches]) // 10 if batches else np.array([], int)
    for xb, yb in batches:  # rows stay paired
        np.testing.assert_array_equal(xb[:, 0], 2 * (yb // 10), err_msg=msg)
    if drop_last:
        assert len(set(seen.tolist())) == len(seen) == sum(expected_sizes), msg
    else:
        np.testing.assert_array_equal(np.sort(seen), np.arange(n), err_msg=msg)
    if not shuffle:
        np.testing.assert_array_equal(seen, np.arange(len(seen)), err_msg=msg)


def test_minibatches_views_without_shuffle_copies_with_it():
    X, y = np.arange(40.0).reshape(20, 2), np.arange(20.0)
    for xb, yb in minibatches(X, y, 6, shuffle=False):
        assert np.shares_memory(xb, X) and np.shares_memory(yb, y)
    for xb, yb in minibatches(X, y, 6, seed=0):
        assert not np.shares_memory(xb, X) and not np.shares_memory(yb, y)
    (xb, yb), = minibatches(X, y, None, seed=0)  # the whole set: never shuffled, no copy
    assert xb is X and yb is y


def test_minibatches_deterministic_from_seed():
    X, y = np.arange(100).reshape(50, 2), np.arange(50)

    def order(seed):
        return np.concatenate([yb for _, yb in minibatches(X, y, 8, seed=seed)])

    np.testing.assert_array_equal(order(7), order(7))
    assert not np.array_equal(order(7), order(8))
    # one Generator across calls: a new order per epoch, reproducible as a whole
    rng_a, rng_b = np.random.default_rng(1), np.random.default_rng(1)
    epochs_a = [order(rng_a) for _ in range(2)]
    epochs_b = [order(rng_b) for _ in range(2)]
    np.testing.assert_array_equal(epochs_a, epochs_b)
    assert not np.array_equal(epochs_a[0], epochs_a[1])


def test_minibatches_any_sample_shape():
    X = np.arange(24.0).reshape(4, 3, 2)
    y = np.arange(8).reshape(4, 2)
    batches = list(minibatches(X, y, 3, seed=0))
    assert [(xb.shape, yb.shape) for xb, yb in batches] == [((3, 3, 2), (3, 2)),
                                                            ((1, 3, 2), (1, 2))]
    batches = list(minibatches([[1, 2], [3, 4]], [0, 1], 1, shuffle=False))  # lists
    assert [yb.tolist() for _, yb in batches] == [[0], [1]]


@pytest.mark.parametrize("X,y,batch_size,error,match", [
    (np.zeros((5, 2)), np.zeros(4), 2, ValueError, r"same number of samples.*\(5, 2\).*\(4,\)"),
    (np.zeros((0, 2)), np.zeros(0), 2, ValueError, "no samples"),
    (np.float64(1.0), np.zeros(1), 1, ValueError, "X must have a first axis"),
    (np.zeros(3), np.float64(1.0), 1, ValueError, "y must have a first axis"),
    (np.zeros(3), np.zeros(3), 0, ValueError, "batch_size must be >= 1, got 0"),
    (np.zeros(3), np.zeros(3), -2, ValueError, "batch_size must be >= 1, got -2"),
    (np.zeros(3), np.zeros(3), 2.0, TypeError, "batch_size must be a positive integer or None"),
    (np.zeros(3), np.zeros(3), True, TypeError, "batch_size .* got True"),
], ids=["length", "empty", "X-0d", "y-0d", "bs0", "bs-neg", "bs-float", "bs-bool"])
def test_minibatches_bad_input_raises_at_call(X, y, batch_size, error, match):
    with pytest.raises(error, match=match):
        minibatches(X, y, batch_size)  # no next(): the checks do not wait for iteration


# ---- convergence: the three forms of gradient descent ------------------------------------

@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-12), (np.float32, 2e-5)],
                         ids=["f64", "f32"])
def test_batch_gradient_descent_reaches_least_squares(dtype, rtol):
    X, y = regression_data()
    model, history = train_linear(X, y, lr=0.3, dtype=dtype, epochs=200)
    want = least_squares(X.astype(dtype).astype(np.float64), y.astype(dtype))
    got = np.r_[model.w, model.b]
    assert got.dtype == dtype
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * np.abs(want).max())
    assert history.steps == 200 and history.epochs == 200
    assert np.all(np.diff(history.step_loss) <= 1e-7)  # full-batch GD at a safe lr descends


@pytest.mark.parametrize("batch_size,lr,epochs", [(None, 0.3, 200), (1, 0.05, 20),
                                                  (20, 0.1, 50)], ids=["batch", "sgd", "mini"])
def test_every_form_interpolates_noise_free_data(batch_size, lr, epochs):
    """Noise-free targets: the least-squares solution fits every sample, so even
    stochastic steps converge to it exactly (no noise floor)."""
    X, y = regression_data(noise=0.0)
    model, _ = train_linear(X, y, lr=lr, batch_size=batch_size, epochs=epochs, seed=1)
    np.testing.assert_allclose(np.r_[model.w, model.b], [1.0, -2.0, 0.5, 3.0], rtol=1e-12,
                               atol=1e-12, err_msg=case(batch_size=batch_size, lr=lr))


@pytest.mark.parametrize("batch_size,lr,gamma,epochs", [(1, 0.02, 0.8, 30),
                                                        (20, 0.1, 0.9, 60)], ids=["sgd", "mini"])
def test_stochastic_forms_with_decaying_lr_reach_least_squares(batch_size, lr, gamma, epochs):
    """Noisy targets: with a constant lr stochastic steps hover within about lr x noise
    of the solution; a decaying lr (ExponentialLR stand-in, per epoch) brings them
    within 1e-4 relative."""
    X, y = regression_data(noise=0.1)
    model, history = train_linear(X, y, lr=lr, gamma=gamma, batch_size=batch_size,
                                  epochs=epochs, seed=1)
    want = least_squares(X, y)
    np.testing.assert_allclose(np.r_[model.w, model.b], want, rtol=0,
                               atol=1e-4 * np.abs(want).max())
    np.testing.assert_allclose(history.epoch_loss[-1], np.mean(
        (np.c_[X, np.ones(len(X))] @ want - y) ** 2), rtol=1e-3)


@pytest.mark.parametrize("batch_size", [None, 1, 16], ids=["batch", "sgd", "mini"])
def test_logistic_regression_separates(batch_size):
    rng = np.random.default_rng(5)
    X = np.r_[rng.normal(-2.0, 0.7, size=(60, 2)), rng.normal(2.0, 0.7, size=(60, 2))]
    y = np.r_[np.zeros(60), np.ones(60)]
    model = LogisticRegression(2)
    optimizer = StandInSGD(model.parameters(), lr=0.5)
    history = fit(model, fastloss.BCEWithLogitsLoss(), optimizer, X, y,
                  batch_size=batch_size, epochs=40, seed=2)
    margins = (2 * y - 1) * (X @ model.w + model.b)
    assert margins.min() > 0, f"batch_size={batch_size}: misclassified samples"
    np.testing.assert_array_equal(model.predict(X), y)
    final = float(fastloss.BCEWithLogitsLoss()(X @ model.w + model.b, y))
    assert final < 0.05, (batch_size, final)
    assert history.epoch_loss[-1] < history.epoch_loss[0] / 10


def test_real_optimizer_drops_in():
    X, y = regression_data(noise=0.0)
    model = LinearRegression(3)
    optimizer = fastloss.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
    fit(model, fastloss.MSELoss(), optimizer, X, y, batch_size=20, epochs=50, seed=1)
    np.testing.assert_allclose(np.r_[model.w, model.b], [1.0, -2.0, 0.5, 3.0], rtol=1e-10)


def test_real_step_schedule_changes_the_next_step():
    # fastloss.optim.SGD reads group["lr"] at every step: the history's learning rates
    # are StepLR's, and the parameters are those of a hand-written loop with them
    X, y = regression_data(n=40)
    model = LinearRegression(3)
    optimizer = fastloss.optim.SGD(model.parameters(), lr=0.1)
    scheduler = fastloss.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    history = fit(model, fastloss.MSELoss(), optimizer, X, y, epochs=6, scheduler=scheduler,
                  progress=False)
    np.testing.assert_array_equal(history.lr, [0.1, 0.1, 0.05, 0.05, 0.025, 0.025])
    hand = LinearRegression(3)
    for lr in history.lr:
        _, grads = hand.value_and_grad(fastloss.MSELoss(), X, y)
        for p, g in zip(hand.parameters(), grads):
            p -= lr * g
    for got, want in zip(model.parameters(), hand.parameters()):
        # the kernel fuses lr * g into one multiply-add: an ulp apart from NumPy
        np.testing.assert_allclose(got, want, rtol=1e-14)


def test_real_plateau_schedule_gets_the_epoch_loss():
    X, y = regression_data(n=40)
    model = LinearRegression(3)
    optimizer = fastloss.optim.Adam(model.parameters(), lr=0.5)
    scheduler = fastloss.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5,
                                                              patience=0)
    history = fit(model, fastloss.MSELoss(), optimizer, X, y, epochs=30, scheduler=scheduler,
                  progress=False)
    # the rate halves exactly after the epochs whose mean loss did not improve
    means = np.asarray(history.epoch_loss)
    best = np.minimum.accumulate(means)
    worse = np.r_[False, means[1:] >= best[:-1] * (1 - 1e-4)]
    lrs = np.asarray(history.lr)
    np.testing.assert_allclose(lrs[1:], 0.5 * 0.5 ** np.cumsum(worse)[:-1], rtol=1e-15)


# ---- the history --------------------------------------------------------------------------

def test_history_matches_a_hand_written_loop():
    """Mini-batches without shuffling: the same steps written out by hand give the same
    losses, learning rates, epoch means and snapshots, bitwise."""
    X, y = regression_data(n=50)
    lr, gamma, batch_size, epochs, every = 0.05, 0.5, 16, 3, 5
    model, history = train_linear(X, y, lr=lr, gamma=gamma, batch_size=batch_size,
                                  epochs=epochs, shuffle=False, snapshot_every=every)

    hand = LinearRegression(3)
    mse = fastloss.MSELoss()
    losses, lrs, epoch_means, trajectory = [], [], [], [np.zeros(4)]
    for epoch in range(epochs):
        weighted = 0.0
        for start in range(0, 50, batch_size):
            xb, yb = X[start:start + batch_size], y[start:start + batch_size]
            value, grads = hand.value_and_grad(mse, xb, yb)
            losses.append(value)
            lrs.append(lr)
            weighted += value * len(xb)
            hand.w -= lr * grads[0]
            hand.b -= lr * grads[1]
            trajectory.append(np.r_[hand.w, hand.b])
        epoch_means.append(weighted / 50)
        lr *= gamma

    steps = epochs * 4
    assert history.steps == steps and history.epochs == epochs
    assert history.stop_reason == "completed" and history.best_epoch is None
    np.testing.assert_array_equal(history.step_loss, losses)
    np.testing.assert_array_equal(history.lr, lrs)
    np.testing.assert_array_equal(history.group_lrs, np.array(lrs)[:, None])
    np.testing.assert_array_equal(history.epoch_loss, epoch_means)
    assert history.val_loss is None
    snapshot_steps = [0, 5, 10, 12]  # start, every 5th step, the end
    np.testing.assert_array_equal(history.snapshot_steps, snapshot_steps)
    np.testing.assert_array_equal(history.snapshots, np.array(trajectory)[snapshot_steps])
    np.testing.assert_array_equal(model.w, hand.w)
    assert history.wall_time > 0 and np.all(np.diff(history.epoch_time) >= 0)
    assert history.epoch_time[-1] <= history.wall_time
    assert "steps=12, epochs=3" in repr(history)


def test_history_without_snapshots_and_with_float32_parameters():
    X, y = regression_data(n=20)
    _, history = train_linear(X, y, lr=0.1, batch_size=5, epochs=2)
    assert history.snapshots.shape == (0, 4) and history.snapshot_steps.shape == (0,)
    _, history = train_linear(X, y, lr=0.1, dtype=np.float32, batch_size=5, epochs=2,
                              snapshot_every=4)
    assert history.snapshots.dtype == np.float32 and history.snapshots.shape == (3, 4)
    assert history.step_loss.dtype == np.float64


def test_history_records_every_groups_lr():
    X, y = regression_data(n=30)
    model = LinearRegression(3)
    optimizer = StandInSGD([{"params": [model.w], "lr": 0.1}, {"params": [model.b]}], lr=0.02)
    scheduler = StandInExponentialLR(optimizer, 0.5)
    history = fit(model, fastloss.MSELoss(), optimizer, X, y, batch_size=10, epochs=2,
                  scheduler=scheduler, seed=0)
    want = np.repeat([[0.1, 0.02], [0.05, 0.01]], 3, axis=0)
    np.testing.assert_array_equal(history.group_lrs, want)
    np.testing.assert_array_equal(history.lr, want[:, 0])


def test_validation_loss_after_every_epoch():
    X, y = regression_data(n=60)
    Xv, yv = regression_data(n=30, seed=9)
    seen = []

    def record(history):
        seen.append(float(fastloss.MSELoss()(Xv @ model.w + model.b, yv)))

    model = LinearRegression(3)
    history = fit(model, fastloss.MSELoss(), StandInSGD(model.parameters(), 0.05), X, y,
                  batch_size=10, epochs=3, seed=0, validation_data=(Xv, yv),
                  callbacks=[record])
    np.testing.assert_array_equal(history.val_loss, seen)
    assert history.val_loss.shape == (3,)


@pytest.mark.parametrize("batch_size", [None, 1, 7], ids=["batch", "sgd", "mini"])
def test_same_seed_same_run_bitwise(batch_size):
    X, y = regression_data(n=40)

    def run(seed):
        return train_linear(X, y, lr=0.05, gamma=0.9, batch_size=batch_size, epochs=3,
                            seed=seed, snapshot_every=3)

    (m1, h1), (m2, h2) = run(11), run(11)
    for name in ("step_loss", "group_lrs", "epoch_loss", "snapshots", "snapshot_steps"):
        np.testing.assert_array_equal(getattr(h1, name), getattr(h2, name), err_msg=name)
    np.testing.assert_array_equal(m1.w, m2.w)
    np.testing.assert_array_equal(m1.b, m2.b)
    if batch_size is not None:  # a full batch is never shuffled
        m3, _ = run(12)
        assert not np.array_equal(m1.w, m3.w)


# ---- schedulers ---------------------------------------------------------------------------

def test_scheduler_steps_once_per_epoch_by_default_or_per_step():
    X, y = regression_data(n=30)
    _, per_epoch = train_linear(X, y, lr=0.08, gamma=0.5, batch_size=10, epochs=3)
    np.testing.assert_array_equal(per_epoch.lr, np.repeat([0.08, 0.04, 0.02], 3))
    _, per_step = train_linear(X, y, lr=0.08, gamma=0.5, batch_size=10, epochs=1,
                               scheduler_interval="step")
    np.testing.assert_array_equal(per_step.lr, [0.08, 0.04, 0.02])


def test_metric_scheduler_detected_and_given_the_monitored_loss():
    X, y = regression_data(n=30)
    Xv, yv = regression_data(n=10, seed=4)
    for validation in (None, (Xv, yv)):
        model = LinearRegression(3)
        optimizer = StandInSGD(model.parameters(), 0.05)
        plateau = StandInPlateau(optimizer)
        history = fit(model, fastloss.MSELoss(), optimizer, X, y, batch_size=10, epochs=3,
                      scheduler=plateau, validation_data=validation, seed=0)
        want = history.epoch_loss if validation is None else history.val_loss
        np.testing.assert_array_equal(plateau.metrics, want)

    # per step: the batch loss
    model = LinearRegression(3)
    optimizer = StandInSGD(model.parameters(), 0.05)
    plateau = StandInPlateau(optimizer)
    history = fit(model, fastloss.MSELoss(), optimizer, X, y, batch_size=10, epochs=2,
                  scheduler=plateau, scheduler_interval="step", seed=0)
    np.testing.assert_array_equal(plateau.metrics, history.step_loss)


def test_scheduler_takes_metric_forced():
    class TakesOptionalMetric:
        def __init__(self):
            self.args = []

        def step(self, *args):
            self.args.append(args)

    X, y = regression_data(n=10)
    for forced, want in ((True, 1), (False, 0), (None, 0)):
        scheduler = TakesOptionalMetric()
        model = LinearRegression(3)
        fit(model, fastloss.MSELoss(), StandInSGD(model.parameters(), 0.01), X, y,
            epochs=2, scheduler=scheduler, scheduler_takes_metric=forced)
        assert [len(a) for a in scheduler.args] == [want, want], forced


# ---- callbacks, early stopping, non-finite losses ---------------------------------------

def test_epoch_callbacks_see_the_history_and_stop_training():
    calls = []

    def stop_after_two(history):
        calls.append((history.epochs, history.steps))
        return history.epochs == 2

    model, history = scripted_fit([3.0, 2.0, 1.0, 0.5], callbacks=[stop_after_two, lambda history: None])
    assert calls == [(1, 1), (2, 2)]
    assert history.stop_reason == "callback" and history.epochs == 2
    np.testing.assert_array_equal(model.w, [-2.0])


def test_step_callbacks_stop_mid_epoch():
    class StopAtStep:
        def __init__(self):
            self.steps = []

        def on_step_end(self, history):
            self.steps.append(history.steps)
            return history.steps == 5

    X, y = regression_data(n=30)
    stopper = StopAtStep()
    _, history = train_linear(X, y, lr=0.01, batch_size=10, epochs=3, snapshot_every=2,
                              callbacks=(stopper,))
    assert stopper.steps == [1, 2, 3, 4, 5]
    assert history.stop_reason == "callback"
    assert history.steps == 5 and history.epochs == 1  # the cut epoch is not recorded
    assert history.epoch_loss.shape == (1,)
    np.testing.assert_array_equal(history.snapshot_steps, [0, 2, 4, 5])


def test_early_stopping_patience_and_restore_best():
    losses = [5.0, 4.0, 3.0, 3.5, 3.2, 3.1, 1.0]
    stopper = EarlyStopping(patience=3)
    model, history = scripted_fit(losses, early_stopping=stopper, snapshot_every=1)
    assert history.stop_reason == "early_stopping"
    assert history.epochs == 6 and history.best_epoch == 2 == stopper.best_epoch
    assert stopper.best == 3.0
    np.testing.assert_array_equal(model.w, [-3.0])  # after epoch 2's step
    np.testing.assert_array_equal(history.snapshots[-1], [-6.0])  # the trajectory's end

    model, history = scripted_fit(losses, early_stopping=EarlyStopping(3, restore_best=False))
    np.testing.assert_array_equal(model.w, [-6.0])

    # the same object again starts afresh; patience not reached: restores at the end
    model, history = scripted_fit([5.0, 4.0, 4.5], early_stopping=stopper)
    assert history.stop_reason == "completed" and stopper.best_epoch == 1
    np.testing.assert_array_equal(model.w, [-2.0])


def test_early_stopping_min_delta_and_validation_monitor():
    # 3.0 -> 2.95 is not an improvement with min_delta 0.1
    _, history = scripted_fit([3.0, 2.95, 2.9, 2.0], early_stopping=EarlyStopping(2, 0.1))
    assert history.stop_reason == "early_stopping" and history.best_epoch == 0

    # with validation data, the validation loss is watched (training loss improves)
    model, history = scripted_fit([4.0, 3.0, 2.0, 1.0], val_losses=[2.0, 1.0, 1.5, 1.7],
                                  validation_data=(np.zeros((2, 1)), np.zeros(2)),
                                  early_stopping=EarlyStopping(2))
    np.testing.assert_array_equal(history.val_loss, [2.0, 1.0, 1.5, 1.7])
    assert history.best_epoch == 1 and history.stop_reason == "early_stopping"
    np.testing.assert_array_equal(model.w, [-2.0])
    # ... unless told to watch the training loss
    _, history = scripted_fit([4.0, 3.0, 2.0, 1.0], val_losses=[2.0, 1.0, 1.5, 1.7],
                              validation_data=(np.zeros((2, 1)), np.zeros(2)),
                              early_stopping=EarlyStopping(2), monitor="loss")
    assert history.best_epoch == 3 and history.stop_reason == "completed"


def test_nonfinite_loss_raises_with_the_history():
    model = ScriptedModel([2.0, 1.0, math.nan, 0.5])
    with pytest.raises(NonFiniteLossError, match=r"the loss is nan at step 2 \(epoch 2") as info:
        fit(model, None, StandInSGD(model.parameters(), 1.0), np.zeros((1, 1)), np.zeros(1),
            epochs=4, snapshot_every=1)
    assert isinstance(info.value, FloatingPointError)
    history = info.value.history
    np.testing.assert_array_equal(history.step_loss, [2.0, 1.0, np.nan])
    np.testing.assert_array_equal(history.snapshot_steps, [0, 1, 2])
    np.testing.assert_array_equal(model.w, [-2.0])  # the NaN step made no update


def test_nonfinite_loss_stop_policy_warns_and_restores_best():
    model = ScriptedModel([2.0, 1.0, 1.5, math.inf])
    with pytest.warns(RuntimeWarning, match="the loss is inf at step 3"):
        history = fit(model, None, StandInSGD(model.parameters(), 1.0), np.zeros((1, 1)),
                      np.zeros(1), epochs=4, on_nonfinite="stop",
                      early_stopping=EarlyStopping(patience=5))
    assert history.stop_reason == "nonfinite" and history.epochs == 3
    np.testing.assert_array_equal(model.w, [-2.0])  # epoch 1's parameters


def test_divergence_is_caught():
    X, y = regression_data()
    with pytest.raises(NonFiniteLossError, match="lr 10.0"):
        with np.errstate(over="ignore", invalid="ignore"):
            train_linear(X, y, lr=10.0, epochs=1000)


# ---- progress bar -------------------------------------------------------------------------

class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_a_terminal_only(monkeypatch, capsys):
    X, y = regression_data(n=20)
    train_linear(X, y, lr=0.01, batch_size=5, epochs=2)  # stderr is not a terminal here
    assert capsys.readouterr().err == ""

    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    train_linear(X, y, lr=0.01, batch_size=5, epochs=2)
    out = terminal.getvalue()
    assert "\repoch 1/2 [" in out and "\repoch 2/2 [" + "#" * 30 + "] 4/4 loss" in out
    assert out.endswith("\n")
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    train_linear(X, y, lr=0.01, batch_size=5, epochs=2, progress=False)
    assert terminal.getvalue() == ""


# ---- bad input ----------------------------------------------------------------------------

class NoGrad:
    def parameters(self):
        return [np.zeros(2)]


class NotArrays(LinearRegression):
    def parameters(self):
        return [[0.0, 0.0]]


class BadReturn(LinearRegression):
    def __init__(self, result):
        super().__init__(3)
        self.result = result

    def value_and_grad(self, loss, X, y):
        return self.result


def good():
    X, y = regression_data(n=10)
    model = LinearRegression(3)
    return dict(model=model, loss=fastloss.MSELoss(),
                optimizer=StandInSGD(model.parameters(), 0.01), X=X, y=y)


def with_model(model):
    return dict(good(), model=model, optimizer=StandInSGD(model.parameters(), 0.01))


def other_arrays():
    kw = good()
    kw["optimizer"] = StandInSGD([np.zeros(3), np.zeros(1)], 0.01)
    return kw


def swapped_order():
    kw = good()
    kw["optimizer"] = StandInSGD(kw["model"].parameters()[::-1], 0.01)
    return kw


class NoStep:
    param_groups = [{"params": [], "lr": 0.1}]


BAD_FIT = [
    (lambda: dict(good(), model=object()), TypeError, "model must have methods.*no parameters"),
    (lambda: dict(good(), model=NoGrad()), TypeError, "NoGrad has no value_and_grad"),
    (lambda: with_model(NotArrays(3)), TypeError, r"parameters\(\)\[0\] must be a numpy"),
    (lambda: dict(good(), optimizer=NoStep()), TypeError, "optimizer must have step"),
    (lambda: dict(good(), optimizer=object()), TypeError, "param_groups"),
    (other_arrays, ValueError, "optimizer must be built over model.parameters"),
    (swapped_order, ValueError, "in the same order"),
    (lambda: dict(good(), y=np.zeros(9)), ValueError, r"X and y .* \(10, 3\) .* \(9,\)"),
    (lambda: dict(good(), batch_size=0), ValueError, "batch_size must be >= 1, got 0"),
    (lambda: dict(good(), batch_size=1.5), TypeError, "batch_size must be a positive integer"),
    (lambda: dict(good(), epochs=0), ValueError, "epochs must be >= 1, got 0"),
    (lambda: dict(good(), epochs=None), TypeError, "epochs must be a positive integer, got None"),
    (lambda: dict(good(), snapshot_every=0), ValueError, "snapshot_every must be >= 1"),
    (lambda: dict(good(), early_stopping=3), TypeError, "early_stopping must be a fastloss"),
    (lambda: dict(good(), validation_data=np.zeros(3)), TypeError, "validation_data must be"),
    (lambda: dict(good(), validation_data=(np.zeros((3, 3)), np.zeros(2))), ValueError,
     "X_val and y_val must have the same number"),
    (lambda: dict(good(), monitor="accuracy"), ValueError, "monitor must be one of"),
    (lambda: dict(good(), monitor="val_loss"), ValueError, "needs validation_data"),
    (lambda: dict(good(), scheduler=object()), TypeError, "scheduler must have a step"),
    (lambda: dict(good(), scheduler=StandInPlateau(None), scheduler_takes_metric="yes"),
     TypeError, "scheduler_takes_metric must be"),
    (lambda: dict(good(), scheduler_interval="batch"), ValueError, "scheduler_interval"),
    (lambda: dict(good(), on_nonfinite="ignore"), ValueError, "on_nonfinite must be one of"),
    (lambda: dict(good(), callbacks=print), TypeError, "callbacks must be a list"),
    (lambda: dict(good(), callbacks=[3]), TypeError, r"callbacks\[0\] must be callable"),
    (lambda: dict(good(), batch_size=11, drop_last=True), ValueError, "leaves no batch"),
    (lambda: with_model(BadReturn([1.0])), TypeError, "must return \\(value, grads\\)"),
    (lambda: with_model(BadReturn((1.0, [np.zeros(3)]))), ValueError,
     "one gradient per parameter: 2 expected, got 1"),
    (lambda: with_model(BadReturn(("x", [np.zeros(3), np.zeros(1)]))), TypeError,
     "a real loss value, got 'x'"),
]


@pytest.mark.parametrize("make,error,match", BAD_FIT, ids=[str(i) for i in range(len(BAD_FIT))])
def test_fit_bad_input(make, error, match):
    with pytest.raises(error, match=match):
        fit(**make())


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(patience=0), ValueError, "patience must be >= 1, got 0"),
    (dict(patience=2.0), TypeError, "patience must be a positive integer"),
    (dict(min_delta=-0.1), ValueError, "min_delta must be finite and >= 0, got -0.1"),
    (dict(min_delta=math.nan), ValueError, "min_delta must be finite"),
    (dict(min_delta="0"), TypeError, "min_delta must be a real number"),
])
def test_early_stopping_bad_options(kwargs, error, match):
    with pytest.raises(error, match=match):
        EarlyStopping(**kwargs)


def test_model_value_is_used_for_validation_when_present():
    class CountingModel(LinearRegression):
        def __init__(self):
            super().__init__(3)
            self.value_calls = 0

        def value(self, loss, X, y):
            self.value_calls += 1
            return float(loss(X @ self.w + self.b, y))

    X, y = regression_data(n=10)
    model = CountingModel()
    history = fit(model, fastloss.MSELoss(), StandInSGD(model.parameters(), 0.01), X, y,
                  epochs=3, validation_data=(X, y))
    assert model.value_calls == 3
    assert isinstance(history, History)
