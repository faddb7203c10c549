"""``fastloss demo``: nine ways of descending the same loss, side by side.

An MLP 2-64-64-3 learns the three-arm spirals from the same initial weights with batch
gradient descent, stochastic and mini-batch SGD, momentum, Nesterov, AdaGrad, RMSprop,
Adam and AdamW. The demo prints a table (final loss, accuracy, steps, wall time) and,
when matplotlib is installed, writes the loss curves and each optimizer's decision
boundary as PNGs into an output folder.
"""
import argparse
import os
import sys
import time
from typing import NamedTuple, Optional

import numpy as np

from . import CrossEntropyLoss, datasets, landscape, nn, optim, plot
from .optim import lr_scheduler
from .train import fit


class Run(NamedTuple):
    """One optimizer's training: how it is built and how it is fed."""
    name: str
    label: str
    make: object                # (params, epochs, steps_per_epoch) -> (optimizer, scheduler)
    batch_size: Optional[int]   # None: the whole training set (batch gradient descent)
    epochs: int


def _annealed(opt, epochs):
    """The optimizer with a cosine decay of its learning rate to 0 over the run."""
    return opt, lr_scheduler.CosineAnnealingLR(opt, T_max=epochs, eta_min=0.0)


def _constant(opt, epochs):
    return opt, None


# Learning rates tuned once for this problem; the SGD family anneals on a cosine, the
# adaptive methods keep theirs.
RUNS = (
    Run("batch_gd", "batch GD", lambda p, e: _annealed(optim.SGD(p, lr=0.5), e), None, 600),
    Run("sgd", "SGD (batch 1)", lambda p, e: _annealed(optim.SGD(p, lr=0.05), e), 1, 15),
    Run("minibatch_sgd", "mini-batch SGD", lambda p, e: _annealed(optim.SGD(p, lr=0.2), e),
        32, 120),
    Run("momentum", "momentum",
        lambda p, e: _annealed(optim.SGD(p, lr=0.05, momentum=0.9), e), 32, 120),
    Run("nesterov", "Nesterov",
        lambda p, e: _annealed(optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True), e),
        32, 120),
    Run("adagrad", "AdaGrad", lambda p, e: _constant(optim.Adagrad(p, lr=0.1), e), 32, 120),
    Run("rmsprop", "RMSprop", lambda p, e: _constant(optim.RMSprop(p, lr=2e-3), e), 32, 120),
    Run("adam", "Adam", lambda p, e: _constant(optim.Adam(p, lr=5e-3), e), 32, 120),
    Run("adamw", "AdamW",
        lambda p, e: _constant(optim.AdamW(p, lr=5e-3, weight_decay=1e-2), e), 32, 120),
)


class Result(NamedTuple):
    run: Run
    epoch_loss: np.ndarray
    snapshots: np.ndarray       # the parameters along the way (about 40 rows)
    train_loss: float
    train_acc: float
    test_acc: float
    steps: int
    seconds: float
    model: object


def _accuracy(model, X, y):
    return float(np.mean(np.argmax(model.forward(X), axis=1) == y))


def train_all(n_samples=1500, seed=0, scale=1.0, progress=True, out=sys.stdout):
    """Train one model per optimizer from the same initial weights; a Result each.

    `scale` multiplies every run's epoch count (the tests run the demo shortened)."""
    X, y = datasets.make_spirals(n_samples, arms=3, noise=0.05, turns=1.5, seed=seed)
    X_train, X_test, y_train, y_test = datasets.train_test_split(X, y, test_size=0.25,
                                                                 seed=seed)
    loss = CrossEntropyLoss()
    theta0 = nn.MLP([2, 64, 64, 3], activation="relu", seed=seed).get_flat()
    results = []
    for run in RUNS:
        epochs = max(1, int(round(run.epochs * scale)))
        model = nn.MLP([2, 64, 64, 3], activation="relu", seed=seed)
        model.set_flat(theta0)
        opt, scheduler = run.make(model.parameters(), epochs)
        if progress:
            print(f"  training {run.label:<15} {epochs:>4} epochs ...", end="", file=out,
                  flush=True)
        start = time.perf_counter()
        steps = epochs * (1 if run.batch_size is None else -(-len(X_train) // run.batch_size))
        history = fit(model, loss, opt, X_train, y_train, batch_size=run.batch_size,
                      epochs=epochs, scheduler=scheduler, seed=seed, progress=False,
                      snapshot_every=max(1, steps // 40))
        seconds = time.perf_counter() - start
        train_loss = float(loss(model.forward(X_train), y_train))
        result = Result(run, np.asarray(history.epoch_loss), history.snapshots, train_loss,
                        _accuracy(model, X_train, y_train), _accuracy(model, X_test, y_test),
                        history.steps, seconds, model)
        results.append(result)
        if progress:
            print(f" loss {train_loss:.4f}, test accuracy {result.test_acc:.3f}, "
                  f"{seconds:.1f} s", file=out, flush=True)
    return results, (X_train, y_train, X_test, y_test)


# the optimizers whose paths the landscape picture shows (all nine would be a tangle)
LANDSCAPE_RUNS = ("batch_gd", "minibatch_sgd", "momentum", "adam")


def trajectory_plane(results, data, seed=0, grid=41):
    """The loss surface on the plane that holds most of the chosen optimizers' paths
    (the top two principal directions of all their snapshots, centred on the shared
    initial weights): (SurfaceResult, {label: (T, 2) coordinates of its path}, the
    plane's two directions (2, n))."""
    X_train, y_train = data[0], data[1]
    chosen = [r for r in results if r.run.name in LANDSCAPE_RUNS]
    theta0 = chosen[0].snapshots[0]
    # pca_directions centres the plane on the last row: the shared start
    pca = landscape.pca_directions(np.vstack([r.snapshots for r in chosen] + [theta0]))
    paths = {r.run.label: (r.snapshots - theta0) @ pca.directions.T for r in chosen}
    every = np.vstack(list(paths.values()))
    lo, hi = every.min(axis=0), every.max(axis=0)
    pad = 0.15 * (hi - lo)
    model = nn.MLP([2, 64, 64, 3], activation="relu", seed=seed)
    f = landscape.NetworkObjective(model, CrossEntropyLoss(), X_train, y_train)
    surface = landscape.surface(f, theta0, pca.directions[0], pca.directions[1],
                                np.linspace(lo[0] - pad[0], hi[0] + pad[0], grid),
                                np.linspace(lo[1] - pad[1], hi[1] + pad[1], grid),
                                progress=False, description={"data": "demo spirals"})
    return surface, paths, pca.directions


def format_table(results):
    header = ("optimizer", "final loss", "train acc", "test acc", "steps", "seconds")
    rows = [(r.run.label, f"{r.train_loss:.4f}", f"{r.train_acc:.3f}", f"{r.test_acc:.3f}",
             str(r.steps), f"{r.seconds:.2f}") for r in results]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]

    def line(cells):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def write_pictures(results, data, out_dir):
    """loss_curves.png, boundaries.png (all optimizers), landscape.png (the loss on the
    plane of four optimizers' paths) and boundary_<name>.png each. Returns the paths."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    os.makedirs(out_dir, exist_ok=True)
    X_train, y_train, X_test, y_test = data
    paths = []

    fig, ax = plt.subplots(figsize=(9, 4.5))
    for r in results:
        epochs = np.arange(1, len(r.epoch_loss) + 1) / len(r.epoch_loss)
        ax.plot(epochs, r.epoch_loss, label=f"{r.run.label} ({len(r.epoch_loss)} epochs)")
    ax.set_yscale("log")
    ax.set_xlabel("fraction of training")
    ax.set_ylabel("mean training loss per epoch (cross-entropy)")
    ax.set_title("Spirals, MLP 2-64-64-3: one loss, nine descents")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    paths.append(os.path.join(out_dir, "loss_curves.png"))
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)

    lo, hi = X_train.min(axis=0) - 0.3, X_train.max(axis=0) + 0.3
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
    grid = np.column_stack([gx.ravel(), gy.ravel()])

    # class k: a light region colour and a saturated point colour of the same hue
    regions = ListedColormap(plt.get_cmap("Pastel1").colors[:3])
    points = ListedColormap(plt.get_cmap("Set1").colors[:3])

    def draw(ax, r):
        zone = np.argmax(r.model.forward(grid), axis=1).reshape(gx.shape)
        ax.contourf(gx, gy, zone, levels=[-0.5, 0.5, 1.5, 2.5], cmap=regions)
        ax.scatter(X_test[:, 0], X_test[:, 1], c=y_test, cmap=points, s=6, vmin=0, vmax=2)
        ax.set_title(f"{r.run.label}: test acc {r.test_acc:.2f}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])

    fig, axes = plt.subplots(3, 3, figsize=(9, 9))
    for ax, r in zip(axes.ravel(), results):
        draw(ax, r)
    fig.suptitle("Decision boundaries after training (test points)")
    fig.tight_layout()
    paths.append(os.path.join(out_dir, "boundaries.png"))
    fig.savefig(paths[-1], dpi=100)
    plt.close(fig)
    surface, paths_on_plane, _ = trajectory_plane(results, data)
    fig = plot.contour(surface, trajectory=paths_on_plane)
    ax = fig.axes[0]
    ax.set_title("Training loss on the plane of four optimizers' paths\n(all start at "
                 "0, 0: the shared initial weights)", fontsize=9)
    ax.set_xlabel("first principal direction of the paths")
    ax.set_ylabel("second principal direction")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.3, 1.0))
    fig.set_size_inches(9, 5)
    paths.append(os.path.join(out_dir, "landscape.png"))
    fig.savefig(paths[-1], dpi=110, bbox_inches="tight")
    plt.close(fig)

    for r in results:
        fig, ax = plt.subplots(figsize=(4, 4))
        draw(ax, r)
        fig.tight_layout()
        paths.append(os.path.join(out_dir, f"boundary_{r.run.name}.png"))
        fig.savefig(paths[-1], dpi=100)
        plt.close(fig)
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(prog="fastloss demo", description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="fastloss-demo",
                        help="folder for the PNGs (default: ./fastloss-demo)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true",
                        help="a tenth of the epochs: a rough picture in seconds")
    args = parser.parse_args(argv)

    print("fastloss demo: an MLP 2-64-64-3 on the three-arm spirals, nine optimizers, "
          "same initial weights")
    start = time.perf_counter()
    results, data = train_all(seed=args.seed, scale=0.1 if args.quick else 1.0)
    print()
    print(format_table(results))
    print(f"\n{time.perf_counter() - start:.1f} s in all")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("\nmatplotlib is not installed, so no pictures were drawn: "
              "pip install 'fastloss[plot]' (or matplotlib) and run the demo again.")
        return 0
    paths = write_pictures(results, data, args.out)
    print(f"\npictures in {os.path.abspath(args.out)}: "
          + ", ".join(os.path.basename(p) for p in paths[:3]) + f" and {len(paths) - 3} more")
    return 0


if __name__ == "__main__":
    sys.exit(main())
