"""``python -m expclip_train.speech.phoneme_tables build``: regenerate the phoneme tables from espeak-ng."""

from __future__ import annotations

import argparse
import sys

from .build import build


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m expclip_train.speech.phoneme_tables")
    parser.add_argument("command", choices=["build"], help="build: write <table>.toml for every table")
    parser.parse_args(argv)
    unresolved = build()
    for table, mnemonics in unresolved.items():
        print(f"{table}: no IPA for {' '.join(mnemonics)} (add them to overrides.toml)", file=sys.stderr)
    return 1 if unresolved else 0


if __name__ == "__main__":
    sys.exit(main())
