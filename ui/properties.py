"""The scene's ExpCLIP settings (``scene.expclip``): audio source, prompt and bake options.

They live on the scene so they are saved with the .blend and each shot keeps its own. The presets
(``expclip_blender.presets``) read and write these field names; keep them stable.
"""

from __future__ import annotations

import bpy
from bpy.props import BoolProperty, EnumProperty, FloatProperty, PointerProperty, StringProperty

from ..expclip_blender.limits import GAZE_AMOUNT_RANGE, INTENSITY_RANGE, SMOOTHING_RANGE, TRANSITION_RANGE

# Blender 4.5+ warns on every "//" value of a path property unless it declares that it accepts one; 4.2
# has no such option (docs/blender-differences.md). Detected from the API: Property has the matching flag.
PATH_OPTIONS: set[str] = {"ANIMATABLE"} | (
    {"PATH_SUPPORTS_BLEND_RELATIVE"}
    if "is_path_supports_blend_relative" in bpy.types.Property.bl_rna.properties
    else set()
)


class EXPCLIP_PG_settings(bpy.types.PropertyGroup):
    """ExpCLIP bake settings of a scene"""

    audio_source: EnumProperty(
        name="Audio",
        description="Where the speech comes from",
        items=(
            ("STRIP", "Sound Strip", "A sound strip of the sequencer (the frames it covers are baked)"),
            ("FILE", "File", "An audio file (baked from the scene's start frame)"),
        ),
        default="STRIP",
    )
    strip: StringProperty(
        name="Strip",
        description="Sound strip to bake; empty = the selected sound strip, else the first one",
        default="",
    )
    audio_file: StringProperty(
        name="Audio File",
        description="WAV, FLAC, OGG, MP3 or any file Blender plays",
        subtype="FILE_PATH",
        options=PATH_OPTIONS,
        default="",
    )
    prompt: StringProperty(
        name="Prompt",
        description='The emotion in words ("furious", "on the verge of tears"); empty = neutral',
        default="neutral",
    )
    intensity: FloatProperty(
        name="Intensity",
        description="0 = neutral, 1 = as prompted, above 1 exaggerates",
        default=1.0,
        min=INTENSITY_RANGE[0],
        max=INTENSITY_RANGE[1],
    )
    smoothing: FloatProperty(
        name="Smoothing",
        description="Temporal smoothing of the animation (0 = none, 1 = strongest)",
        default=0.0,
        min=SMOOTHING_RANGE[0],
        max=SMOOTHING_RANGE[1],
    )
    blinks: BoolProperty(name="Blinks", description="Add natural eye blinks", default=True)
    gaze: BoolProperty(
        name="Eye Movement",
        description="Add natural eye movement: small saccades and glances away, more of them at pauses",
        default=True,
    )
    gaze_amount: FloatProperty(
        name="Amount",
        description="How far the eyes move (0 = still, 1 = modest, 2 = twice as far)",
        default=1.0,
        min=GAZE_AMOUNT_RANGE[0],
        max=GAZE_AMOUNT_RANGE[1],
    )
    mapping_preset: StringProperty(
        name="Mapping Preset",
        description="Optional JSON file mapping ARKit channels to this rig's shape keys; empty = match names",
        subtype="FILE_PATH",
        options=PATH_OPTIONS,
        default="",
    )
    transition_s: FloatProperty(
        name="Transition",
        description="Seconds over which the style blends at each timeline marker (centred on the marker)",
        default=0.5,
        min=TRANSITION_RANGE[0],
        soft_max=3.0,
        max=TRANSITION_RANGE[1],
        unit="TIME_ABSOLUTE",
    )
    use_timeline: BoolProperty(
        name="Emotion Timeline",
        description="Timeline markers named 'expclip: <prompt>' (optionally '@ intensity') change the prompt "
        "from their frame on",
        default=True,
    )


CLASSES = (EXPCLIP_PG_settings,)


def attach() -> None:
    """Add ``Scene.expclip`` (the PropertyGroup class must be registered first)."""
    # Scene.expclip is created here, at register time: the stubs cannot declare it.
    bpy.types.Scene.expclip = PointerProperty(type=EXPCLIP_PG_settings)  # type: ignore[attr-defined]


def detach() -> None:
    """Remove ``Scene.expclip`` (before the PropertyGroup class is unregistered)."""
    if hasattr(bpy.types.Scene, "expclip"):
        del bpy.types.Scene.expclip
