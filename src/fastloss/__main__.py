"""Command line: ``fastloss demo`` (the main job), ``fastloss landscape``, ``fastloss
bench --quick`` and ``fastloss info``; ``python -m fastloss ...`` does the same."""
import argparse
import sys


def _info(args):
    from . import build_info
    info = build_info()
    width = max(map(len, info))
    for key, value in info.items():
        print(f"{key:<{width}}  {value}")
    return 0


def _bench(args):
    from ._quickbench import run
    return run(quick=args.quick, threads=args.threads)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["demo"]:  # the demo and the landscape parse their own options
        from .demo import main as demo_main
        return demo_main(argv[1:])
    if argv[:1] == ["landscape"]:
        from ._landscape_cli import main as landscape_main
        return landscape_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="fastloss", description="fastloss: fast, exact losses for NumPy.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_info = sub.add_parser("info", help="version, OpenMP, compiler, SIMD paths, threads")
    p_info.set_defaults(func=_info)
    p_bench = sub.add_parser(
        "bench", help="time the kernels against NumPy (and PyTorch when installed)")
    p_bench.add_argument("--quick", action="store_true",
                         help="small sizes and few repeats: a table in seconds")
    p_bench.add_argument("--threads", type=int, nargs="+", default=None, metavar="N",
                         help="thread counts to measure (default: 1 and all cores)")
    p_bench.set_defaults(func=_bench)
    sub.add_parser("demo", help="nine optimizers train an MLP on spirals: a table and "
                                "pictures (fastloss demo --help)")
    sub.add_parser("landscape", help="train a network and map its loss landscape: "
                                     ".npz files and pictures (fastloss landscape --help)")
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
