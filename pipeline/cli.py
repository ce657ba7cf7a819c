"""The `odezoo` command line."""

import argparse
import os
import sys

os.environ.setdefault("TF_USE_LEGACY_KERAS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def build_parser():
    from zoo.version import __version__

    parser = argparse.ArgumentParser(prog="odezoo", description="Neural ODEs for TensorFlow and Keras 3.")
    parser.add_argument("--version", action="version", version=f"odezoo {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("doctor", help="print the versions odezoo runs on and check that they load together")
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "doctor":
        from pipeline import doctor

        return doctor.main()
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
