"""The Blender-side work the operators and the panel call: everything that is not an operator class.

Baking (plan, model run in a worker thread, all-or-nothing write), the loaded model, the shape-key
writer, the sound source, target meshes, the timeline markers, presets, the add-on preferences as read by
code, the demo head, the contact sheet and the batch command's runner. Modules here import bpy and the
core (``expclip_blender``), never ``operators`` modules or ``ui``.
"""
