"""The optimizer base: parameter groups, the array tables the kernels walk, the
per-step gradient checks, the non-finite policy and checkpoints.

Hot path. The parameters are fixed when the optimizer is created, so each group's
table (offsets and addresses of the parameters and of the state arrays, one table per
dtype) is built once; the state of a group and dtype lives in one flat buffer per
state kind, allocated once when it is first needed. A step then only writes the
gradients' addresses into the table, in one typed Cython loop that also checks each
gradient (ndarray, dtype, shape, C order), and calls one kernel per group and dtype.
"""
import json
import numbers
import warnings

import numpy as np

from .. import _kernels
from .._arrays import check_grad
from .._config import resolve_threads

NONFINITE_POLICIES = ("propagate", "skip")
CHECKPOINT_FORMAT = "fastloss.optim checkpoint 1"


def _param_list(params):
    """The user's params as a list of groups (dicts holding a list of arrays)."""
    if isinstance(params, np.ndarray):
        raise TypeError(f"params must be a list of arrays or of param-group dicts, got a "
                        f"single ndarray of shape {params.shape}")
    if isinstance(params, dict):
        raise TypeError("params must be a list of arrays or of param-group dicts, got a "
                        "dict (wrap one group in a list)")
    try:
        items = list(params)
    except TypeError:
        raise TypeError(f"params must be a list of arrays, got {type(params).__name__}") \
            from None
    if not items:
        raise ValueError("params is an empty list: an optimizer needs parameters")
    if all(isinstance(it, dict) for it in items):
        groups = []
        for k, it in enumerate(items):
            if "params" not in it:
                raise ValueError(f"param group {k} has no 'params' entry")
            arrays = it["params"]
            if isinstance(arrays, np.ndarray):
                arrays = [arrays]
            groups.append(dict(it, params=list(arrays)))
        return groups
    if any(isinstance(it, dict) for it in items):
        raise TypeError("params must be all arrays or all param-group dicts, not a mix")
    return [{"params": items}]


def _check_param(where, p):
    if not isinstance(p, np.ndarray):
        raise TypeError(f"{where} must be a numpy.ndarray, got {type(p).__name__}")
    if p.dtype not in (np.float32, np.float64) or not p.dtype.isnative:
        raise TypeError(f"{where} must be float32 or float64 (native byte order), got "
                        f"{p.dtype}")
    if not p.flags.c_contiguous:
        raise ValueError(f"{where} must be C-contiguous (it is updated in place)")
    if not p.flags.writeable:
        raise ValueError(f"{where} is read-only: the optimizer updates it in place")


def _address(a):
    return a.__array_interface__["data"][0]


class _Overlaps:
    """The sorted, disjoint memory extents of all parameters: a gradient that overlaps
    one of them would be changed by the step that reads it."""

    def __init__(self, params):
        extents = sorted((_address(p), _address(p) + p.nbytes, i)
                         for i, p in enumerate(params) if p.nbytes)
        for (s0, e0, i0), (s1, e1, i1) in zip(extents, extents[1:]):
            if s1 < e0:
                a, b = sorted((i0, i1))
                raise ValueError(f"params[{b}] shares memory with params[{a}]: every "
                                 f"parameter must be a separate buffer (both are "
                                 f"updated in place)")
        self.starts = np.array([e[0] for e in extents], dtype=np.uint64)
        self.ends = np.array([e[1] for e in extents], dtype=np.uint64)

    def check(self, addresses, nbytes, positions):
        """Raise when any [address, address + nbytes) overlaps a parameter."""
        keep = nbytes > 0
        starts = addresses.astype(np.uint64)[keep]
        ends = starts + nbytes[keep].astype(np.uint64)
        last = np.searchsorted(self.starts, ends, side="left") - 1
        clash = (last >= 0) & (self.ends[np.maximum(last, 0)] > starts)
        if clash.any():
            pos = int(positions[keep][np.flatnonzero(clash)[0]])
            raise ValueError(f"grads[{pos}] shares memory with a parameter: gradients "
                             f"must be separate buffers")


class _Segment:
    """The arrays of one group with one dtype: their table and their state buffers."""

    def __init__(self, params, local, first):
        self.params = [params[i] for i in local]
        self.dtype = self.params[0].dtype
        self.is_double = self.dtype == np.float64
        self.local = np.array(local, dtype=np.intp)       # index within the group
        self.flat = self.local + first                    # index within all params
        self.offsets = np.zeros(len(local) + 1, dtype=np.intp)
        np.cumsum([p.size for p in self.params], out=self.offsets[1:])
        self.nbytes = np.diff(self.offsets) * self.dtype.itemsize
        shapes = [p.shape for p in self.params]
        self.shape_starts = np.zeros(len(local) + 1, dtype=np.intp)
        np.cumsum([len(s) for s in shapes], out=self.shape_starts[1:])
        self.dims = np.array([d for s in shapes for d in s], dtype=np.intp)
        self.param_addresses = np.array([_address(p) for p in self.params], dtype=np.intp)
        self.state = {}       # state name -> flat buffer of offsets[-1] entries
        self._tables = {}     # tuple of state names -> addresses (all columns)

    def views(self, name):
        """The per-parameter views of one state buffer, shaped like the parameters."""
        buf = self.state[name]
        return [buf[a:b].reshape(p.shape) for a, b, p in
                zip(self.offsets[:-1], self.offsets[1:], self.params)]

    def table(self, names, init):
        """The addresses of [params, grads, *state names]; allocates a missing state
        buffer once, filled with init(name)."""
        addresses = self._tables.get(names)
        if addresses is None:
            for name in names:
                if name not in self.state:
                    self.state[name] = np.full(self.offsets[-1], init(name), dtype=self.dtype)
            n = len(self.params)
            addresses = np.zeros((2 + len(names)) * n, dtype=np.intp)
            addresses[:n] = self.param_addresses
            for c, name in enumerate(names):
                base = _address(self.state[name])
                addresses[(2 + c) * n:(3 + c) * n] = (base + self.offsets[:-1]
                                                      * self.dtype.itemsize)
            self._tables[names] = addresses
        return addresses


class Optimizer:
    """Base class of the fastloss optimizers (see `Adam` for the common interface).

    Subclasses define `_check_group` (the group's validated hyperparameters),
    `_state_names` (the state arrays a group's options need), `_state_init` and
    `_update` (one kernel call for one segment).
    """

    _state_kinds = ()   # every state name the subclass may use, in column order

    def __init__(self, params, defaults, *, n_threads=None, nonfinite="propagate"):
        if n_threads is not None:
            resolve_threads(n_threads)
        if nonfinite not in NONFINITE_POLICIES:
            raise ValueError(f"nonfinite must be one of {NONFINITE_POLICIES}, "
                             f"got {nonfinite!r}")
        self.n_threads = n_threads
        self.nonfinite = nonfinite
        self.skipped_steps = 0
        self.defaults = dict(defaults)
        self._check_group(self.defaults, "defaults")
        self.param_groups = []
        all_params = []
        for k, group in enumerate(_param_list(params)):
            full = dict(self.defaults)
            full.update(group)
            self._check_group(full, f"param_groups[{k}]")
            for i, p in enumerate(full["params"]):
                _check_param(f"params[{len(all_params) + i}]", p)
            all_params += full["params"]
            self.param_groups.append(full)
        self._params = all_params
        self._overlaps = _Overlaps(all_params)
        self._segments = []   # per group: list of _Segment (one per dtype present)
        self._steps = []      # per group: steps taken
        self._started = []    # per group: state names written at least once
        first = 0
        for group in self.param_groups:
            ps = group["params"]
            segs = [_Segment(ps, [i for i, p in enumerate(ps) if p.dtype == dt], first)
                    for dt in (np.float32, np.float64) if any(p.dtype == dt for p in ps)]
            self._segments.append(segs)
            self._steps.append(0)
            self._started.append(set())
            first += len(ps)

    # ---- subclass interface ----------------------------------------------------------
    def _check_group(self, group, where):
        raise NotImplementedError

    def _state_names(self, options):
        raise NotImplementedError

    def _state_init(self, options, name):
        return 0.0

    def _update(self, seg, addresses, options, step, started, n_threads):
        raise NotImplementedError

    # ---- stepping --------------------------------------------------------------------
    def _grad_lists(self, grads):
        """Per group: (the list holding its gradients, True when indices are flat)."""
        if isinstance(grads, np.ndarray):
            raise TypeError(f"grads must be a list of arrays, got a single ndarray of "
                            f"shape {grads.shape}")
        if type(grads) is not list:
            try:
                grads = list(grads)
            except TypeError:
                raise TypeError(f"grads must be a list of arrays, got "
                                f"{type(grads).__name__}") from None
        n_groups = len(self.param_groups)
        if (len(grads) == n_groups and grads
                and all(isinstance(g, (list, tuple)) for g in grads)):
            lists = [g if type(g) is list else list(g) for g in grads]
            for k, (g, group) in enumerate(zip(lists, self.param_groups)):
                if len(g) != len(group["params"]):
                    raise ValueError(f"grads[{k}] must hold one gradient per parameter "
                                     f"of group {k}: {len(group['params'])} params, got "
                                     f"{len(g)} grads")
            return [(g, False) for g in lists]
        if len(grads) != len(self._params):
            raise ValueError(f"grads must hold one gradient per parameter: "
                             f"{len(self._params)} params, got {len(grads)} grads")
        return [(grads, True)] * n_groups

    def _grad_error(self, grads, base):
        """on_error for the Cython check: raises the detailed error for grads[pos]."""
        def raise_for(pos):
            p = self._params[base + pos] if base is not None else self._params[pos]
            where = f"grads[{pos}]"
            if pos >= len(grads):
                raise ValueError(f"{where} is missing")
            check_grad(where, grads[pos], p, writeable=False)  # read only: no write check
            raise TypeError(f"{where} must be a native-byte-order {p.dtype} array")
        return raise_for

    def step(self, grads):
        """Update every parameter in place from its gradient; returns None.

        `grads` holds one array per parameter, in order, flattened across groups, or
        one list per group. Each has its parameter's shape and dtype, is C-contiguous,
        and shares no memory with a parameter. Nothing is updated when any gradient
        is rejected.
        """
        nt = resolve_threads(self.n_threads)
        lists = self._grad_lists(grads)
        plans = []
        for k, group in enumerate(self.param_groups):
            options = self._check_group(group, f"param_groups[{k}]")
            names = self._state_names(options)
            glist, flat = lists[k]
            base = sum(len(g["params"]) for g in self.param_groups[:k])
            for seg in self._segments[k]:
                addresses = seg.table(names, lambda name: self._state_init(options, name))
                n = len(seg.params)
                changed = _kernels.fill_grad_column(
                    glist, seg.flat if flat else seg.local, seg.shape_starts, seg.dims,
                    seg.is_double, addresses, n,
                    self._grad_error(glist, None if flat else base))
                if changed:
                    try:
                        self._overlaps.check(addresses[n:2 * n], seg.nbytes,
                                             seg.flat if flat else seg.local)
                    except ValueError:
                        addresses[n:2 * n] = 0  # the same list again must be re-checked
                        raise
                plans.append((k, seg, addresses, options, names))
        if self.nonfinite == "skip" and not all(
                _kernels.grads_finite(seg.is_double, seg.offsets,
                                      addresses[len(seg.params):2 * len(seg.params)], nt)
                for _, seg, addresses, _, _ in plans):
            self.skipped_steps += 1
            warnings.warn("a gradient holds inf or NaN: step skipped (parameters and "
                          "state unchanged)", RuntimeWarning, stacklevel=2)
            return
        for k in range(len(self.param_groups)):
            self._steps[k] += 1
        for k, seg, addresses, options, names in plans:
            self._update(seg, addresses, options, self._steps[k], self._started[k], nt)
        for k, _, _, _, names in plans:
            self._started[k].update(names)

    # ---- checkpoints -----------------------------------------------------------------
    def state_dict(self):
        """A snapshot (copies) of the state and hyperparameters, as torch.optim's:
        ``{"optimizer": class name, "state": {index: {"step": float, name: array}},
        "param_groups": [{hyperparameters..., "params": [indices]}]}``. Parameters
        without state (before the first step) have no entry."""
        state, groups, first = {}, [], 0
        for k, group in enumerate(self.param_groups):
            n = len(group["params"])
            groups.append({key: (tuple(v) if isinstance(v, list) else v)
                           for key, v in group.items() if key != "params"})
            groups[-1]["params"] = list(range(first, first + n))
            if self._steps[k] or self._started[k]:
                for seg in self._segments[k]:
                    views = {name: seg.views(name) for name in sorted(self._started[k])}
                    for j, i in enumerate(seg.flat):
                        entry = {"step": float(self._steps[k])}
                        entry.update({name: v[j].copy() for name, v in views.items()})
                        state[int(i)] = entry
            first += n
        return {"optimizer": type(self).__name__, "state": state, "param_groups": groups}

    def _validated(self, sd):
        """Everything load_state_dict will write, checked: per group (options dict,
        steps, {state name: flat buffer per segment})."""
        if not isinstance(sd, dict) or "state" not in sd or "param_groups" not in sd:
            raise ValueError("state dict must have 'state' and 'param_groups' entries")
        kind = sd.get("optimizer", type(self).__name__)
        if kind != type(self).__name__:
            raise ValueError(f"state dict is from a {kind} optimizer, not "
                             f"{type(self).__name__}")
        groups, state = sd["param_groups"], sd["state"]
        if len(groups) != len(self.param_groups):
            raise ValueError(f"state dict has {len(groups)} param groups, this optimizer "
                             f"has {len(self.param_groups)}")
        plans, first = [], 0
        for k, (saved, mine) in enumerate(zip(groups, self.param_groups)):
            missing = set(self.defaults) - set(saved)
            if missing:
                raise ValueError(f"param group {k} of the state dict lacks "
                                 f"{sorted(missing)}: it is from a different optimizer")
            n = len(mine["params"])
            if list(saved.get("params", ())) != list(range(first, first + n)):
                raise ValueError(f"param group {k} of the state dict does not hold "
                                 f"parameters {first}..{first + n - 1}")
            options = dict(saved)
            options["params"] = mine["params"]
            if "betas" in options:
                options["betas"] = tuple(options["betas"])
            self._check_group(options, f"param_groups[{k}] of the state dict")
            entries = [state.get(i, state.get(str(i))) for i in range(first, first + n)]
            have = [e is not None for e in entries]
            if any(have) and not all(have):
                raise ValueError(f"state dict has state for only some parameters of "
                                 f"group {k}")
            steps, buffers = 0, {}
            if all(have):
                steps, buffers = self._validated_state(k, entries, first)
            plans.append((options, steps, buffers))
            first += n
        return plans

    def _validated_state(self, k, entries, first):
        names = set(entries[0]) - {"step"}
        unknown = names - set(self._state_kinds)
        if unknown:
            raise ValueError(f"state of params[{first}] holds {sorted(unknown)}, which "
                             f"{type(self).__name__} does not have: a different "
                             f"optimizer's state")
        step = entries[0].get("step")
        buffers = {}
        for j, e in enumerate(entries):
            i = first + j
            if set(e) - {"step"} != names or e.get("step") != step:
                raise ValueError(f"state of params[{i}] differs in its entries or step "
                                 f"count from params[{first}]")
        if (isinstance(step, (bool, np.bool_)) or not isinstance(step, numbers.Real)
                or not float(step).is_integer() or step < 0):
            raise ValueError(f"state 'step' must be a whole number >= 0, got {step!r}")
        for seg in self._segments[k]:
            for name in names:
                flat = np.empty(seg.offsets[-1], dtype=seg.dtype)
                for j, (i, p) in enumerate(zip(seg.flat, seg.params)):
                    a = entries[int(i) - first][name]
                    if (not isinstance(a, np.ndarray) or a.shape != p.shape
                            or a.dtype != p.dtype):
                        got = (f"{a.dtype} {a.shape}" if isinstance(a, np.ndarray)
                               else type(a).__name__)
                        raise ValueError(f"state {name!r} of params[{int(i)}] must be a "
                                         f"{p.dtype} array of shape {p.shape}, got {got}")
                    flat[seg.offsets[j]:seg.offsets[j + 1]] = a.ravel()
                buffers[(id(seg), name)] = flat
        return int(step), buffers

    def load_state_dict(self, state_dict):
        """Load a `state_dict` (hyperparameters and state). Everything is checked
        first: a dict from another optimizer, with other shapes or incomplete, raises
        ValueError and leaves this optimizer unchanged."""
        plans = self._validated(state_dict)
        self._apply(plans)

    def _apply(self, plans):
        for k, (options, steps, buffers) in enumerate(plans):
            group = self.param_groups[k]
            group.update({key: v for key, v in options.items() if key != "params"})
            checked = self._check_group(group, f"param_groups[{k}]")
            self._steps[k] = steps
            self._started[k] = {name for _, name in buffers}
            for seg in self._segments[k]:
                for name in self._state_kinds:
                    saved = buffers.get((id(seg), name))
                    if saved is not None and name not in seg.state:
                        seg.state[name] = np.empty(seg.offsets[-1], dtype=seg.dtype)
                        seg._tables.clear()
                    if saved is not None:
                        np.copyto(seg.state[name], saved)
                    elif name in seg.state:  # not in the checkpoint: as never stepped
                        seg.state[name].fill(self._state_init(checked, name))

    def save(self, path, *, params=True):
        """Write the state dict (and, by default, the parameters' values) to an .npz
        file at `path` (no suffix is added). `load` restores both."""
        sd = self.state_dict()
        arrays = {}
        for i, entry in sd["state"].items():
            for name, a in entry.items():
                if name != "step":
                    arrays[f"state/{i}/{name}"] = a
        if params:
            arrays.update({f"param/{i}": p for i, p in enumerate(self._params)})
        meta = {"format": CHECKPOINT_FORMAT, "optimizer": sd["optimizer"],
                "param_groups": sd["param_groups"],
                "steps": {str(i): e["step"] for i, e in sd["state"].items()},
                "params": bool(params), "n_params": len(self._params)}
        with open(path, "wb") as f:
            np.savez(f, meta=np.array(json.dumps(meta, default=_json_scalar)), **arrays)

    def load(self, path, *, restore_params=True):
        """Load a file written by `save`: the state, the hyperparameters and (when the
        file has them and restore_params) the parameters' values, in place. A
        truncated file or one from another optimizer or other parameter shapes
        raises ValueError and leaves the optimizer and the parameters unchanged."""
        meta, arrays = read_checkpoint(path)
        plans = self._validated(_state_dict_from(meta, arrays))
        if len(self._params) != meta["n_params"]:
            raise ValueError(f"{path}: checkpoint of {meta['n_params']} parameters, this "
                             f"optimizer has {len(self._params)}")
        values = []
        if restore_params and meta["params"]:
            for i, p in enumerate(self._params):
                a = arrays[f"param/{i}"]
                if a.shape != p.shape or a.dtype != p.dtype:
                    raise ValueError(f"{path}: params[{i}] is {a.dtype} {a.shape} in the "
                                     f"checkpoint, {p.dtype} {p.shape} here")
                values.append((p, a))
        self._apply(plans)
        for p, a in values:
            np.copyto(p, a)


def _json_scalar(x):
    if isinstance(x, np.generic):
        return x.item()
    raise TypeError(f"cannot save {x!r} (a {type(x).__name__}) in a checkpoint: param "
                    f"group entries must be numbers, strings, bools or lists of them")


def read_checkpoint(path):
    """(meta dict, {name: array}) of a file written by Optimizer.save, fully read."""
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {name: f[name] for name in f.files}
        meta = json.loads(str(arrays.pop("meta")))
    except (OSError, ValueError, KeyError, EOFError) as e:
        raise ValueError(f"{path}: not a readable fastloss optimizer checkpoint "
                         f"({type(e).__name__}: {e})") from e
    except Exception as e:  # zipfile.BadZipFile and relatives of a damaged archive
        raise ValueError(f"{path}: not a readable fastloss optimizer checkpoint "
                         f"({type(e).__name__}: {e})") from e
    if not isinstance(meta, dict) or meta.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: not a fastloss optimizer checkpoint")
    return meta, arrays


def _state_dict_from(meta, arrays):
    state = {}
    for i, step in meta["steps"].items():
        prefix = f"state/{i}/"
        entry = {name[len(prefix):]: a for name, a in arrays.items()
                 if name.startswith(prefix)}
        entry["step"] = step
        state[int(i)] = entry
    return {"optimizer": meta["optimizer"], "state": state,
            "param_groups": meta["param_groups"]}
