"""fastloss.optim.lr_scheduler against PyTorch's schedulers (when installed) and against
closed forms written here, on a stand-in optimizer (any object with ``param_groups``)."""
import math
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, strategies as st

import fastloss.optim.lr_scheduler as lr_scheduler
from fastloss.optim.lr_scheduler import (
    CosineAnnealingLR, CosineAnnealingWarmRestarts, ExponentialLR, LinearLR, LRScheduler,
    MultiStepLR, ReduceLROnPlateau, SequentialLR, StepLR)

BASE_LRS = [0.1, 0.02]    # two param groups: every schedule acts per group
N_STEPS = 40


class StandInOptimizer:
    """What a scheduler needs of an optimizer: a `param_groups` list of dicts with "lr"."""

    def __init__(self, lrs=BASE_LRS):
        self.param_groups = [{"params": [], "lr": lr} for lr in lrs]


def lrs_of(optimizer):
    return [group["lr"] for group in optimizer.param_groups]


def run(make_scheduler, lrs=BASE_LRS, n_steps=N_STEPS):
    """The lrs of epochs 0..n_steps-1 (one list per epoch) for a fresh stand-in."""
    optimizer = StandInOptimizer(lrs)
    scheduler = make_scheduler(optimizer)
    history = []
    for _ in range(n_steps):
        history.append(lrs_of(optimizer))
        assert scheduler.get_last_lr() == history[-1]
        scheduler.step()
    return history


def assert_close(actual, expected, rtol, where):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, where
    bad = np.abs(actual - expected) > rtol * np.abs(expected)
    assert not bad.any(), (f"{where}: first mismatch at epoch {np.argwhere(bad)[0][0]}: "
                           f"{actual[bad][0]!r} != {expected[bad][0]!r}")


# ---------------------------------------------------------------- against PyTorch

def torch_run(make_scheduler, lrs=BASE_LRS, n_steps=N_STEPS):
    torch = pytest.importorskip("torch")
    optimizer = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)], "lr": lr}
                                 for lr in lrs], lr=lrs[0])
    scheduler = make_scheduler(torch.optim.lr_scheduler, optimizer)
    history = []
    for _ in range(n_steps):
        history.append(lrs_of(optimizer))
        optimizer.step()   # before the scheduler's step, as PyTorch wants
        scheduler.step()
    return history


def sequential(m, opt):
    return m.SequentialLR(opt, [m.LinearLR(opt, start_factor=0.1, total_iters=5),
                                m.CosineAnnealingLR(opt, T_max=12, eta_min=1e-3)],
                          milestones=[5])


def sequential3(m, opt):
    return m.SequentialLR(opt, [m.ExponentialLR(opt, gamma=0.9),
                                m.StepLR(opt, step_size=4, gamma=0.5),
                                m.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2)],
                          milestones=[6, 15])


# (id, factory(module, optimizer)): the same call builds fastloss's and torch's scheduler
SCHEDULES = [
    ("step", lambda m, opt, **kw: m.StepLR(opt, **kw, step_size=3, gamma=0.5)),
    ("step-every-epoch", lambda m, opt, **kw: m.StepLR(opt, **kw, step_size=1, gamma=0.9)),
    ("step-default-gamma", lambda m, opt, **kw: m.StepLR(opt, 7, **kw)),
    ("multistep", lambda m, opt, **kw: m.MultiStepLR(opt, **kw, milestones=[2, 5, 9], gamma=0.3)),
    ("multistep-at-0", lambda m, opt, **kw: m.MultiStepLR(opt, **kw, milestones=[0, 4])),
    ("exponential", lambda m, opt, **kw: m.ExponentialLR(opt, **kw, gamma=0.95)),
    ("exponential-growth", lambda m, opt, **kw: m.ExponentialLR(opt, **kw, gamma=1.05)),
    ("cosine", lambda m, opt, **kw: m.CosineAnnealingLR(opt, **kw, T_max=7, eta_min=1e-3)),
    ("cosine-past-T_max", lambda m, opt, **kw: m.CosineAnnealingLR(opt, **kw, T_max=3)),
    ("cosine-T_max-1", lambda m, opt, **kw: m.CosineAnnealingLR(opt, **kw, T_max=1, eta_min=0.01)),
    ("linear-warmup", lambda m, opt, **kw: m.LinearLR(opt, **kw, start_factor=0.1, total_iters=6)),
    ("linear-decay", lambda m, opt, **kw: m.LinearLR(opt, **kw, start_factor=1.0, end_factor=0.2,
                                               total_iters=4)),
    ("linear-default", lambda m, opt, **kw: m.LinearLR(opt, **kw)),
    ("warm-restarts", lambda m, opt, **kw: m.CosineAnnealingWarmRestarts(opt, **kw, T_0=3, T_mult=2,
                                                                   eta_min=0.01)),
    ("warm-restarts-T_mult-1", lambda m, opt, **kw: m.CosineAnnealingWarmRestarts(opt, **kw, T_0=5)),
    ("sequential", sequential),
    ("sequential-3", sequential3),
]
SCHEDULE_IDS = [name for name, _ in SCHEDULES]


@pytest.mark.parametrize("factory", [f for _, f in SCHEDULES], ids=SCHEDULE_IDS)
def test_same_lrs_as_torch(factory):
    """Bitwise: every schedule does PyTorch's float operations in PyTorch's order."""
    expected = torch_run(factory)
    assert run(lambda opt: factory(lr_scheduler, opt)) == expected


def test_two_chained_schedulers_compose_like_torch():
    """Two schedules on one optimizer multiply (the chainable form)."""
    def both(m, opt):
        first = m.ExponentialLR(opt, gamma=0.9)
        second = m.MultiStepLR(opt, milestones=[3, 6], gamma=0.5)
        return SimpleNamespace(step=lambda: (first.step(), second.step()),
                               get_last_lr=second.get_last_lr)
    assert run(lambda opt: both(lr_scheduler, opt), n_steps=10) == \
        torch_run(both, n_steps=10)


RESUMABLE = [(name, f) for name, f in SCHEDULES if not name.startswith(("sequential", "warm"))]


@pytest.mark.parametrize("factory", [f for _, f in RESUMABLE], ids=[n for n, _ in RESUMABLE])
@pytest.mark.parametrize("last_epoch", [0, 4])
def test_resume_with_last_epoch_like_torch(factory, last_epoch):
    """Constructing with last_epoch=k (initial_lr in the groups) continues as PyTorch."""
    def resume(m, opt):
        for group, lr in zip(opt.param_groups, BASE_LRS):
            group["initial_lr"] = lr
        return factory(m, opt, last_epoch=last_epoch)
    resumed_lrs = [0.07, 0.03]
    expected = torch_run(resume, lrs=resumed_lrs, n_steps=12)
    assert run(lambda opt: resume(lr_scheduler, opt), lrs=resumed_lrs, n_steps=12) == expected


WARM_RESTART_EPOCHS = [0, 0.5, 1.25, 2.9999, 3, 3.5, 8.7, 9, 10.1, 2.0, 20.999, 21, 45.5,
                       93, 200.25]


@pytest.mark.parametrize("T_0,T_mult", [(3, 1), (3, 2), (2, 3), (10, 2)])
def test_warm_restarts_fractional_epochs_like_torch(T_0, T_mult):
    torch = pytest.importorskip("torch")
    optimizer = torch.optim.SGD([{"params": [torch.zeros(1)], "lr": lr} for lr in BASE_LRS])
    theirs = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0, T_mult, 1e-3)
    stand_in = StandInOptimizer()
    ours = CosineAnnealingWarmRestarts(stand_in, T_0, T_mult, 1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # PyTorch warns about the call order
        for epoch in WARM_RESTART_EPOCHS:
            theirs.step(epoch)
            ours.step(epoch)
            assert lrs_of(stand_in) == lrs_of(optimizer), f"epoch={epoch}"
            assert (ours.last_epoch, ours.T_i) == (theirs.last_epoch, theirs.T_i), f"epoch={epoch}"
            # then whole steps from there
            theirs.step()
            ours.step()
            assert lrs_of(stand_in) == lrs_of(optimizer), f"step after epoch={epoch}"


PLATEAU_OPTIONS = [
    dict(),
    dict(mode="max", factor=0.5, patience=2),
    dict(patience=1, threshold=0.05, threshold_mode="abs", cooldown=2),
    dict(mode="max", threshold_mode="abs", threshold=0.1, patience=0, min_lr=0.004),
    dict(factor=0.5, patience=0, min_lr=[0.02, 0.0], eps=1e-3),
]


@pytest.mark.parametrize("options", PLATEAU_OPTIONS, ids=str)
def test_reduce_on_plateau_like_torch(options):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    metrics = np.cumsum(rng.normal(0.0, 0.1, 120)).tolist() + [math.nan, 0.5, 0.5]
    optimizer = torch.optim.SGD([{"params": [torch.zeros(1)], "lr": lr} for lr in BASE_LRS])
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **options)
    stand_in = StandInOptimizer()
    ours = ReduceLROnPlateau(stand_in, **options)
    changes = 0
    for epoch, metric in enumerate(metrics):
        before = lrs_of(stand_in)
        theirs.step(metric)
        ours.step(metric)
        assert lrs_of(stand_in) == lrs_of(optimizer), f"epoch {epoch}, metric {metric}"
        assert ours.get_last_lr() == theirs.get_last_lr()
        assert (ours.best, ours.num_bad_epochs, ours.cooldown_counter) == \
            (theirs.best, theirs.num_bad_epochs, theirs.cooldown_counter), f"epoch {epoch}"
        changes += lrs_of(stand_in) != before
    assert changes > 0, f"{options}: the metrics never triggered a reduction"


# ---------------------------------------------------------------- closed forms

def cosine(base, eta_min, position):
    """eta_min + (base - eta_min) (1 + cos(pi position)) / 2"""
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * position)) / 2


CLOSED_FORMS = [
    (lambda opt: StepLR(opt, step_size=3, gamma=0.5),
     lambda base, t: base * 0.5 ** (t // 3)),
    (lambda opt: MultiStepLR(opt, milestones=[2, 5, 9], gamma=0.3),
     lambda base, t: base * 0.3 ** sum(t >= m for m in (2, 5, 9))),
    (lambda opt: ExponentialLR(opt, gamma=0.95), lambda base, t: base * 0.95 ** t),
    (lambda opt: CosineAnnealingLR(opt, T_max=7, eta_min=1e-3),
     lambda base, t: cosine(base, 1e-3, t / 7)),
    (lambda opt: LinearLR(opt, start_factor=0.1, total_iters=6),
     lambda base, t: base * (0.1 + 0.9 * min(t, 6) / 6)),
    (lambda opt: LinearLR(opt, start_factor=0.5, end_factor=0.0, total_iters=4),
     lambda base, t: base * (0.5 - 0.5 * min(t, 4) / 4)),
    (lambda opt: SequentialLR(opt, [LinearLR(opt, start_factor=0.1, total_iters=5),
                                    CosineAnnealingLR(opt, T_max=12)], milestones=[5]),
     lambda base, t: base * (0.1 + 0.9 * t / 5) if t < 5 else cosine(base, 0.0, (t - 5) / 12)),
]


@pytest.mark.parametrize("make,formula", CLOSED_FORMS,
                         ids=["step", "multistep", "exponential", "cosine", "linear-warmup",
                              "linear-to-zero", "warmup-then-cosine"])
def test_closed_forms(make, formula):
    """The chained updates stay within 1e-12 of the closed forms (they round once per
    step where the closed form rounds once)."""
    expected = [[formula(base, t) for base in BASE_LRS] for t in range(N_STEPS)]
    assert_close(run(make), expected, rtol=1e-12, where="chained vs closed form")


def warm_restarts_formula(base, t, T_0, T_mult, eta_min, decay):
    """Walk the cycles (no logarithm) to the one holding epoch t."""
    start, length, cycle = 0.0, float(T_0), 0
    while t >= start + length:
        start, length, cycle = start + length, length * T_mult, cycle + 1
    peak = eta_min + (base - eta_min) * decay ** cycle
    return cosine(peak, eta_min, (t - start) / length)


@pytest.mark.parametrize("T_0,T_mult,decay", [(3, 2, 1.0), (4, 1, 0.5), (3, 1.5, 0.7),
                                              (2, 2.5, 0.9), (5, 1.1, 1.0)])
def test_warm_restarts_closed_form_with_decay_and_real_T_mult(T_0, T_mult, decay):
    """Jumping to any epoch follows the formula; integer steps restart at the first
    step at or past the end of a cycle, with the fractional overshoot kept."""
    stand_in = StandInOptimizer()
    jumping = CosineAnnealingWarmRestarts(stand_in, T_0, T_mult, 0.001, restart_decay=decay)
    for epoch in [0, 0.3, 2.5, 3, 4.75, 7.5, 11, 17.2, 31, 64.9]:
        jumping.step(epoch)
        expected = [warm_restarts_formula(b, epoch, T_0, T_mult, 0.001, decay) for b in BASE_LRS]
        assert_close([lrs_of(stand_in)], [expected], 1e-12, f"epoch={epoch}")
        assert jumping.last_epoch == math.floor(epoch)

    stepped = run(lambda opt: CosineAnnealingWarmRestarts(opt, T_0, T_mult, 0.001,
                                                          restart_decay=decay), n_steps=60)
    start, length, cycle, expected = 0.0, float(T_0), 0, []
    for t in range(60):
        if t >= start + length:   # the restart lands on the first whole step past the end
            start, length, cycle = start + length, length * T_mult, cycle + 1
        peak = [0.001 + (b - 0.001) * decay ** cycle for b in BASE_LRS]
        expected.append([cosine(p, 0.001, (t - start) / length) for p in peak])
    assert_close(stepped, expected, 1e-12, "whole steps")


def test_warm_restart_peaks_decay():
    history = run(lambda opt: CosineAnnealingWarmRestarts(opt, T_0=4, eta_min=0.01,
                                                          restart_decay=0.5), n_steps=13)
    peaks = [history[t][0] for t in (0, 4, 8, 12)]
    assert peaks == pytest.approx([0.01 + 0.09 * 0.5 ** i for i in range(4)], rel=1e-15)


@given(T_0=st.integers(1, 20), T_mult=st.floats(1.0, 4.0), decay=st.floats(0.05, 1.0),
       epoch=st.floats(0.0, 500.0))
def test_warm_restarts_stays_between_eta_min_and_initial_lr(T_0, T_mult, decay, epoch):
    stand_in = StandInOptimizer([0.5])
    scheduler = CosineAnnealingWarmRestarts(stand_in, T_0, T_mult, 0.1, restart_decay=decay)
    scheduler.step(epoch)
    assert 0.1 <= stand_in.param_groups[0]["lr"] <= 0.5
    assert 0 <= scheduler.T_cur < scheduler.T_i
    expected = warm_restarts_formula(0.5, epoch, T_0, T_mult, 0.1, decay)
    assert stand_in.param_groups[0]["lr"] == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_reduce_on_plateau_closed_case():
    """patience=2, factor=0.5: the third epoch in a row without improvement halves the
    rate, then `cooldown` epochs are not counted; min_lr bounds it."""
    stand_in = StandInOptimizer([1.0])
    scheduler = ReduceLROnPlateau(stand_in, factor=0.5, patience=2, cooldown=1, min_lr=0.3)
    lrs = []
    for metric in [5, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4]:
        scheduler.step(metric)
        lrs.append(stand_in.param_groups[0]["lr"])
    assert lrs == [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.3, 0.3, 0.3, 0.3]


# ---------------------------------------------------------------- optimizer contract

def test_initial_lr_is_recorded_and_kept():
    stand_in = StandInOptimizer()
    StepLR(stand_in, 2)
    assert [g["initial_lr"] for g in stand_in.param_groups] == BASE_LRS
    stand_in.param_groups[0]["lr"] = 0.5
    # a second scheduler keeps the first's initial_lr, as in PyTorch
    scheduler = ExponentialLR(stand_in, 0.5)
    assert stand_in.param_groups[0]["initial_lr"] == BASE_LRS[0]
    assert scheduler.base_lrs == BASE_LRS


def test_get_last_lr_is_a_copy():
    stand_in = StandInOptimizer()
    scheduler = StepLR(stand_in, 2)
    scheduler.get_last_lr()[0] = 123.0
    assert scheduler.get_last_lr() == BASE_LRS


def test_numpy_scalar_lrs_become_python_floats():
    stand_in = StandInOptimizer([np.float32(0.1)])
    ExponentialLR(stand_in, gamma=np.float64(0.5)).step()
    lr = stand_in.param_groups[0]["lr"]
    assert type(lr) is float and lr == float(np.float32(0.1)) * 0.5


def test_reduce_on_plateau_follows_new_param_groups_with_scalar_min_lr():
    stand_in = StandInOptimizer([1.0])
    scheduler = ReduceLROnPlateau(stand_in, patience=0, factor=0.5)
    stand_in.param_groups.append({"lr": 2.0})
    scheduler.step(1.0)
    scheduler.step(2.0)
    assert lrs_of(stand_in) == [0.5, 1.0]


# ---------------------------------------------------------------- checkpoints

def plateau(opt):
    return ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1)


CHECKPOINTED = [f for _, f in SCHEDULES] + ["plateau"]


def _metric(t):
    return 1.0 / (1 + t % 5)


@pytest.mark.parametrize("factory", CHECKPOINTED, ids=SCHEDULE_IDS + ["plateau"])
def test_state_dict_resume_is_exact(factory):
    """Stopped after k epochs, saved, loaded into a fresh scheduler on a fresh optimizer
    (with the saved lrs): the rest of the run is bitwise the uninterrupted one."""
    def make(opt):
        return plateau(opt) if factory == "plateau" else factory(lr_scheduler, opt)

    def advance(scheduler, t):
        if factory == "plateau":
            scheduler.step(_metric(t))
        else:
            scheduler.step()

    whole_opt = StandInOptimizer()
    whole = make(whole_opt)
    history = []
    for t in range(30):
        history.append(lrs_of(whole_opt))
        advance(whole, t)
        if t == 11:
            saved_state, saved_lrs = whole.state_dict(), lrs_of(whole_opt)

    fresh_opt = StandInOptimizer()
    fresh = make(fresh_opt)
    for group, lr in zip(fresh_opt.param_groups, saved_lrs):   # the optimizer's checkpoint
        group["lr"] = lr
    fresh.load_state_dict(saved_state)
    resumed = []
    for t in range(12, 30):
        resumed.append(lrs_of(fresh_opt))
        advance(fresh, t)
    assert resumed == history[12:]


def test_state_dict_is_a_snapshot():
    scheduler = MultiStepLR(StandInOptimizer(), milestones=[3, 6])
    state = scheduler.state_dict()
    state["milestones"].append(10)
    state["base_lrs"][0] = 9.0
    assert scheduler.milestones == [3, 6] and scheduler.base_lrs == BASE_LRS


@pytest.mark.parametrize("mangle,match", [
    (lambda s: ExponentialLR(StandInOptimizer(), 0.5).state_dict(), r"unexpected keys \['gamma'\].*|missing keys \['step_size'\]"),
    (lambda s: {**s, "base_lrs": [0.1]}, r"state_dict\['base_lrs'\] holds 1 learning rates.*2 param groups"),
    (lambda s: {k: v for k, v in s.items() if k != "gamma"}, r"missing keys \['gamma'\]"),
], ids=["other-schedule", "group-count", "missing-key"])
def test_load_state_dict_rejects_misfits_and_changes_nothing(mangle, match):
    scheduler = StepLR(StandInOptimizer(), step_size=3)
    scheduler.step()
    before = scheduler.state_dict()
    with pytest.raises(ValueError, match=match):
        scheduler.load_state_dict(mangle(scheduler.state_dict()))
    assert scheduler.state_dict() == before
    with pytest.raises(TypeError, match="state_dict must be a dict"):
        scheduler.load_state_dict([1, 2])


def test_sequential_load_state_dict_checks_every_schedule_first():
    opt = StandInOptimizer()
    scheduler = sequential(lr_scheduler, opt)
    for _ in range(3):
        scheduler.step()
    before = scheduler.state_dict()
    broken = scheduler.state_dict()
    broken["last_epoch"] = 99
    broken["_schedulers"][1]["T_max"] = 5
    del broken["_schedulers"][1]["eta_min"]
    with pytest.raises(ValueError, match=r"missing keys \['eta_min'\]"):
        scheduler.load_state_dict(broken)
    assert scheduler.state_dict() == before
    with pytest.raises(ValueError, match=r"list of 2 scheduler states"):
        scheduler.load_state_dict({**before, "_schedulers": before["_schedulers"][:1]})


# ---------------------------------------------------------------- bad input

def opt():
    return StandInOptimizer()


BAD_INPUT = [
    # optimizer
    (lambda: StepLR([np.zeros(3)], 2), TypeError, r"optimizer must have a `param_groups`.*list"),
    (lambda: StepLR(SimpleNamespace(param_groups=[0.1]), 2), TypeError, r"param_groups"),
    (lambda: StepLR(SimpleNamespace(param_groups=[]), 2), ValueError, r"param_groups is empty"),
    (lambda: StepLR(SimpleNamespace(param_groups=[{"params": []}]), 2), ValueError,
     r"param_groups\[0\] has no 'lr'"),
    (lambda: StepLR(StandInOptimizer([0.1, -0.5]), 2), ValueError,
     r"param_groups\[1\]\['lr'\].*-0.5"),
    (lambda: StepLR(StandInOptimizer(["0.1"]), 2), TypeError, r"\['lr'\] must be a real.*'0.1'"),
    (lambda: StepLR(StandInOptimizer([math.inf]), 2), ValueError, r"\['lr'\].*inf"),
    (lambda: ReduceLROnPlateau(object()), TypeError, r"optimizer must have.*object"),
    # last_epoch
    (lambda: StepLR(opt(), 2, last_epoch=-2), ValueError, r"last_epoch must be >= -1, got -2"),
    (lambda: StepLR(opt(), 2, last_epoch=3), ValueError,
     r"last_epoch=3 resumes.*param_groups\[0\] has no 'initial_lr'"),
    (lambda: StepLR(opt(), 2, last_epoch=1.0), TypeError, r"last_epoch must be an integer, got 1.0"),
    # StepLR / MultiStepLR / ExponentialLR
    (lambda: StepLR(opt(), 0), ValueError, r"step_size must be >= 1, got 0"),
    (lambda: StepLR(opt(), -3), ValueError, r"step_size must be >= 1, got -3"),
    (lambda: StepLR(opt(), 2.5), TypeError, r"step_size must be an integer, got 2.5"),
    (lambda: StepLR(opt(), True), TypeError, r"step_size must be an integer, got True"),
    (lambda: StepLR(opt(), 2, gamma=0), ValueError, r"gamma must be finite and > 0, got 0$"),
    (lambda: StepLR(opt(), 2, gamma=-0.1), ValueError, r"gamma .*-0.1"),
    (lambda: StepLR(opt(), 2, gamma=math.nan), ValueError, r"gamma .*nan"),
    (lambda: StepLR(opt(), 2, gamma="0.1"), TypeError, r"gamma must be a real number, got '0.1'"),
    (lambda: MultiStepLR(opt(), [5, 3]), ValueError,
     r"milestones must be strictly increasing, got \[5, 3\] \(milestones\[1\] = 3 after 5\)"),
    (lambda: MultiStepLR(opt(), [2, 2]), ValueError, r"milestones must be strictly increasing"),
    (lambda: MultiStepLR(opt(), [-1, 3]), ValueError, r"milestones\[0\] must be >= 0, got -1"),
    (lambda: MultiStepLR(opt(), [1.5]), TypeError, r"milestones\[0\] must be an integer, got 1.5"),
    (lambda: MultiStepLR(opt(), 5), TypeError, r"milestones must be a list of integers, got 5"),
    (lambda: MultiStepLR(opt(), [2], gamma=0.0), ValueError, r"gamma"),
    (lambda: ExponentialLR(opt(), gamma=0.0), ValueError, r"gamma .*0.0"),
    (lambda: ExponentialLR(opt(), gamma=-2), ValueError, r"gamma .*-2"),
    # CosineAnnealingLR / LinearLR
    (lambda: CosineAnnealingLR(opt(), T_max=0), ValueError, r"T_max must be >= 1, got 0"),
    (lambda: CosineAnnealingLR(opt(), T_max=10, eta_min=-1e-3), ValueError, r"eta_min.*-0.001"),
    (lambda: LinearLR(opt(), start_factor=0), ValueError, r"start_factor must be finite and in \(0, 1\], got 0$"),
    (lambda: LinearLR(opt(), start_factor=1.5), ValueError, r"start_factor .*1.5"),
    (lambda: LinearLR(opt(), end_factor=-0.1), ValueError, r"end_factor .*\[0, 1\], got -0.1"),
    (lambda: LinearLR(opt(), end_factor=1.1), ValueError, r"end_factor .*1.1"),
    (lambda: LinearLR(opt(), total_iters=0), ValueError, r"total_iters must be >= 1, got 0"),
    # CosineAnnealingWarmRestarts
    (lambda: CosineAnnealingWarmRestarts(opt(), T_0=0), ValueError, r"T_0 must be >= 1, got 0"),
    (lambda: CosineAnnealingWarmRestarts(opt(), T_0=-4), ValueError, r"T_0 must be >= 1, got -4"),
    (lambda: CosineAnnealingWarmRestarts(opt(), T_0=2.5), TypeError, r"T_0 must be an integer, got 2.5"),
    (lambda: CosineAnnealingWarmRestarts(opt(), 5, T_mult=0.5), ValueError,
     r"T_mult must be finite and >= 1, got 0.5"),
    (lambda: CosineAnnealingWarmRestarts(opt(), 5, T_mult=math.inf), ValueError, r"T_mult .*inf"),
    (lambda: CosineAnnealingWarmRestarts(opt(), 5, eta_min=-1), ValueError, r"eta_min .*-1"),
    (lambda: CosineAnnealingWarmRestarts(opt(), 5, restart_decay=0), ValueError,
     r"restart_decay must be finite and in \(0, 1\], got 0$"),
    (lambda: CosineAnnealingWarmRestarts(opt(), 5, restart_decay=1.2), ValueError,
     r"restart_decay .*1.2"),
    (lambda: CosineAnnealingWarmRestarts(opt(), 5).step(-1), ValueError,
     r"epoch must be finite and >= 0, got -1$"),
    (lambda: CosineAnnealingWarmRestarts(opt(), 5).step("3"), TypeError, r"epoch must be a real number, got '3'"),
    # SequentialLR
    (lambda: SequentialLR(opt(), [], []), ValueError, r"schedulers is empty"),
    (lambda: SequentialLR(opt(), [0.1], []), TypeError, r"schedulers\[0\] must be a learning-rate scheduler, got float"),
    (lambda: (lambda o: SequentialLR(o, [StepLR(o, 2), ReduceLROnPlateau(o)], [3]))(opt()),
     ValueError, r"schedulers\[1\] is a ReduceLROnPlateau"),
    (lambda: (lambda o: SequentialLR(o, [StepLR(opt(), 2)], []))(opt()),
     ValueError, r"schedulers\[0\] drives another optimizer"),
    (lambda: (lambda o: SequentialLR(o, [StepLR(o, 2), StepLR(o, 3)], [3, 6]))(opt()),
     ValueError, r"milestones must hold len\(schedulers\) - 1 = 1 epochs, got 2"),
    (lambda: (lambda o: SequentialLR(o, [StepLR(o, 2)] * 3, [6, 3]))(opt()),
     ValueError, r"milestones must be strictly increasing, got \[6, 3\]"),
    (lambda: (lambda o: SequentialLR(o, [StepLR(o, 2)] * 2, [0]))(opt()),
     ValueError, r"milestones\[0\] must be >= 1, got 0"),
    (lambda: (lambda o: SequentialLR(o, [StepLR(o, 2)], [], last_epoch=4))(opt()),
     ValueError, r"last_epoch=4"),
    # ReduceLROnPlateau
    (lambda: ReduceLROnPlateau(opt(), mode="median"), ValueError, r"mode must be one of \['max', 'min'\], got 'median'"),
    (lambda: ReduceLROnPlateau(opt(), threshold_mode="relative"), ValueError,
     r"threshold_mode must be one of \['abs', 'rel'\], got 'relative'"),
    (lambda: ReduceLROnPlateau(opt(), factor=1.0), ValueError, r"factor .*\(0, 1\), got 1.0"),
    (lambda: ReduceLROnPlateau(opt(), factor=0), ValueError, r"factor must be finite and in \(0, 1\), got 0$"),
    (lambda: ReduceLROnPlateau(opt(), patience=-1), ValueError, r"patience must be >= 0, got -1"),
    (lambda: ReduceLROnPlateau(opt(), cooldown=-2), ValueError, r"cooldown must be >= 0, got -2"),
    (lambda: ReduceLROnPlateau(opt(), threshold=-0.1), ValueError, r"threshold .*-0.1"),
    (lambda: ReduceLROnPlateau(opt(), threshold=1.0), ValueError, r"threshold .*\[0, 1\), got 1.0"),
    (lambda: ReduceLROnPlateau(opt(), min_lr=[0.1]), ValueError,
     r"min_lr holds 1 values, the optimizer has 2 param groups"),
    (lambda: ReduceLROnPlateau(opt(), min_lr=[0.1, -1]), ValueError, r"min_lr\[1\] .*-1"),
    (lambda: ReduceLROnPlateau(opt(), min_lr=-1e-3), ValueError, r"min_lr .*-0.001"),
    (lambda: ReduceLROnPlateau(opt(), eps=-1), ValueError, r"eps .*-1"),
    (lambda: ReduceLROnPlateau(opt()).step("low"), TypeError, r"metrics must be a number, got 'low'"),
    (lambda: ReduceLROnPlateau(opt()).step(None), TypeError, r"metrics must be a number, got None"),
    (lambda: ReduceLROnPlateau(opt()).step([1.0, 2.0]), TypeError, r"metrics must be a number, got \[1.0, 2.0\]"),
]


@pytest.mark.parametrize("call,error,match", BAD_INPUT, ids=[m for *_, m in BAD_INPUT])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_bad_optimizer_is_left_untouched():
    stand_in = StandInOptimizer([0.1, -1.0])
    with pytest.raises(ValueError):
        StepLR(stand_in, 2)
    assert all("initial_lr" not in group for group in stand_in.param_groups)


def test_plateau_min_lr_list_with_new_group_is_an_error():
    stand_in = StandInOptimizer([1.0])
    scheduler = ReduceLROnPlateau(stand_in, patience=0, min_lr=[0.0])
    stand_in.param_groups.append({"lr": 1.0})
    scheduler.step(1.0)
    with pytest.raises(ValueError, match=r"now has 2 param groups, but min_lr was given for 1"):
        scheduler.step(2.0)


# ---------------------------------------------------------------- docs

def test_every_schedule_is_exported_and_documented():
    for name in lr_scheduler.__all__:
        cls = getattr(lr_scheduler, name)
        assert issubclass(cls, LRScheduler)
        assert cls is LRScheduler or ">>>" in cls.__doc__, f"{name} has no example"
