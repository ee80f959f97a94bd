"""A ``blender`` executable made of the bpy wheel, for what runs Blender's command line (farm templates).

    python scripts/blender_shim.py --install-extension dist/expclip-X.zip    # once per user folder
    python scripts/blender_shim.py --background shot.blend --command expclip jobs shots.csv

There is no Blender executable in this project's environments, only the ``bpy`` module. This script
takes the part of Blender's command line that batch baking uses (``--background``/``-b``, a .blend to
open, ``--command NAME ARGS...``) and does what Blender does with it: the installed ExpCLIP extension is
enabled (Blender enables installed extensions at start-up), the .blend is opened and the command that the
extension registered under NAME with ``bpy.utils.register_cli_command`` is called with ARGS; its return
value is the exit status. The command is the extension's own, found by the name it registered, never
imported by hand. ``--install-extension ZIP`` installs a built zip (``build.py``) into the user folder
(``BLENDER_USER_RESOURCES``, as Blender's). Anything else on the command line is an error (status 2),
so a template that passes Blender an option the shim does not emulate fails instead of being half run.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

MODULE = "bl_ext.user_default.expclip"
USAGE = (
    "usage: blender_shim.py [--background] [FILE.blend] --command NAME [ARGS...]\n"
    "       blender_shim.py --install-extension ZIP"
)


def parse(argv: Sequence[str]) -> tuple[str | None, str, list[str]]:
    """``(blend, command, command args)`` from Blender-style arguments; ValueError when not understood."""
    blend: str | None = None
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg in ("--background", "-b"):
            continue
        if arg == "--command" or arg == "-c":
            if not args:
                raise ValueError("--command needs a name")
            return blend, args[0], args[1:]
        if arg.endswith(".blend") and blend is None and not arg.startswith("-"):
            blend = arg
            continue
        raise ValueError(f"the shim does not emulate the argument {arg!r}")
    raise ValueError("no --command given")


def install(zip_path: str) -> int:
    """Install the extension zip into the user repository (not enabled: :func:`run` enables it)."""
    import bpy

    result = bpy.ops.extensions.package_install_files(
        filepath=zip_path, repo="user_default", enable_on_install=False
    )
    print(f"blender_shim: installed {zip_path}: {sorted(result)}", flush=True)
    return 0 if "FINISHED" in result else 1


def run(blend: str | None, name: str, args: list[str]) -> int:
    """Enable the extension, open ``blend`` and run the command registered as ``name``."""
    import bpy

    commands: dict[str, Callable[[list[str]], int]] = {}
    register = bpy.utils.register_cli_command

    def recording_register(command: str, callback: Callable[[list[str]], int]) -> object:
        commands[command] = callback  # what Blender's --command NAME would call
        return register(command, callback)

    bpy.utils.register_cli_command = recording_register
    try:
        bpy.ops.preferences.addon_enable(module=MODULE)
    finally:
        bpy.utils.register_cli_command = register
    if blend is not None:
        bpy.ops.wm.open_mainfile(filepath=blend, load_ui=True)
    if name not in commands:
        print(f"Error: command '{name}' not found (is the extension installed?)", file=sys.stderr, flush=True)
        return 1
    code = commands[name](args)
    return code if isinstance(code, int) else 0


def main(argv: Sequence[str]) -> int:
    """Run the shim; the exit status is the command's."""
    if len(argv) == 2 and argv[0] == "--install-extension":
        return install(argv[1])
    try:
        blend, name, args = parse(argv)
    except ValueError as err:
        print(f"blender_shim: {err}\n{USAGE}", file=sys.stderr, flush=True)
        return 2
    return run(blend, name, args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
