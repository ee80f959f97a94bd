"""Operator that bakes a file of ARKit weights (CSV / JSON / NPY) onto the selected meshes' shape keys.

It is the last step of ``python -m expclip_blender animate ... --out FILE`` run outside Blender, and reads
Live Link Face CSV recordings too.
"""

from __future__ import annotations

from pathlib import Path

import bpy
from bpy.props import FloatProperty, IntProperty, StringProperty

from ..expclip_blender.limits import FPS_RANGE
from ..expclip_blender.weights_io import WeightsFileError, load_weights
from .reporting import poll_fail
from .services.shape_key_writer import ShapeKeyWriteError, check_target, write_shape_key_action
from .services.targets import scene_fps, target_meshes


class EXPCLIP_OT_import_weights(bpy.types.Operator):
    """Bake a CSV, JSON or NPY file of ARKit weights onto the shape keys of the selected meshes"""

    bl_idname = "expclip.import_weights"
    bl_label = "Import ARKit Weights"
    bl_options = {"REGISTER", "UNDO"}

    filepath: StringProperty(subtype="FILE_PATH", options={"SKIP_SAVE"})
    filter_glob: StringProperty(default="*.csv;*.json;*.npy", options={"HIDDEN"})
    fps: FloatProperty(
        name="File FPS",
        default=0.0,
        min=0.0,  # 0 is "not given"; any other value is a frame rate within limits.FPS_RANGE
        max=FPS_RANGE[1],
        description="Frame rate of the file's rows; 0 = as recorded in the file, else the scene's",
    )
    start_frame: IntProperty(name="Start Frame", default=1)
    tolerance: FloatProperty(
        name="Reduce Keys",
        default=0.0,
        min=0.0,
        max=0.1,
        precision=4,
        description="Drop keys whose removal changes no curve by more than this (0 keeps every frame)",
    )

    @classmethod
    def poll(cls, context):
        return True if target_meshes(context) else poll_fail(cls, "Select a mesh with shape keys")

    def invoke(self, context, event):
        self.start_frame = context.scene.frame_start
        context.window_manager.fileselect_add(self)
        return {"RUNNING_MODAL"}

    def execute(self, context):
        try:
            weights, file_fps = load_weights(bpy.path.abspath(self.filepath))
            targets = target_meshes(context)
            for obj in targets:
                check_target(obj)
        except (WeightsFileError, ShapeKeyWriteError) as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        fps = self.fps or file_fps or scene_fps(context.scene)
        name = Path(self.filepath).stem
        lines = []
        for obj in targets:
            try:
                result = write_shape_key_action(
                    obj,
                    weights,
                    fps=fps,
                    start_frame=self.start_frame,
                    scene_fps=scene_fps(context.scene),
                    name=name,
                    reduce_tolerance=self.tolerance or None,
                )
            except ShapeKeyWriteError as exc:
                self.report({"ERROR"}, str(exc))
                return {"CANCELLED"}
            lines.append(f"{obj.name}: {result.report.summary()}")
        self.report({"INFO"}, "; ".join(lines))
        return {"FINISHED"}


CLASSES = (EXPCLIP_OT_import_weights,)
