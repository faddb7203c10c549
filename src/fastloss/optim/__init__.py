"""Optimizers over lists of NumPy arrays: one C call per step for all arrays.

`SGD`, `Adagrad`, `RMSprop`, `Adam` and `AdamW` follow torch.optim (names, defaults,
update rules, ``param_groups``, ``state_dict``), on float32/float64 arrays updated in
place. A step walks every parameter array of a group as one concatenated range,
balanced across threads however the elements are split among arrays, without a
Python loop over the arrays and without allocating. `clip_grad_norm_` and
`clip_grad_value_` clip gradient lists the same way. Checkpoints go to .npz files
with ``opt.save(path)`` and come back with ``opt.load(path)`` or `load`.
"""
from . import lr_scheduler
from ._clip import clip_grad_norm_, clip_grad_value_
from ._optimizer import Optimizer, read_checkpoint
from ._rules import SGD, Adagrad, Adam, AdamW, RMSprop

__all__ = ["lr_scheduler", "Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW",
           "clip_grad_norm_", "clip_grad_value_", "load"]

_CLASSES = {cls.__name__: cls for cls in (SGD, Adagrad, RMSprop, Adam, AdamW)}


def load(path, params=None, *, n_threads=None, nonfinite="propagate"):
    """A new optimizer from a file written by ``Optimizer.save``.

    Parameters
    ----------
    path : str or path-like
        The .npz checkpoint.
    params : list of arrays, optional
        The parameters to optimize, in the saved order (groups as saved); their
        values are overwritten with the saved ones when the file holds them. Default:
        new arrays holding the saved values (the file must hold them).
    n_threads, nonfinite
        As for the optimizer classes.

    Returns
    -------
    Optimizer
        Of the saved class, with the saved hyperparameters and state; the arrays are
        in its ``param_groups``.

    Raises
    ------
    ValueError
        A truncated or foreign file, or params that do not match it.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import fastloss
    >>> w = np.ones(3)
    >>> opt = fastloss.optim.Adam([w], lr=0.1)
    >>> opt.step([np.ones(3)])
    >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.npz")
    >>> opt.save(path)
    >>> again = fastloss.optim.load(path)
    >>> type(again).__name__, again.param_groups[0]["params"][0].round(6)
    ('Adam', array([0.9, 0.9, 0.9]))
    """
    meta, arrays = read_checkpoint(path)
    cls = _CLASSES.get(meta.get("optimizer"))
    if cls is None:
        raise ValueError(f"{path}: checkpoint of an unknown optimizer "
                         f"{meta.get('optimizer')!r}")
    if params is None:
        if not meta["params"]:
            raise ValueError(f"{path}: the checkpoint holds no parameters: pass params")
        params = [arrays[f"param/{i}"].copy() for i in range(meta["n_params"])]
    params = list(params)
    if len(params) != meta["n_params"]:
        raise ValueError(f"{path}: checkpoint of {meta['n_params']} parameters, got "
                         f"{len(params)} params")
    groups = [{"params": params[g["params"][0]:g["params"][-1] + 1] if g["params"] else []}
              for g in meta["param_groups"]]
    opt = cls(groups, n_threads=n_threads, nonfinite=nonfinite)
    opt.load(path)
    return opt
