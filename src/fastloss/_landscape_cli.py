"""``fastloss landscape``: train a small network (or load one), then map its loss
landscape: the 1-D path from the initial to the final weights, a filter-normalized
random plane, the PCA plane of the training trajectory, and the top Hessian
eigenvalues. Writes ``.npz`` files and PNGs into an output folder and lists them.
"""
import argparse
import os
import sys
import time

import numpy as np

from . import CrossEntropyLoss, datasets, landscape, nn, optim
from .train import fit

OPTIMIZERS = {
    "sgd": lambda p, lr: optim.SGD(p, lr=lr or 0.1),
    "momentum": lambda p, lr: optim.SGD(p, lr=lr or 0.05, momentum=0.9),
    "nesterov": lambda p, lr: optim.SGD(p, lr=lr or 0.05, momentum=0.9, nesterov=True),
    "adagrad": lambda p, lr: optim.Adagrad(p, lr=lr or 0.1),
    "rmsprop": lambda p, lr: optim.RMSprop(p, lr=lr or 2e-3),
    "adam": lambda p, lr: optim.Adam(p, lr=lr or 5e-3),
    "adamw": lambda p, lr: optim.AdamW(p, lr=lr or 5e-3, weight_decay=1e-2),
}
DATASETS = ("spirals", "moons", "blobs", "iris")


def _sizes(text):
    try:
        sizes = [int(s) for s in text.split("-")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--model must be layer sizes joined by '-', such as 2-32-32-3, got {text!r}")
    if len(sizes) < 2 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"--model needs at least an input and an output size, all >= 1, got {text!r}")
    return sizes


def _grid(text):
    """'51' or '41x61' -> (n_alphas, n_betas)."""
    try:
        parts = [int(s) for s in text.lower().split("x")]
    except ValueError:
        parts = []
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2 or min(parts) < 2:
        raise argparse.ArgumentTypeError(
            f"--grid must be N or NxM with N, M >= 2, such as 51 or 41x61, got {text!r}")
    return tuple(parts)


def parser():
    p = argparse.ArgumentParser(
        prog="fastloss landscape",
        description="Train a small network (or load one), then map its loss landscape: the "
                    "1-D path from the initial to the final weights, a filter-normalized "
                    "random plane, the PCA plane of the training trajectory with the path "
                    "drawn on it, and the top Hessian eigenvalues. Writes .npz files and "
                    "PNGs into --out and lists them.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--dataset", choices=DATASETS, default="spirals",
                   help="built-in data to train on (spirals get one arm per output class)")
    p.add_argument("--data", metavar="FILE",
                   help="your own data instead: a .npz with arrays X and y, or a CSV whose "
                        "last column is the class label")
    p.add_argument("--model", type=_sizes, default=[2, 32, 32, 3], metavar="SIZES",
                   help="MLP layer sizes: input-hidden...-classes, such as 2-32-32-3")
    p.add_argument("--activation", default="relu",
                   choices=("relu", "tanh", "sigmoid", "leaky_relu", "gelu"),
                   help="activation between the layers")
    p.add_argument("--load", metavar="MODEL.npz",
                   help="skip training: load weights saved by an earlier run (model.npz); "
                        "the trajectory plane then needs the saved trajectory too")
    p.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="adam",
                   help="how to train (momentum and nesterov are SGD with momentum 0.9)")
    p.add_argument("--lr", type=float, default=None,
                   help="learning rate; None picks one that works for the optimizer")
    p.add_argument("--epochs", type=int, default=60, help="training epochs")
    p.add_argument("--batch-size", type=int, default=32, help="mini-batch size")
    p.add_argument("--samples", type=int, default=900, help="size of generated datasets")
    p.add_argument("--grid", type=_grid, default=(51, 51), metavar="N|NxM",
                   help="grid points along the two directions of each plane")
    p.add_argument("--span", type=float, default=1.0,
                   help="the random plane covers [-span, span] along each direction")
    p.add_argument("--eigs", type=int, default=3, help="top Hessian eigenvalues to compute")
    p.add_argument("--seed", type=int, default=0,
                   help="seeds the data, the initial weights, the batches and the directions")
    p.add_argument("--threads", type=int, default=None,
                   help="threads for the kernels; None: fastloss.get_num_threads()")
    p.add_argument("--out", default="fastloss-landscape", help="output folder")
    p.add_argument("--no-plots", action="store_true", help="write the .npz files only")
    return p


def _data(args):
    n_classes = args.model[-1]
    if args.data:
        loader = datasets.load_npz if args.data.endswith(".npz") else datasets.load_csv
        X, y = loader(args.data)
        description = f"{os.path.basename(args.data)}: {len(X)} samples"
    elif args.dataset == "spirals":
        X, y = datasets.make_spirals(args.samples, arms=n_classes, noise=0.05, turns=1.5,
                                     seed=args.seed)
        description = f"spirals, {n_classes} arms, {args.samples} samples, seed {args.seed}"
    elif args.dataset == "moons":
        X, y = datasets.make_moons(args.samples, noise=0.1, seed=args.seed)
        description = f"two moons, {args.samples} samples, seed {args.seed}"
    elif args.dataset == "blobs":
        X, y = datasets.make_blobs(args.samples, centers=n_classes, seed=args.seed,
                                   n_features=args.model[0])
        description = f"Gaussian blobs, {n_classes} centers, {args.samples} samples"
    else:
        X, y = datasets.load_dataset("iris")
        description = "Fisher's Iris, 150 samples"
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != args.model[0]:
        raise SystemExit(f"fastloss landscape: --model starts with {args.model[0]} inputs but "
                         f"the data has {X.shape[1] if X.ndim == 2 else X.shape} features")
    if y.min() < 0 or y.max() >= n_classes:
        raise SystemExit(f"fastloss landscape: the labels run from {y.min()} to {y.max()}, "
                         f"but --model ends with {n_classes} classes")
    return X, y, description


def _say(text):
    print(text, flush=True)


def run(args):
    import fastloss
    if args.threads is not None:
        fastloss.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    written = []
    X, y, description = _data(args)
    loss = CrossEntropyLoss()
    model = nn.MLP(args.model, activation=args.activation, seed=args.seed)
    trajectory = None
    if args.load:
        saved = np.load(args.load)
        model.set_flat(saved["theta"])
        theta0 = saved["theta0"] if "theta0" in saved else None
        trajectory = saved["trajectory"] if "trajectory" in saved else None
        _say(f"loaded weights from {args.load}")
    else:
        theta0 = model.get_flat()
        opt = OPTIMIZERS[args.optimizer](model.parameters(), args.lr)
        steps_per_epoch = -(-len(X) // args.batch_size)
        _say(f"training {'-'.join(map(str, args.model))} with {args.optimizer} for "
             f"{args.epochs} epochs on {description} ...")
        history = fit(model, loss, opt, X, y, batch_size=args.batch_size, epochs=args.epochs,
                      seed=args.seed, snapshot_every=max(1, steps_per_epoch // 2))
        trajectory = history.snapshots
        _say(f"  final training loss {history.epoch_loss[-1]:.4f}")
        path = os.path.join(args.out, "model.npz")
        np.savez(path, theta=model.get_flat(), theta0=theta0, trajectory=trajectory,
                 sizes=np.array(args.model), activation=args.activation)
        written.append(path)
    theta = model.get_flat()
    evaluation = nn.MLP(args.model, activation=args.activation, seed=args.seed)
    f = landscape.NetworkObjective(evaluation, loss, X, y)
    n_a, n_b = args.grid

    results = {}
    start = time.perf_counter()
    if theta0 is not None:
        _say("1-D path from the initial to the final weights ...")
        results["path"] = landscape.interpolate(f, theta0, theta,
                                                np.linspace(-0.5, 1.5, max(n_a, 2)))
    _say(f"filter-normalized random plane, {n_a}x{n_b} points ...")
    d1, d2 = landscape.random_directions(model, k=2, normalization="filter",
                                         ignore_biases=True, seed=args.seed)
    span = args.span
    results["random_plane"] = landscape.surface(
        f, theta, d1, d2, np.linspace(-span, span, n_a), np.linspace(-span, span, n_b))
    pca = None
    if trajectory is not None and len(trajectory) >= 3:
        _say(f"PCA plane of the trajectory ({len(trajectory)} snapshots), "
             f"{n_a}x{n_b} points ...")
        pca = landscape.pca_directions(trajectory)
        lo, hi = pca.coords.min(axis=0), pca.coords.max(axis=0)
        pad = 0.2 * np.maximum(hi - lo, 1e-3)
        results["pca_plane"] = landscape.surface(
            f, theta, pca.directions[0], pca.directions[1],
            np.linspace(lo[0] - pad[0], hi[0] + pad[0], n_a),
            np.linspace(lo[1] - pad[1], hi[1] + pad[1], n_b))
    eigs = None
    if args.eigs > 0:
        _say(f"top {args.eigs} Hessian eigenvalues ...")
        eigs = landscape.hessian_eigs(f.grad, theta, k=args.eigs, seed=args.seed)
        _say("  " + ", ".join(f"{v:.4g}" for v in eigs.values))
    _say(f"  landscape computed in {time.perf_counter() - start:.1f} s")

    for name, result in results.items():
        path = os.path.join(args.out, f"{name}.npz")
        if isinstance(result, landscape.SurfaceResult):
            result.save(path)
        else:  # the 1-D path
            np.savez(path, alphas=result.alphas, values=result.values)
        written.append(path)
    if eigs is not None:
        path = os.path.join(args.out, "hessian_eigs.npz")
        np.savez(path, values=eigs.values, vectors=eigs.vectors)
        written.append(path)

    if not args.no_plots:
        written += _pictures(args.out, results, pca, eigs)
    _say(f"\nwrote {len(written)} files into {os.path.abspath(args.out)}:")
    for path in written:
        _say(f"  {os.path.basename(path)}")
    return 0


def _pictures(out, results, pca, eigs):
    try:
        from . import plot
        import matplotlib  # noqa: F401
    except ImportError:
        _say("matplotlib is not installed: no pictures (pip install 'fastloss[plot]')")
        return []
    paths = []
    if "path" in results:
        paths.append(os.path.join(out, "path.png"))
        plot.curve(results["path"], path=paths[-1])
    paths.append(os.path.join(out, "random_plane_contour.png"))
    plot.contour(results["random_plane"], path=paths[-1])
    paths.append(os.path.join(out, "random_plane_surface.png"))
    plot.surface3d(results["random_plane"], path=paths[-1])
    if "pca_plane" in results:
        paths.append(os.path.join(out, "pca_plane_trajectory.png"))
        plot.trajectory(pca, results["pca_plane"], path=paths[-1])
    if eigs is not None:
        paths.append(os.path.join(out, "hessian_spectrum.png"))
        plot.spectrum(eigs.values, path=paths[-1])
    return paths


def main(argv=None):
    return run(parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
