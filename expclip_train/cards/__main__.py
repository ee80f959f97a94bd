"""``python -m expclip_train.cards``: re-render the model cards (``--check``: only compare)."""

from __future__ import annotations

import argparse
from pathlib import Path

from expclip_blender.model_folder import MODELS_DIR

from . import rendered_cards


def main(argv: list[str] | None = None) -> int:
    """Write every card of the models folder from its rendering, or with ``--check`` report the ones
    that differ (exit status 1)."""
    parser = argparse.ArgumentParser(prog="python -m expclip_train.cards", description=__doc__)
    parser.add_argument("--models", type=Path, default=MODELS_DIR, help="the models folder")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a card differs")
    args = parser.parse_args(argv)
    stale = []
    for path, text in rendered_cards(args.models).items():
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(path)
        if not args.check:
            path.write_text(text, encoding="utf-8")
    for path in stale:
        print(f"{'differs' if args.check else 'wrote'}: {path}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
