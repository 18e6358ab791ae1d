"""The score of a `make mutate` run, per module and in all, and its surviving mutants.

Reads what `mutmut results --all true` prints. A surviving mutant must be killed by a
test or explained in docs/testing.md (by its name there); one that is neither is
printed with its diff, and makes the exit status 1, as does a score under --minimum.
Mutants not checked yet (a run over some modules only) are not counted.

    python -m tests.mutation_score [--minimum 90] [--docs docs/testing.md] [MODULE ...]

MODULE is a dotted name under kisalert (`throttle`, `wids.dot11`): only those count.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

# "timeout" and "segfault": the tests did not pass with the mutant in place.
KILLED = {"killed", "timeout", "segfault"}
NOT_COUNTED = {"not checked", "skipped", "check was interrupted by user"}
_LINE = re.compile(r"^\s+(?P<name>kisalert\.\S+__mutmut_\d+): (?P<status>.+)$")
# A mutant's module is the part of its name before the mangled function (x_ or xǁ).
_MODULE = re.compile(r"^(?P<module>.+?)\.x(?:ǁ|_)")
_NAME_IN_DOCS = re.compile(r"kisalert\.[\w.ǁ]+__mutmut_\d+")
SHOWN = 30


def mutmut(*args: str) -> str:
    mutmut_bin = Path(sys.executable).with_name("mutmut")
    return subprocess.run(
        [str(mutmut_bin), *args], check=True, capture_output=True, text=True
    ).stdout


def module_of(name: str) -> str:
    found = _MODULE.match(name)
    return found["module"] if found else name


def selected(module: str, wanted: list[str]) -> bool:
    return not wanted or any(
        module == f"kisalert.{w}" or module.startswith(f"kisalert.{w}.") for w in wanted
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minimum", type=float, default=90.0, help="percent killed, in all")
    parser.add_argument("--docs", type=Path, default=Path("docs/testing.md"))
    parser.add_argument("modules", nargs="*")
    args = parser.parse_args(argv)

    counts: dict[str, Counter[str]] = defaultdict(Counter)
    survivors: list[str] = []
    for line in mutmut("results", "--all", "true").splitlines():
        found = _LINE.match(line)
        if not found or found["status"] in NOT_COUNTED:
            continue
        name, status = found["name"], found["status"]
        module = module_of(name)
        if not selected(module, args.modules):
            continue
        dead = status in KILLED
        counts[module]["killed" if dead else "alive"] += 1
        if not dead:
            survivors.append(name)
    if not counts:
        print("no mutant checked yet: run `make mutate` first")
        return 1

    print(f"{'module':44} {'killed':>7} {'total':>6} {'score':>7}")
    for module in sorted(counts):
        killed, total = counts[module]["killed"], counts[module].total()
        print(f"{module:44} {killed:7} {total:6} {100 * killed / total:6.1f}%")
    killed = sum(c["killed"] for c in counts.values())
    total = sum(c.total() for c in counts.values())
    score = 100 * killed / total
    print(f"{'in all':44} {killed:7} {total:6} {score:6.1f}%")

    explained = set(_NAME_IN_DOCS.findall(args.docs.read_text())) if args.docs.exists() else set()
    unexplained = [name for name in survivors if name not in explained]
    print(f"\nsurviving mutants: {len(survivors)} ({len(unexplained)} not in {args.docs})")
    for name in survivors:
        if name in explained:
            print(f"  {name}  (explained)")
    # Each diff costs a mutmut start (about a second): the first ones show the way.
    for name in unexplained[:SHOWN]:
        print(mutmut("show", name))
    for name in unexplained[SHOWN:]:
        print(f"  {name}  (mutmut show {name})")

    if score < args.minimum:
        print(f"score {score:.1f}% is under the minimum of {args.minimum:g}%")
        return 1
    if unexplained:
        print(f"kill each mutant above with a test, or explain it in {args.docs}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
