"""Benchmark: ExpCLIP load() and expression() on CPU.

    .venv/bin/python benchmarks/bench_expclip.py [--repeat 50] [--models DIR]

load() is timed in fresh Python processes (import of the package included), so nothing is warm but the
operating system's file cache. Targets: load() at most 3 s, one expression() at most 20 ms.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

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
    return 0


if __name__ == "__main__":
    sys.exit(main())
