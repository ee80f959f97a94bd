"""The procedural demo head and its 52 ARKit shape keys (core, no bpy)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from expclip_blender.arkit import ARKIT_INDEX, ARKIT_NAMES
from expclip_blender.demo_head import (
    BENCHMARK_RESOLUTION,
    DEFAULT_RESOLUTION,
    MATERIAL_NAMES,
    PART_EYE_LEFT,
    PART_EYE_RIGHT,
    PART_LID_MARGIN,
    PART_MOUTH,
    PART_SKIN,
    PART_TONGUE,
    DemoHead,
    build_demo_head,
)

MIRROR = np.array([-1.0, 1.0, 1.0])
MM = 0.001


@pytest.fixture(scope="module")
def head() -> DemoHead:
    return build_demo_head()


def d(head: DemoHead, name: str) -> np.ndarray:
    return head.delta(name).astype(np.float64)


def pos(head: DemoHead, landmark: str) -> np.ndarray:
    return head.vertices[head.landmarks[landmark]].astype(np.float64)


def move(head: DemoHead, name: str, landmark: str) -> np.ndarray:
    return d(head, name)[head.landmarks[landmark]]


def faces_of(head: DemoHead) -> list[np.ndarray]:
    return head.faces()


def vertices_with_material(head: DemoHead, material: str, part: int = PART_SKIN) -> np.ndarray:
    ids = head.face_indices[np.repeat(head.material_index, head.face_sizes) == MATERIAL_NAMES.index(material)]
    ids = np.unique(ids)
    return ids[head.vertex_part[ids] == part]


def near(head: DemoHead, x: float, z: float, radius: float) -> np.ndarray:
    """Skin vertices on the face (front half) within ``radius`` of (x, z) seen from the front."""
    v = head.vertices.astype(np.float64)
    front = (head.vertex_part == PART_SKIN) & (v[:, 1] < -0.03)
    ids = np.flatnonzero(front & (np.hypot(v[:, 0] - x, v[:, 2] - z) < radius))
    assert len(ids) > 3, f"no face vertices near x={x}, z={z}"
    return ids


def eye_centre(head: DemoHead, part: int) -> np.ndarray:
    """Centre of an eyeball: halfway between its front (pupil) and back poles."""
    v = head.vertices[head.vertex_part == part].astype(np.float64)
    return 0.5 * (v[v[:, 1].argmin()] + v[v[:, 1].argmax()])


# --- arrays and mesh ------------------------------------------------------------------------------


def test_arrays_have_the_documented_layout(head):
    v = head.num_vertices
    assert head.vertices.shape == (v, 3) and head.vertices.dtype == np.float32
    assert head.shape_deltas.shape == (len(ARKIT_NAMES), v, 3) == (52, v, 3)
    assert head.shape_deltas.dtype == np.float32
    assert head.face_indices.dtype == np.int32 and head.face_sizes.dtype == np.int32
    assert set(np.unique(head.face_sizes).tolist()) <= {3, 4}
    assert head.face_sizes.sum() == len(head.face_indices)
    assert head.face_indices.min() == 0 and head.face_indices.max() == v - 1
    assert head.material_index.shape == (head.num_faces,)
    assert head.material_index.min() >= 0 and head.material_index.max() < len(MATERIAL_NAMES)
    assert head.vertex_part.shape == (v,) and head.mirror_index.shape == (v,)
    np.testing.assert_array_equal(head.loop_starts, np.concatenate([[0], np.cumsum(head.face_sizes)[:-1]]))
    assert np.isfinite(head.vertices).all() and np.isfinite(head.shape_deltas).all()


def test_default_size_and_proportions(head):
    assert 3_000 <= head.num_vertices <= 8_000
    skin = head.vertices[head.vertex_part == PART_SKIN]
    chin, top = pos(head, "chin")[2], skin[:, 2].max()
    assert 0.20 < top - chin < 0.24  # crown to chin, metres
    assert abs(skin[:, 0].mean()) < 1e-6 and np.abs(skin.mean(axis=0)).max() < 0.04  # centred near the origin
    # The face looks toward -Y: nose tip is the most forward point; left eye on +X.
    assert pos(head, "nose_tip")[1] == pytest.approx(skin[:, 1].min())
    assert pos(head, "pupil_left")[0] > 0.02 and pos(head, "pupil_right")[0] < -0.02
    assert pos(head, "nose_tip")[2] > pos(head, "upper_lip")[2] > pos(head, "chin")[2]
    assert pos(head, "pupil_left")[2] > pos(head, "nose_tip")[2]
    # Every material is used.
    assert set(np.unique(head.material_index).tolist()) == set(range(len(MATERIAL_NAMES)))


def test_no_degenerate_faces(head):
    check_faces_are_proper(head)


def check_faces_are_proper(head: DemoHead) -> None:
    v = head.vertices.astype(np.float64)
    for size in (3, 4):
        starts = head.loop_starts[head.face_sizes == size]
        f = head.face_indices[starts[:, None] + np.arange(size)]
        # No vertex used twice in a face, no zero-length edge.
        for a in range(size):
            for b in range(a + 1, size):
                assert (f[:, a] != f[:, b]).all()
        edges = np.linalg.norm(v[f] - v[np.roll(f, -1, axis=1)], axis=2)
        assert edges.min() > 1e-5, "an edge shorter than 0.01 mm"
        # Every triangle of every face has a real area (quads are checked on both diagonals).
        tris = [(0, 1, 2)] if size == 3 else [(0, 1, 2), (0, 2, 3), (0, 1, 3), (1, 2, 3)]
        for i, j, k in tris:
            area = 0.5 * np.linalg.norm(np.cross(v[f[:, j]] - v[f[:, i]], v[f[:, k]] - v[f[:, i]]), axis=1)
            assert area.min() > 1e-10, "a face (or half of a quad) with (almost) no area"


def test_mesh_is_manifold_and_consistently_wound(head):
    f = faces_of(head)
    directed = np.concatenate([np.stack([x, np.roll(x, -1)], axis=1) for x in f])
    # Each directed edge once: neighbouring faces agree on orientation.
    assert len(np.unique(directed, axis=0)) == len(directed)
    undirected = np.sort(directed, axis=1)
    _, counts = np.unique(undirected, axis=0, return_counts=True)
    assert counts.max() == 2  # no edge shared by three faces
    # Boundary edges exist only where the lid margins tuck in onto the eyeballs.
    key = undirected[:, 0] * head.num_vertices + undirected[:, 1]
    _, inv, cnt = np.unique(key, return_inverse=True, return_counts=True)
    boundary = directed[cnt[inv] == 1]
    assert (head.vertex_part[boundary] == PART_LID_MARGIN).all()


def test_faces_point_outward(head):
    v = head.vertices.astype(np.float64)
    f = faces_of(head)

    def normals(part_faces):
        return np.array([np.cross(v[x[1]] - v[x[0]], v[x[2]] - v[x[0]]) for x in part_faces])

    # Closed shells (eyeballs, tongue): positive volume.
    for part in (PART_EYE_LEFT, PART_EYE_RIGHT, PART_TONGUE):
        shell = [x for x in f if head.vertex_part[x[0]] == part]
        volume = sum(
            np.dot(v[x[0]], np.cross(v[x[i]], v[x[i + 1]])) for x in shell for i in range(1, len(x) - 1)
        )
        assert volume > 0, part
    # Skin (outside the mouth): away from a point inside the head.
    skin = [x for x in f if (head.vertex_part[x] == PART_SKIN).all()]
    centres = np.array([v[x].mean(axis=0) for x in skin])
    outward = np.einsum("ij,ij->i", normals(skin), centres - (0.0, 0.0, -0.005))
    assert (outward > 0).mean() > 0.995


def test_mesh_and_parts_are_mirror_symmetric(head):
    m = head.mirror_index
    np.testing.assert_array_equal(m[m], np.arange(head.num_vertices))
    np.testing.assert_allclose(head.vertices[m], head.vertices * MIRROR, atol=1e-7)
    np.testing.assert_array_equal(head.vertex_part[m] % 10, np.where(
        head.vertex_part == PART_EYE_LEFT, PART_EYE_RIGHT,
        np.where(head.vertex_part == PART_EYE_RIGHT, PART_EYE_LEFT, head.vertex_part)))  # fmt: skip
    # The mirrored faces are the same set of faces (as vertex sets).
    faces = {tuple(sorted(x.tolist())) for x in faces_of(head)}
    mirrored = {tuple(sorted(m[x].tolist())) for x in faces_of(head)}
    assert faces == mirrored
    for name in ("mouth_corner", "upper_lid", "lower_lid", "pupil"):
        assert m[head.landmarks[f"{name}_left"]] == head.landmarks[f"{name}_right"]


def test_lip_edges_coincide_at_rest(head):
    assert head.landmarks["upper_lip"] != head.landmarks["lower_lip"]
    np.testing.assert_array_equal(pos(head, "upper_lip"), pos(head, "lower_lip"))


# --- shape keys: all of them -------------------------------------------------------------------------


def test_every_key_moves_something_and_nothing_explodes(head):
    for i, name in enumerate(ARKIT_NAMES):
        mag = np.linalg.norm(head.shape_deltas[i], axis=1)
        assert mag.max() > 1.0 * MM, f"{name} barely moves anything"
        assert mag.max() < 60 * MM, f"{name} moves something absurdly far"
        assert (mag > 0.1 * MM).mean() < 0.5, f"{name} moves most of the head"
    # The back of the head never moves.
    v = head.vertices
    back = (v[:, 1] > 0.05) & (head.vertex_part == PART_SKIN)
    assert np.abs(head.shape_deltas[:, back]).max() < 1e-7


def test_left_and_right_keys_are_mirror_images(head):
    m = head.mirror_index
    for name in ARKIT_NAMES:
        if not name.endswith("Left"):
            continue
        left = d(head, name)
        right = d(head, name[: -len("Left")] + "Right")
        np.testing.assert_allclose(left[m], right * MIRROR, atol=1e-6, err_msg=name)


def test_unsided_keys_are_symmetric(head):
    m = head.mirror_index
    for name in ARKIT_NAMES:
        if name.endswith(("Left", "Right")):
            continue
        delta = d(head, name)
        np.testing.assert_allclose(delta[m], delta * MIRROR, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("name", [n for n in ARKIT_NAMES if n.endswith("Left")])
def test_left_keys_act_on_the_left_side(head, name):
    delta = d(head, name)
    mag = np.linalg.norm(delta, axis=1)
    x = head.vertices[:, 0]
    if name in ("jawLeft", "mouthLeft"):  # the whole jaw / mouth shifts to the character's left (+X)
        moved = mag > 0.3 * MM
        assert delta[moved, 0].mean() > 1 * MM
        return
    left, right = mag[x > 0.004].sum(), mag[x < -0.004].sum()
    assert left > 4 * right, f"{name}: left {left:.4f} vs right {right:.4f}"


def test_eyeballs_only_turn_with_eye_look_keys(head):
    eyes = np.isin(head.vertex_part, [PART_EYE_LEFT, PART_EYE_RIGHT])
    for i, name in enumerate(ARKIT_NAMES):
        moved = np.abs(head.shape_deltas[i][eyes]).max()
        if name.startswith("eyeLook"):
            assert moved > 2 * MM, name
        else:
            assert moved == 0.0, name


def test_eye_looks_keep_the_eyeball_a_sphere(head):
    for side, part in (("Left", PART_EYE_LEFT), ("Right", PART_EYE_RIGHT)):
        ids = np.flatnonzero(head.vertex_part == part)
        c = eye_centre(head, part)
        for look in ("Up", "Down", "In", "Out"):
            p = head.vertices[ids] + head.delta(f"eyeLook{look}{side}")[ids]
            r = np.linalg.norm(p - c, axis=1)
            assert r.max() - r.min() < 0.05 * MM


def test_no_key_pushes_skin_into_an_eyeball(head):
    surface = np.isin(head.vertex_part, [PART_SKIN, PART_LID_MARGIN])
    for part in (PART_EYE_LEFT, PART_EYE_RIGHT):
        c = eye_centre(head, part)
        radius = np.linalg.norm(head.vertices[head.vertex_part == part] - c, axis=1).max()
        for i, name in enumerate(ARKIT_NAMES):
            p = head.vertices[surface] + head.shape_deltas[i][surface]
            assert np.linalg.norm(p - c, axis=1).min() > radius - 0.5 * MM, name


def _winding_numbers(points: np.ndarray, tris: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Generalised winding number of ``points`` w.r.t. a closed triangle surface (van Oosterom-Strackee)."""
    a, b, c = (v[tris[:, k]][None] - points[:, None] for k in range(3))
    la, lb, lc = (np.linalg.norm(x, axis=-1) for x in (a, b, c))
    det = np.einsum("pti,pti->pt", a, np.cross(b, c))
    dots = (np.einsum("pti,pti->pt", x, y) for x, y in ((a, b), (b, c), (c, a)))
    ab, bc, ca = dots
    den = la * lb * lc + ab * lc + bc * la + ca * lb
    return (2.0 * np.arctan2(det, den)).sum(axis=1) / (4.0 * np.pi)


@pytest.mark.parametrize(
    "pose", ["", "jawOpen", "jawOpen=0.5", "jawLeft", "jawOpen+mouthClose", "mouthPucker"]
)
def test_tongue_stays_inside_the_mouth(head, pose):
    weights = np.zeros(len(ARKIT_NAMES), dtype=np.float32)
    for part in filter(None, pose.split("+")):
        name, value = part.split("=") if "=" in part else (part, 1.0)
        weights[ARKIT_NAMES.index(name)] = float(value)
    p = head.posed(weights).astype(np.float64)
    tris = []
    for x in faces_of(head):
        if (head.vertex_part[x] == PART_MOUTH).any():
            tris += [x[[0, 1, 2]]] + ([x[[0, 2, 3]]] if len(x) == 4 else [])
    tris = np.array(tris)
    # Close the mouth bag over the lip opening with a fan to its centre.
    edges = {tuple(e) for e in np.concatenate([tris[:, [0, 1]], tris[:, [1, 2]], tris[:, [2, 0]]]).tolist()}
    rim = [e for e in edges if (e[1], e[0]) not in edges]
    rim_ids = np.unique(np.array(rim))
    allv = np.vstack([p, p[rim_ids].mean(axis=0)])
    closed = np.vstack([tris, [[b, a, len(p)] for a, b in rim]])
    tongue = np.flatnonzero(head.vertex_part == PART_TONGUE)
    w = np.abs(_winding_numbers(allv[tongue], closed, allv))
    assert (w > 0.5).all(), f"{(w <= 0.5).sum()} tongue vertices outside the mouth"


# --- shape keys: each moves the right region the right way --------------------------------------------


def test_jaw_open_drops_the_chin_and_opens_the_mouth(head):
    chin = move(head, "jawOpen", "chin")
    assert chin[2] < -20 * MM  # down
    upper, lower = move(head, "jawOpen", "upper_lip"), move(head, "jawOpen", "lower_lip")
    assert np.linalg.norm(upper) < 1 * MM  # the upper lip stays
    assert lower[2] - upper[2] < -15 * MM  # a real gap opens
    assert np.abs(d(head, "jawOpen")[head.vertices[:, 2] > 0.0]).max() < 1e-7  # nothing above the nose moves
    # The tongue rides with the jaw.
    assert move(head, "jawOpen", "tongue_tip")[2] < -5 * MM


def test_mouth_close_closes_the_lips_of_an_open_jaw(head):
    w = np.zeros(len(ARKIT_NAMES), dtype=np.float32)
    w[ARKIT_NAMES.index("jawOpen")] = 1.0
    w[ARKIT_NAMES.index("mouthClose")] = 1.0
    p = head.posed(w)
    gap = np.linalg.norm(p[head.landmarks["upper_lip"]] - p[head.landmarks["lower_lip"]])
    assert gap < 0.5 * MM
    assert move(head, "mouthClose", "lower_lip")[2] > 10 * MM  # on its own it pushes the lower lip up
    assert move(head, "mouthClose", "upper_lip")[2] < -5 * MM  # and the upper lip down


def test_blink_closes_the_left_eye_only(head):
    c = eye_centre(head, PART_EYE_LEFT)
    upper = near(head, c[0], c[2] + 0.009, 0.004)
    assert d(head, "eyeBlinkLeft")[upper, 2].mean() < -3 * MM  # upper lid comes down
    right = near(head, -c[0], c[2], 0.025)
    assert np.abs(d(head, "eyeBlinkLeft")[right]).max() == 0.0
    # The lid edges meet: the opening over the middle of the eye closes.
    up, lo = head.landmarks["upper_lid_left"], head.landmarks["lower_lid_left"]
    rest = head.vertices[up, 2] - head.vertices[lo, 2]
    p = head.vertices + head.delta("eyeBlinkLeft")
    assert rest > 8 * MM and np.linalg.norm(p[up] - p[lo]) < 0.3 * MM
    # The lid margin (eyelid rim) of the left eye closes all along: its height shrinks to almost nothing.
    margin = np.flatnonzero(
        (head.vertex_part == PART_LID_MARGIN) & (np.abs(head.vertices[:, 0] - c[0]) < 0.004)
    )
    assert np.ptp(head.vertices[margin, 2]) > 7 * MM and np.ptp(p[margin, 2]) < 1.5 * MM


def test_eye_look_turns_the_pupils_the_right_way(head):
    for side, sign in (("Left", 1.0), ("Right", -1.0)):
        pupil = head.landmarks[f"pupil_{side.lower()}"]
        other = head.landmarks[f"pupil_{'right' if side == 'Left' else 'left'}"]
        assert head.delta(f"eyeLookUp{side}")[pupil, 2] > 2 * MM
        assert head.delta(f"eyeLookDown{side}")[pupil, 2] < -2 * MM
        assert sign * head.delta(f"eyeLookOut{side}")[pupil, 0] > 2 * MM  # away from the nose
        assert sign * head.delta(f"eyeLookIn{side}")[pupil, 0] < -2 * MM  # toward the nose
        for look in ("Up", "Down", "In", "Out"):
            assert np.abs(head.delta(f"eyeLook{look}{side}")[other]).max() == 0.0
    # The upper lid follows the gaze down a little.
    assert move(head, "eyeLookDownLeft", "upper_lid_left")[2] < -1 * MM


def test_squint_and_wide_move_the_lids(head):
    assert move(head, "eyeSquintLeft", "lower_lid_left")[2] > 1.5 * MM  # lower lid up
    assert move(head, "eyeWideLeft", "upper_lid_left")[2] > 1.5 * MM  # upper lid up
    assert move(head, "eyeWideLeft", "lower_lid_left")[2] < 0  # lower lid slightly down


def test_smile_frown_dimple_stretch_move_their_corner(head):
    r = "mouth_corner_right"
    smile = move(head, "mouthSmileRight", r)
    assert smile[2] > 4 * MM and smile[1] > 2 * MM and smile[0] < 0  # up, back, out (-X)
    assert np.linalg.norm(move(head, "mouthSmileRight", "mouth_corner_left")) < 0.05 * MM
    assert move(head, "mouthFrownRight", r)[2] < -4 * MM
    assert move(head, "mouthDimpleRight", r)[1] > 3 * MM  # pulled back
    stretch = move(head, "mouthStretchLeft", "mouth_corner_left")
    assert stretch[0] > 4 * MM and stretch[2] < -1 * MM  # out (+X) and down


def test_pucker_and_funnel_push_the_lips_forward(head):
    lips = vertices_with_material(head, "lips")
    for name in ("mouthPucker", "mouthFunnel"):
        assert d(head, name)[lips, 1].mean() < -4 * MM, name  # forward is -Y
        assert move(head, name, "mouth_corner_left")[0] < -3 * MM, name  # narrower
        assert move(head, name, "mouth_corner_right")[0] > 3 * MM, name

    # Pucker keeps the lips together, funnel opens them into an O.
    def gap(name):
        return move(head, name, "upper_lip")[2] - move(head, name, "lower_lip")[2]

    assert abs(gap("mouthPucker")) < 0.1 * MM
    assert gap("mouthFunnel") > 5 * MM


def test_mouth_left_right_shift_the_mouth(head):
    assert move(head, "mouthLeft", "upper_lip")[0] > 6 * MM
    assert move(head, "mouthRight", "lower_lip")[0] < -6 * MM
    assert move(head, "jawLeft", "chin")[0] > 5 * MM
    assert move(head, "jawRight", "chin")[0] < -5 * MM
    assert move(head, "jawForward", "chin")[1] < -5 * MM


def test_lip_rolls_shrugs_press_and_part(head):
    roll_lo, roll_up = move(head, "mouthRollLower", "lower_lip"), move(head, "mouthRollUpper", "upper_lip")
    assert roll_lo[1] > 3 * MM and roll_lo[2] > 0  # lower lip turns in: back and up
    assert roll_up[1] > 3 * MM and roll_up[2] < 0  # upper lip turns in: back and down
    assert move(head, "mouthShrugLower", "chin")[2] > 1 * MM
    shrug_up = d(head, "mouthShrugUpper")[vertices_with_material(head, "lips")]
    assert shrug_up[:, 2].max() > 2 * MM and shrug_up[:, 2].min() >= -1e-6
    lips = vertices_with_material(head, "lips")
    v = head.vertices
    lower_left = lips[(v[lips, 2] < pos(head, "lower_lip")[2] - 2 * MM) & (v[lips, 0] > 0.006)]
    lower_right = lips[(v[lips, 2] < pos(head, "lower_lip")[2] - 2 * MM) & (v[lips, 0] < -0.006)]
    upper_left = lips[(v[lips, 2] > pos(head, "upper_lip")[2] + 2 * MM) & (v[lips, 0] > 0.006)]
    assert d(head, "mouthLowerDownLeft")[lower_left, 2].mean() < -3 * MM
    assert np.abs(d(head, "mouthLowerDownLeft")[lower_right]).max() < 0.5 * MM
    assert d(head, "mouthUpperUpLeft")[upper_left, 2].mean() > 3 * MM
    press = d(head, "mouthPressLeft")
    assert press[upper_left, 2].mean() < 0 and press[lower_left, 2].mean() > 0  # lips squeeze together
    assert press[upper_left, 1].mean() > 0  # and back


def test_brows(head):
    brow = vertices_with_material(head, "brow")
    x = head.vertices[brow, 0]
    inner, outer_left, outer_right = brow[np.abs(x) < 0.022], brow[x > 0.038], brow[x < -0.038]
    assert d(head, "browInnerUp")[inner, 2].mean() > 4 * MM
    assert d(head, "browInnerUp")[inner, 2].mean() > 2 * d(head, "browInnerUp")[outer_left, 2].mean()
    assert d(head, "browOuterUpLeft")[outer_left, 2].mean() > 4 * MM
    assert np.abs(d(head, "browOuterUpLeft")[outer_right]).max() < 0.1 * MM
    down = d(head, "browDownLeft")[brow[x > 0.01]]
    assert down[:, 2].mean() < -3 * MM and down[:, 0].mean() < 0  # down and in toward the centre


def test_cheeks_and_nose(head):
    lip_z = pos(head, "upper_lip")[2]
    for sign in (1.0, -1.0):
        cheek = near(head, sign * 0.046, lip_z + 0.006, 0.008)
        outward = d(head, "cheekPuff")[cheek, 0] * sign
        assert outward.mean() > 4 * MM
    squint = near(head, 0.040, pos(head, "pupil_left")[2] - 0.022, 0.006)
    assert d(head, "cheekSquintLeft")[squint, 2].mean() > 2 * MM
    wing = near(head, 0.011, -0.0215, 0.004)
    assert d(head, "noseSneerLeft")[wing, 2].mean() > 2 * MM
    assert d(head, "noseSneerRight")[wing, 2].mean() < 0.2 * d(head, "noseSneerLeft")[wing, 2].mean()


def test_tongue_out_sticks_out_past_the_lips(head):
    tongue = np.flatnonzero(head.vertex_part == PART_TONGUE)
    lips_front = head.vertices[vertices_with_material(head, "lips"), 1].min()
    p = head.vertices[tongue] + head.delta("tongueOut")[tongue]
    assert head.vertices[tongue, 1].min() > lips_front + 10 * MM  # at rest it is well inside
    assert p[:, 1].min() < lips_front - 5 * MM
    assert move(head, "tongueOut", "lower_lip")[2] < -3 * MM  # the mouth opens for it


# --- building ------------------------------------------------------------------------------------------


def test_resolution_scales_to_benchmark_size():
    small = build_demo_head(40)
    big = build_demo_head(BENCHMARK_RESOLUTION)
    assert small.num_vertices < 3_000
    assert big.num_vertices >= 25_000
    for h in (small, big):
        check_faces_are_proper(h)
        m = h.mirror_index
        assert np.isfinite(h.shape_deltas).all()
        np.testing.assert_allclose(h.shape_deltas[0][m], h.shape_deltas[7] * MIRROR, atol=1e-6)  # blink L/R
        assert np.linalg.norm(h.delta("jawOpen")[h.landmarks["chin"]]) > 20 * MM
    # The same landmarks end up in about the same places at any resolution.
    for name in ("upper_lip", "mouth_corner_left", "pupil_left", "upper_lid_left", "nose_tip"):
        gap = np.linalg.norm(small.vertices[small.landmarks[name]] - big.vertices[big.landmarks[name]])
        assert gap < 4 * MM, name


def test_build_is_deterministic(head):
    again = build_demo_head(DEFAULT_RESOLUTION)
    np.testing.assert_array_equal(again.vertices, head.vertices)
    np.testing.assert_array_equal(again.shape_deltas, head.shape_deltas)
    np.testing.assert_array_equal(again.face_indices, head.face_indices)


# SHA-256 of everything the builder makes, per resolution. A change to these is a change to the head: make
# it on purpose and say so in the commit. Zeros are hashed unsigned: numpy's AVX-512 and AVX2 code paths
# give the same values but differ in the sign of a few zero offsets.
BUILT_SHA256 = {
    DEFAULT_RESOLUTION: "d5a379d1e9bd403e993d760b07ec2d7c473d78b5d5e2ea7d6716ff6a318d89d5",
    40: "74824a7fcb7260fcaf127039e54ca2711e41a9f0bf44ce83e5f04971fbf24ca5",
}


def built_sha256(head: DemoHead) -> str:
    digest = hashlib.sha256()
    arrays = {
        "vertices": head.vertices,
        "face_indices": head.face_indices,
        "face_sizes": head.face_sizes,
        "material_index": head.material_index,
        "vertex_part": head.vertex_part,
        "mirror_index": head.mirror_index,
        **{f"key {name}": head.delta(name) for name in ARKIT_NAMES},
    }
    for name, a in arrays.items():
        if a.dtype.kind == "f":
            a = a + a.dtype.type(0.0)  # -0.0 + 0.0 is +0.0; every other value stays as it is
        digest.update(f"{name} {a.dtype} {a.shape}".encode())
        digest.update(np.ascontiguousarray(a).tobytes())
    digest.update(json.dumps(head.landmarks, sort_keys=True).encode())
    return digest.hexdigest()


def test_build_makes_the_same_head_as_before(head):
    assert built_sha256(head) == BUILT_SHA256[DEFAULT_RESOLUTION]
    assert built_sha256(build_demo_head(40)) == BUILT_SHA256[40]


def test_the_digest_sees_every_array_and_key(head):
    # Guards the check above: a digest that skipped a key or an array would pass through any change to it.
    deltas = head.shape_deltas.copy()
    deltas[ARKIT_INDEX["tongueOut"], 7, 2] += 1e-6
    vertices = head.vertices.copy()
    vertices[3, 0] += 1e-6
    materials = head.material_index.copy()
    materials[0] += 1
    landmarks = {**head.landmarks, "chin": head.landmarks["chin"] + 1}
    base = built_sha256(head)
    for changed in (
        replace(head, shape_deltas=deltas),
        replace(head, vertices=vertices),
        replace(head, material_index=materials),
        replace(head, landmarks=landmarks),
    ):
        assert built_sha256(changed) != base


def test_posed_is_the_linear_blend(head):
    rng = np.random.default_rng(0)
    w = rng.uniform(0, 1, len(ARKIT_NAMES)).astype(np.float32)
    expect = head.vertices + np.einsum("k,kvi->vi", w, head.shape_deltas)
    np.testing.assert_allclose(head.posed(w), expect, atol=1e-6)
    with pytest.raises(ValueError):
        head.posed(np.zeros(3))


def test_bad_resolution_is_refused():
    with pytest.raises(ValueError, match="resolution"):
        build_demo_head(8)


def test_core_module_does_not_import_bpy():
    code = "import sys, expclip_blender.demo_head as m; m.build_demo_head(32); print('bpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
