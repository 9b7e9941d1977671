"""A long fuzzing campaign: many random programs, counted by outcome.

    python -m tests.fuzz.campaign --programs 10000 --seed 0
    python -m tests.fuzz.campaign --programs 1000 --second-order    # Hessian-vector products too

Prints the counts of each outcome (see check.py) and exits non-zero if any
gradient was wrong or srcgrad failed with anything but a SrcgradError (both are
bugs), printing each such program with its seed as soon as it is found.
"""

import argparse
import collections
import os
import sys
import tempfile
import time
import traceback

from .check import WrongGradient, check
from .programs import RandomChoices, generate


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start", type=int, default=0,
                        help="index of the first program (to resume or reproduce)")
    parser.add_argument("--second-order", action="store_true",
                        help="also check forward mode over each gradient (a Hessian-vector "
                             "product)")
    options = parser.parse_args(argv)
    folder = tempfile.mkdtemp(prefix="srcgrad-fuzz-")
    os.environ.setdefault("SRCGRAD_CACHE_DIR", os.path.join(folder, "cache"))
    counts = collections.Counter()
    wrong = []
    start = time.perf_counter()
    for k in range(options.start, options.start + options.programs):
        seed = options.seed * 1_000_003 + k
        source = generate(RandomChoices(seed))
        try:
            outcome = check(source, folder, seed=seed, second_order=options.second_order)
        except WrongGradient as err:
            outcome = "WRONG GRADIENT"
            wrong.append(f"program {k}: {err}")
            print(wrong[-1], file=sys.stderr, flush=True)
        except Exception:
            outcome = "CRASH"
            wrong.append(f"program {k}, seed {seed}, crashed:\n{traceback.format_exc()}"
                         f"program:\n{source}")
            print(wrong[-1], file=sys.stderr, flush=True)
        counts[outcome.split(":")[0]] += 1
        counts[outcome] += 0 if ":" not in outcome else 1
        if (k + 1 - options.start) % 1000 == 0:
            print(f"{k + 1} programs, {time.perf_counter() - start:.0f}s: {dict(counts)}",
                  flush=True)
    print(f"\n{options.programs} programs in {time.perf_counter() - start:.0f}s")
    for outcome, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        print(f"{n:7d}  {outcome}")
    for text in wrong[:5]:
        print("\n" + text)
    if len(wrong) > 5:
        print(f"\n... and {len(wrong) - 5} more")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
