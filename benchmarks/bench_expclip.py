"""Benchmark: ExpCLIP load() and expression() on CPU.

    .venv/bin/python benchmarks/bench_expclip.py [--repeat 50] [--models DIR]

load() is timed in fresh Python processes (import of the package included), so nothing is warm but the
operating system's file cache. Targets, each printed PASS or MISS at the end: load() median at most 3 s,
expression() of a prompt never seen before median at most 20 ms, and the linux-x64 extension zip (when
`python build.py --platform linux-x64` has built it into dist/) no larger than 224 MiB.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

LOAD_TARGET_S = 3.0
EXPRESSION_TARGET_MS = 20.0
# In MiB, as ls -h and du -h print sizes: the "today's 224 MB" is read so (a zip of 234.0 million
# bytes, as built before the work, is 223.2 MiB).
ZIP_TARGET_MIB = 224.0
DIST = Path(__file__).resolve().parents[1] / "dist"

PROMPTS = ["furious", "on the verge of tears", "smug half smile", "slightly annoyed", "awestruck",
           "brows drawn together, lips pressed thin", "just heard the worst news of her life"]  # fmt: skip

LOAD_SNIPPET = """
import sys, time
start = time.perf_counter()
import expclip_blender
model = expclip_blender.load(models_dir=sys.argv[1] or None)
print(time.perf_counter() - start)
"""


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--load-runs", type=int, default=3)
    parser.add_argument("--dist", type=Path, default=DIST, help="where build.py wrote the zips")
    parser.add_argument("--models", default="", help="a folder of custom weights (default: the bundled ones)")
    args = parser.parse_args()

    loads = []
    for _ in range(args.load_runs):
        out = subprocess.run(
            [sys.executable, "-c", LOAD_SNIPPET, args.models], capture_output=True, text=True, check=True
        )
        loads.append(float(out.stdout.strip().splitlines()[-1]))
    print(
        f"import + load() in a fresh process: median {statistics.median(loads):.2f} s, "
        f"best {min(loads):.2f} s over {len(loads)} runs (target <= 3 s)"
    )

    import expclip_blender

    model = expclip_blender.load(models_dir=args.models or None)
    times = []
    for i in range(args.repeat):
        prompt = PROMPTS[i % len(PROMPTS)]
        start = time.perf_counter()
        model.expression(prompt)
        times.append(time.perf_counter() - start)
    print(
        f"expression() after load(): median {statistics.median(times) * 1e3:.1f} ms, "
        f"p90 {sorted(times)[int(0.9 * len(times))] * 1e3:.1f} ms over {len(times)} prompts (target <= 20 ms)"
    )

    # The emotion phrase of a prompt ("smug" in "smug half smile") is read apart and its style kept; here
    # nothing is kept from one call to the next, as for prompts typed for the first time (the shipped
    # encodings of the bare trained phrases are part of the model files, not a cache, and stay).
    def new_prompts() -> list[float]:
        out = []
        for i in range(args.repeat):
            prompt = PROMPTS[i % len(PROMPTS)]
            model._phrase_styles.clear()
            start = time.perf_counter()
            model.expression(prompt)
            out.append(time.perf_counter() - start)
        return out

    def p90(t: list[float]) -> float:
        return sorted(t)[int(0.9 * len(t))]

    cold = new_prompts()
    stored, model.phrase_embeddings = model.phrase_embeddings, {}
    live = new_prompts()  # the peer: every new phrase encoded with its prompt
    model.phrase_embeddings = stored
    for name, t in (("new prompt (no phrase style kept)", cold), ("  same, phrases encoded live", live)):
        print(
            f"expression(), {name}: median {statistics.median(t) * 1e3:.1f} ms, "
            f"p90 {p90(t) * 1e3:.1f} ms (target <= 20 ms)"
        )
    print(f"  p90 with the shipped phrase encodings / encoded live: {p90(cold) / p90(live):.2f}")
    print("Targets:")
    load_s, new_ms = statistics.median(loads), statistics.median(cold) * 1e3
    _verdict("import + load() median", load_s <= LOAD_TARGET_S, f"{load_s:.2f} s", f"<= {LOAD_TARGET_S:g} s")
    _verdict(
        "expression(), new prompt, median",
        new_ms <= EXPRESSION_TARGET_MS,
        f"{new_ms:.1f} ms",
        f"<= {EXPRESSION_TARGET_MS:g} ms",
    )
    zips = sorted(args.dist.glob("*linux_x64.zip"))
    if zips:
        size = zips[-1].stat().st_size
        mib = size / 2**20
        _verdict(
            f"extension zip {zips[-1].name}",
            mib <= ZIP_TARGET_MIB,
            f"{mib:.1f} MiB ({size / 1e6:.1f} MB)",
            f"<= {ZIP_TARGET_MIB:g} MiB",
        )
    else:
        print("  ----  extension zip: not built (python build.py --platform linux-x64)")
    return 0


def _verdict(what: str, met: bool, value: str, target: str) -> None:
    print(f"  {'PASS' if met else 'MISS'}  {what:42s} {value:>10s}  ({target})")


if __name__ == "__main__":
    sys.exit(main())
