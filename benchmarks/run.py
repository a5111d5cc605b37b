"""The figures of `pylab bench`, without pytest:

    python benchmarks/run.py [--json] [--quick] [--rounds N]
"""
import argparse
import sys

from pylab.bench import costs as bench
from pylab.cli.parsing import rounds

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=bench.__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (under 10 s)")
    parser.add_argument("--rounds", type=rounds, metavar="N",
                        help="N samples of every figure after its warm-up (default: each figure's own count)")
    sys.exit(bench.main(parser.parse_args()))
