"""The preset menu: built-in, studio and user presets in sections, plus save, delete, import and export.

The menu is described as rows first (:func:`preset_menu_rows`), then drawn; the rows never raise, so a
broken preset file or an offline studio folder shows as a greyed line with its reason and the panel keeps
working. Hovering a greyed preset shows the full reason. The listing is read again only when the preset
folders change (``services.presets.cached_listing``), not on every redraw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import bpy

from ..expclip_blender.presets import SOURCE_LABELS, SOURCES, STUDIO, USER, PresetLibrary, PresetListing
from ..operators.services.presets import cached_listing, preset_library

if TYPE_CHECKING:  # the icon names UILayout accepts, as fake-bpy-module lists them
    from bpy.stub_internal.rna_enums import IconItems

APPLY = "expclip.preset_apply"
SAVE = "expclip.preset_save"
DELETE = "expclip.preset_delete"
IMPORT = "expclip.preset_import"
EXPORT = "expclip.preset_export"
_SECTION_ICONS: dict[str, IconItems] = {"builtin": "PRESET", "studio": "COMMUNITY", "user": "USER"}


@dataclass(frozen=True)
class MenuRow:
    """One line of a menu: a label, an operator (with the preset name it acts on), a sub-menu or a gap."""

    kind: str  # "label", "operator", "menu" or "separator"
    text: str = ""
    icon: IconItems = "NONE"
    enabled: bool = True
    operator: str = ""  # operator idname (kind "operator") or menu idname (kind "menu")
    name: str = ""  # the preset the operator acts on


def _listing(context) -> tuple[PresetLibrary | None, PresetListing | None, str]:
    try:
        library = preset_library(context)
        return library, cached_listing(library.folders), ""
    except Exception as exc:  # listing itself never raises; this guards the folders' set-up
        return None, None, f"Presets cannot be listed: {exc}"


def preset_menu_rows(context: bpy.types.Context) -> list[MenuRow]:
    """The rows of the preset menu (apply entries by section, then the actions)."""
    library, listing, error = _listing(context)
    rows: list[MenuRow] = []
    if library is None or listing is None:
        rows.append(MenuRow("label", error, "ERROR", enabled=False))
    else:
        studio_set = library.studio_dir is not None
        for source in SOURCES:
            entries = listing.by_source(source)
            problems = [p for p in listing.problems if p.source == source]
            if source == STUDIO and not studio_set:
                continue  # no studio folder chosen in the preferences: no section
            if rows:
                rows.append(MenuRow("separator"))
            rows.append(MenuRow("label", SOURCE_LABELS[source], _SECTION_ICONS[source]))
            rows.extend(MenuRow("label", f"{p.path}: {p.reason}", "ERROR", enabled=False) for p in problems)
            if not entries and not problems:
                hint = "None yet: save the current settings as a preset" if source == USER else "None"
                rows.append(MenuRow("label", hint, "BLANK1", enabled=False))
            for entry in entries:
                if not entry.ok:
                    text = f"{entry.path.name}: {entry.error}"
                    rows.append(MenuRow("operator", text, "ERROR", False, APPLY, entry.name))
                    continue
                hidden_by = listing.hidden_by(entry)
                if hidden_by is not None:
                    text = f"{entry.name} (replaced by the {hidden_by.source_label.lower()} one)"
                    rows.append(MenuRow("operator", text, "BLANK1", False, APPLY, entry.name))
                    continue
                hides = listing.hides(entry)
                text = entry.name
                if hides:
                    text += f" (replaces the {' and '.join(h.source_label.lower() for h in hides)} one)"
                rows.append(MenuRow("operator", text, "BLANK1", True, APPLY, entry.name))
    rows += [
        MenuRow("separator"),
        MenuRow("operator", "Save Current as Preset...", "ADD", operator=SAVE),
        MenuRow("menu", "Delete User Preset", "REMOVE", operator="EXPCLIP_MT_preset_delete"),
        MenuRow("operator", "Import Preset...", "IMPORT", operator=IMPORT),
        MenuRow("menu", "Export Preset", "EXPORT", operator="EXPCLIP_MT_preset_export"),
    ]
    return rows


def delete_menu_rows(context: bpy.types.Context) -> list[MenuRow]:
    """User presets (broken ones too, by file name) to delete; built-in and studio ones are read-only."""
    _, listing, error = _listing(context)
    if listing is None:
        return [MenuRow("label", error, "ERROR", enabled=False)]
    entries = listing.by_source(USER)
    if not entries:
        return [MenuRow("label", "No user presets (built-in and studio ones are read-only)", enabled=False)]
    return [
        MenuRow(
            "operator", e.name if e.ok else e.path.name, "NONE" if e.ok else "ERROR", True, DELETE, e.name
        )
        for e in entries
    ]


def export_menu_rows(context: bpy.types.Context) -> list[MenuRow]:
    """Every preset in effect, to export."""
    _, listing, error = _listing(context)
    if listing is None:
        return [MenuRow("label", error, "ERROR", enabled=False)]
    return [
        MenuRow("operator", f"{e.name} ({e.source_label.lower()})", operator=EXPORT, name=e.name)
        for e in listing.presets()
    ] or [MenuRow("label", "No presets", enabled=False)]


def draw_rows(layout: bpy.types.UILayout, rows: list[MenuRow]) -> None:
    """Draw menu rows; disabled rows are greyed (their operator tooltip still says why)."""
    for row in rows:
        if row.kind == "separator":
            layout.separator()
            continue
        line = layout.row()
        line.enabled = row.enabled
        if row.kind == "label":
            line.label(text=row.text, icon=row.icon)
        elif row.kind == "menu":
            line.menu(row.operator, text=row.text, icon=row.icon)
        else:
            props = line.operator(row.operator, text=row.text, icon=row.icon)
            if row.name:
                props.name = row.name


class EXPCLIP_MT_presets(bpy.types.Menu):
    """Emotion presets: apply, save, delete, import, export"""

    bl_idname = "EXPCLIP_MT_presets"
    bl_label = "Presets"

    def draw(self, context):
        draw_rows(self.layout, preset_menu_rows(context))  # type: ignore[arg-type]  # set while Blender draws


class EXPCLIP_MT_preset_delete(bpy.types.Menu):
    """Delete one of your user presets"""

    bl_idname = "EXPCLIP_MT_preset_delete"
    bl_label = "Delete User Preset"

    def draw(self, context):
        draw_rows(self.layout, delete_menu_rows(context))  # type: ignore[arg-type]  # set while Blender draws


class EXPCLIP_MT_preset_export(bpy.types.Menu):
    """Write a preset to a .json file"""

    bl_idname = "EXPCLIP_MT_preset_export"
    bl_label = "Export Preset"

    def draw(self, context):
        draw_rows(self.layout, export_menu_rows(context))  # type: ignore[arg-type]  # set while Blender draws


CLASSES = (EXPCLIP_MT_preset_delete, EXPCLIP_MT_preset_export, EXPCLIP_MT_presets)
