"""Training recipes (need torch). Nothing here runs inside Blender."""
