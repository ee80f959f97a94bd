"""A stylised human head with all 52 ARKit shape keys, built from code (numpy only, never bpy).

The demo head lets tests, benchmarks and the "Add Demo Head" operator run without any asset from outside
the project. It is built procedurally, so any resolution can be made (about 6,300 vertices by default,
25,000+ for performance work) and every shape key is computed for the mesh at hand, not read from a table.

Conventions (Blender's): metres, Z up, the face looks toward -Y, the character's LEFT is +X (so ARKit's
"...Left" keys act on the +X side). The head (crown to chin) is about 0.22 m tall, with a short neck stub.

How it is made:

* The skin is a latitude/longitude grid around a point inside the head (rows run along Z, so the mouth line
  and the eye lines are grid rows). Every grid direction is ray-cast onto a smooth signed-distance sculpt
  (smooth union of ellipsoids, capsules and spheres), outermost hit, so the surface is exactly what the
  sculpt says and the topology is a clean quad grid at any resolution.
* The mouth line and the two eye lines are *cut*: vertices along them are duplicated, so the lips can part
  and the lids can open. Each eye opening is given its almond shape by warping the grid rows apart; a thin
  lid-margin strip tucks the lid edge in onto the eyeball. Behind the lips a closed mouth bag (lip lining,
  teeth band, dark throat) hangs off the mouth opening.
* Eyeballs (sclera, iris, pupil) and a tongue are separate closed shells in the same mesh.
* Shape keys are smooth displacement fields (compact polynomial falloffs) on the rest positions, with
  rotations where anatomy rotates (jaw about its hinge, lids and eyeballs about the eye centre). Right keys
  are the exact mirror images of Left keys: each is computed by the same function with the side sign flipped.

Faces are polygons given as ``face_indices`` (flat, int32) and ``face_sizes`` (3 or 4 per face), the
layout Blender's ``polygons.foreach_set`` wants (loop starts are the cumulative sum of the sizes).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from .arkit import ARKIT_INDEX, ARKIT_NAMES, NUM_ARKIT
from .curves import smoothstep

# Material slots, by index into this tuple (``DemoHead.material_index``).
MATERIAL_NAMES: tuple[str, ...] = (
    "skin", "lips", "mouth", "teeth", "tongue", "sclera", "iris", "pupil", "brow", "lash",
)  # fmt: skip
MAT = {name: i for i, name in enumerate(MATERIAL_NAMES)}

# Vertex parts (``DemoHead.vertex_part``).
PART_SKIN, PART_LID_MARGIN, PART_MOUTH, PART_EYE_LEFT, PART_EYE_RIGHT, PART_TONGUE = range(6)
PART_NAMES: tuple[str, ...] = ("skin", "lid_margin", "mouth", "eye_left", "eye_right", "tongue")

DEFAULT_RESOLUTION = 88  # grid segments around the head: about 6,300 vertices
BENCHMARK_RESOLUTION = 180  # about 25,500 vertices, for performance work

# --- Sculpt landmarks (metres). Everything is symmetric in X; "left" features are given on +X. ---
_ORIGIN = np.array([0.0, 0.0, -0.005])  # centre of the ray cast: inside the head, sees all the surface
EYE_CENTRE = np.array([0.032, -0.0695, 0.019])  # left eye; the right eye mirrors it
EYE_RADIUS = 0.0128
_LID = 0.0016  # lid thickness over the eyeball
_EYE_INNER = np.array([0.0180, -0.081, 0.0185])  # inner corner (canthus) direction target
_EYE_OUTER = np.array([0.0465, -0.073, 0.0195])  # outer corner
MOUTH_CORNER_X = 0.0235
_SEAM_FRONT = np.array([0.0, -0.0905, -0.0505])  # where the lips meet, at the midline
JAW_HINGE = np.array([0.0, 0.004, -0.010])  # temporomandibular joint axis (along X) passes here
_ARCH = 14.0  # lips and teeth follow the dental arch: y grows by _ARCH * x**2 towards the corners

# Shape-key magnitudes (full weight 1.0).
_JAW_OPEN_DEG = 19.0
_TONGUE_JAW_DEG = 8.0


@dataclass(frozen=True, eq=False)  # arrays inside: identity, not element-wise ==
class DemoHead:
    """A procedural head mesh with its 52 ARKit shape keys.

    vertices: (V, 3) float32 rest positions (metres, Z up, face toward -Y, character's left on +X).
    face_indices: flat int32 vertex indices of all faces, in order; face_sizes: (F,) int32, 3 or 4.
    shape_deltas: (52, V, 3) float32 offsets from ``vertices`` at full weight, in ``ARKIT_NAMES`` order.
    material_index: (F,) int32 index into ``MATERIAL_NAMES``.
    vertex_part: (V,) int8 one of the ``PART_*`` constants (skin, lid margin, mouth bag, eyes, tongue).
    mirror_index: (V,) int32, the vertex at the X-mirrored position (an involution).
    landmarks: vertex index of named points: ``upper_lip`` / ``lower_lip`` (the two lip-edge vertices at
        the midline, coincident at rest), ``mouth_corner_left/right``, ``upper_lid_left/right`` /
        ``lower_lid_left/right`` (lid edges at the middle of each eye), ``pupil_left/right``, ``chin``,
        ``nose_tip``, ``tongue_tip``.
    """

    vertices: np.ndarray
    face_indices: np.ndarray
    face_sizes: np.ndarray
    shape_deltas: np.ndarray
    material_index: np.ndarray
    vertex_part: np.ndarray
    mirror_index: np.ndarray
    landmarks: dict[str, int]

    @property
    def num_vertices(self) -> int:
        return int(self.vertices.shape[0])

    @property
    def num_faces(self) -> int:
        return int(self.face_sizes.shape[0])

    @property
    def loop_starts(self) -> np.ndarray:
        """(F,) int32 index into ``face_indices`` where each face starts."""
        starts = np.zeros(self.num_faces, dtype=np.int32)
        np.cumsum(self.face_sizes[:-1], out=starts[1:])
        return starts

    def faces(self) -> list[np.ndarray]:
        """Faces as a list of index arrays (convenient, slow for big meshes)."""
        return np.split(self.face_indices, np.cumsum(self.face_sizes)[:-1])

    def delta(self, name: str) -> np.ndarray:
        """(V, 3) offsets of one ARKit shape key by name."""
        return self.shape_deltas[ARKIT_INDEX[name]]

    def posed(self, weights: np.ndarray) -> np.ndarray:
        """(V, 3) positions for 52 ARKit weights (linear blend, as Blender's relative shape keys)."""
        w = np.asarray(weights, dtype=np.float32).reshape(NUM_ARKIT)
        return self.vertices + np.tensordot(w, self.shape_deltas, axes=1)


# ----------------------------------------------------------------------------------------------------
# Small numeric helpers


def _smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    return smoothstep((x - e0) / (e1 - e0))


def _falloff(p: np.ndarray, centre, radii) -> np.ndarray:
    """Compact C2 bump: 1 at ``centre``, 0 outside the ellipsoid with semi-axes ``radii``."""
    q = (p - np.asarray(centre)) / np.asarray(radii)
    r2 = np.einsum("ij,ij->i", q, q)
    return np.clip(1.0 - r2, 0.0, 1.0) ** 3


def _norm(a: np.ndarray) -> np.ndarray:
    return np.sqrt(np.einsum("...i,...i->...", a, a))


def _rotate_x(p: np.ndarray, centre: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotate points about the X axis through ``centre`` by ``angle`` (radians, per point).

    A positive angle turns a point in front of the centre (-Y) downward.
    """
    q = p - centre
    c, s = np.cos(angle), np.sin(angle)
    out = q.copy()
    out[:, 1] = q[:, 1] * c - q[:, 2] * s
    out[:, 2] = q[:, 1] * s + q[:, 2] * c
    return np.where(np.broadcast_to(angle, len(p))[:, None] != 0.0, out + centre, p)  # exact where still


def _rotate_z(p: np.ndarray, centre: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotate about the Z axis through ``centre``; a positive angle turns a point in front toward +X."""
    q = p - centre
    c, s = np.cos(angle), np.sin(angle)
    out = q.copy()
    out[:, 0] = q[:, 0] * c - q[:, 1] * s
    out[:, 1] = q[:, 0] * s + q[:, 1] * c
    return np.where(np.broadcast_to(angle, len(p))[:, None] != 0.0, out + centre, p)


def _mirror_x(p: np.ndarray) -> np.ndarray:
    return p * np.array([-1.0, 1.0, 1.0])


# ----------------------------------------------------------------------------------------------------
# The sculpt: a signed distance field (negative inside)


def _sd_ellipsoid(x, y, z, c, r) -> np.ndarray:
    # Quilez's bound-corrected approximation: exact on the surface, good enough for ray casting.
    qx, qy, qz = (x - c[0]) / r[0], (y - c[1]) / r[1], (z - c[2]) / r[2]
    k0 = np.sqrt(qx * qx + qy * qy + qz * qz)
    k1 = np.sqrt((qx / r[0]) ** 2 + (qy / r[1]) ** 2 + (qz / r[2]) ** 2)
    return k0 * (k0 - 1.0) / np.maximum(k1, 1e-12)


def _sd_sphere(x, y, z, c, r: float) -> np.ndarray:
    return np.sqrt((x - c[0]) ** 2 + (y - c[1]) ** 2 + (z - c[2]) ** 2) - r


def _sd_capsule(x, y, z, a, b, r: float) -> np.ndarray:
    bx, by, bz = b[0] - a[0], b[1] - a[1], b[2] - a[2]
    px, py, pz = x - a[0], y - a[1], z - a[2]
    h = np.clip((px * bx + py * by + pz * bz) / (bx * bx + by * by + bz * bz), 0.0, 1.0)
    return np.sqrt((px - h * bx) ** 2 + (py - h * by) ** 2 + (pz - h * bz) ** 2) - r


def _smin(a: np.ndarray, b: np.ndarray, k: float) -> np.ndarray:
    h = np.maximum(k - np.abs(a - b), 0.0) / k
    return np.minimum(a, b) - h * h * k * 0.25


def _ssub(a: np.ndarray, b: np.ndarray, k: float) -> np.ndarray:
    """Smoothly carve ``b`` out of ``a``."""
    return -_smin(-a, b, k)


def _head_sdf(p: np.ndarray) -> np.ndarray:
    """Signed distance (approximately, metres; negative inside) to the stylised head sculpt."""
    x, y, z = p[:, 0], p[:, 1], p[:, 2]
    # Paired features are modelled on +X and evaluated at a smoothed |x|: symmetric, no crease at x = 0.
    ax = np.sqrt(x * x + 0.003**2)
    # Big masses: cranium, mid-face, a jaw that narrows toward the chin, neck.
    d = _sd_ellipsoid(x, y, z, (0.0, 0.012, 0.028), (0.0735, 0.097, 0.090))
    d = _smin(d, _sd_ellipsoid(x, y, z, (0.0, -0.026, -0.014), (0.061, 0.066, 0.058)), 0.02)
    taper = np.clip(0.76 + 0.24 * (z + 0.095) / 0.07, 0.76, 1.0)
    d = _smin(d, _sd_ellipsoid(x / taper, y, z, (0.0, -0.024, -0.058), (0.060, 0.056, 0.042)) * taper, 0.016)
    d = _smin(d, _sd_capsule(x, y, z, (0.0, 0.024, -0.045), (0.0, 0.030, -0.170), 0.049), 0.012)
    d = -_smin(-d, z + 0.158, 0.014)  # the neck ends in a flat cut
    # Ears: simple flattened shells on the sides.
    d = _smin(d, _sd_ellipsoid(ax, y, z, (0.0715, 0.018, 0.003), (0.012, 0.016, 0.028)), 0.010)
    # Brow ridge, cheekbones, eye sockets with the lids over the eyeballs.
    e = EYE_CENTRE
    d = _smin(d, _sd_ellipsoid(ax, y, z, (0.027, -0.071, e[2] + 0.019), (0.025, 0.0135, 0.009)), 0.014)
    d = _smin(d, _sd_ellipsoid(ax, y, z, (0.040, -0.064, e[2] - 0.025), (0.020, 0.018, 0.015)), 0.016)
    d = _ssub(d, _sd_ellipsoid(ax, y, z, (e[0] + 0.001, e[1] - 0.016, e[2]), (0.0175, 0.016, 0.0150)), 0.008)
    d = _smin(d, _sd_sphere(ax, y, z, e, EYE_RADIUS + _LID), 0.004)
    # Nose: bridge, tip, wings.
    d = _smin(d, _sd_capsule(x, y, z, (0.0, -0.080, 0.016), (0.0, -0.1025, -0.013), 0.0058), 0.010)
    d = _smin(d, _sd_sphere(x, y, z, (0.0, -0.1015, -0.0170), 0.0088), 0.006)
    d = _smin(d, _sd_sphere(ax, y, z, (0.0112, -0.0915, -0.0225), 0.0064), 0.005)
    # Muzzle, lips (bent along the dental arch), the mouth-line crease, chin.
    d = _smin(d, _sd_ellipsoid(x, y, z, (0.0, -0.066, -0.052), (0.034, 0.024, 0.032)), 0.02)
    ya = y - _ARCH * x * x
    d = _smin(d, _sd_ellipsoid(x, ya, z, (0.0, -0.0885, -0.0450), (0.0225, 0.0060, 0.0056)), 0.005)
    d = _smin(d, _sd_ellipsoid(x, ya, z, (0.0, -0.0868, -0.0563), (0.0205, 0.0068, 0.0062)), 0.005)
    d = _ssub(d, _sd_ellipsoid(x, ya, z, (0.0, -0.098, _SEAM_FRONT[2]), (0.0245, 0.0105, 0.0011)), 0.0016)
    d = _smin(d, _sd_ellipsoid(x, y, z, (0.0, -0.073, -0.087), (0.023, 0.013, 0.0145)), 0.016)
    # Cheeks: soft fullness between the cheekbones and the jaw.
    d = _smin(d, _sd_ellipsoid(ax, y, z, (0.038, -0.056, -0.030), (0.022, 0.024, 0.022)), 0.02)
    return d


def _ray_cast(dirs: np.ndarray, t_far: float = 0.25) -> np.ndarray:
    """Distance along each ray from ``_ORIGIN`` to the OUTERMOST surface crossing of the sculpt.

    Sphere-traces inward from outside (steps a little shorter than the distance bound, so no solid part is
    skipped), then bisects the last outside/inside bracket.
    """
    n = dirs.shape[0]
    t = np.full(n, t_far)  # current sample (outside until a hit)
    t_prev = np.full(n, t_far)  # last sample known to be outside
    active = np.arange(n)
    for _ in range(300):
        d = _head_sdf(_ORIGIN + t[active, None] * dirs[active])
        miss = d >= 0.0
        keep = active[miss]
        t_prev[keep] = t[keep]
        # A little past the distance bound: fewer steps near the surface; the bisection below brackets
        # the crossing anyway, and no part of the sculpt is thinner than a millimetre.
        t[keep] -= 0.9 * d[miss] + 0.0004
        active = keep
        if active.size == 0:
            break
    if active.size:
        raise RuntimeError("demo head: ray cast did not converge")
    lo, hi = t, t_prev
    for _ in range(15):  # bisection to well below a micrometre
        mid = 0.5 * (lo + hi)
        inside = _head_sdf(_ORIGIN + mid[:, None] * dirs) < 0.0
        lo = np.where(inside, mid, lo)
        hi = np.where(inside, hi, mid)
    return 0.5 * (lo + hi)


def _direction(lam: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """Unit direction for longitude ``lam`` (0 = front, +X positive) and latitude ``phi`` (+Z positive)."""
    cp = np.cos(phi)
    return np.stack([np.sin(lam) * cp, -np.cos(lam) * cp, np.sin(phi)], axis=-1)


def _angles_of(p: np.ndarray) -> tuple[float, float]:
    q = p - _ORIGIN
    return float(np.arctan2(q[0], -q[1])), float(np.arctan2(q[2], np.hypot(q[0], q[1])))


def _latitude_hitting(z: float) -> float:
    """Latitude of the midline ray whose surface hit lies at height ``z`` (two batched searches; the
    search range is the mouth's, where the hit height grows with the latitude)."""
    lo, hi = -0.75, -0.2
    for _ in range(3):
        phis = np.linspace(lo, hi, 49)
        d = _direction(np.zeros_like(phis), phis)
        hit_z = (_ORIGIN + _ray_cast(d)[:, None] * d)[:, 2]
        k = int(np.clip(np.searchsorted(hit_z, z), 1, len(phis) - 1))  # hit height grows with latitude
        lo, hi = phis[k - 1], phis[k]
    t = (z - hit_z[k - 1]) / (hit_z[k] - hit_z[k - 1]) if hit_z[k] != hit_z[k - 1] else 0.5
    return float(lo + t * (hi - lo))


def _spaced(n: int, lo: float, hi: float, density) -> np.ndarray:
    """``n + 1`` values from lo to hi whose spacing is inversely proportional to ``density``."""
    t = np.linspace(lo, hi, 4097)
    rho = density(t)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (rho[1:] + rho[:-1]) * np.diff(t))])
    return np.interp(np.linspace(0.0, 1.0, n + 1), cdf / cdf[-1], t)


def _remap(x: np.ndarray, src: list[np.ndarray], dst: list[np.ndarray], blend: np.ndarray) -> np.ndarray:
    """Per-element piecewise-linear map through (src[k], dst[k]) (increasing; identity outside the first
    and last anchor), blended with the identity by ``blend`` in [0, 1]. Monotone if the anchors are."""
    out = x.copy()
    for k in range(len(src) - 1):
        s0, s1, d0, d1 = src[k], src[k + 1], dst[k], dst[k + 1]
        m = (x >= s0) & (x < s1)
        out = np.where(m, d0 + (x - s0) * (d1 - d0) / np.where(m, s1 - s0, 1.0), out)
    return x + blend * (out - x)


# ----------------------------------------------------------------------------------------------------
# Mesh construction


@dataclass
class _Rig:
    """What the shape-key fields need to know about each vertex (internal)."""

    v: np.ndarray  # (V, 3) float64 rest positions
    part: np.ndarray  # (V,) int8 PART_*
    lam: np.ndarray  # (V,) grid longitude of skin and lid-margin vertices (0 elsewhere)
    phi: np.ndarray  # (V,) grid latitude before the eye warp (0 elsewhere)
    mouth_up: np.ndarray  # (V,) bool: above the mouth line (upper lip side, upper half of the mouth bag)
    eye_up: np.ndarray  # (V,) bool: above the eye lines (upper lids)
    anchor: np.ndarray  # (V,) int: the edge vertex a lid-margin or mouth-bag vertex hangs from (else self)
    depth: np.ndarray  # (V,) float: mouth-bag depth, 0 at the lips to 1 at the throat (0 elsewhere)
    seam_z: float  # height of the mouth line at the midline
    corner_x: float  # |x| of the mouth corners
    mouth_upper_edge: np.ndarray  # ids, corner to corner, excluding corners (upper lip edge)
    mouth_lower_edge: np.ndarray  # lower twins of the same, same order
    mouth_corners: tuple[int, int]  # (+X corner, -X corner)
    eye_edges: dict  # side (+1/-1) -> (upper edge ids, lower edge ids), same columns, corners excluded
    eye_corners: dict  # side -> (inner corner id, outer corner id)
    phi_eye: float  # latitude of the eye lines before the warp


class _MeshBuilder:
    """Collects vertices, faces, materials and the mirror map part by part."""

    def __init__(self) -> None:
        self.pos: list[np.ndarray] = []
        self.meta: list[dict] = []
        self.quads: list[np.ndarray] = []
        self.quad_mat: list[np.ndarray] = []
        self.tris: list[np.ndarray] = []
        self.tri_mat: list[np.ndarray] = []
        self.n = 0

    def add(self, p: np.ndarray, part: int, **meta) -> np.ndarray:
        ids = np.arange(self.n, self.n + len(p))
        self.n += len(p)
        self.pos.append(np.asarray(p, float))
        self.meta.append({"part": part, "ids": ids, **meta})
        return ids

    def faces(self, f: np.ndarray, mat) -> None:
        f = np.asarray(f)
        mats = np.broadcast_to(np.asarray(mat), (len(f),)).copy()
        (self.quads if f.shape[1] == 4 else self.tris).append(f)
        (self.quad_mat if f.shape[1] == 4 else self.tri_mat).append(mats)


def _uv_sphere(n_seg: int, polar: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Unit sphere around the -Y axis: front pole, rings at ``polar`` angles, back pole.

    Returns positions, triangles (front fan then back fan), quads (ring by ring), and the mirror (x -> -x)
    permutation of the vertices. Faces wind counter-clockwise seen from outside. ``n_seg`` must be even.
    """
    az = np.linspace(0.0, 2.0 * np.pi, n_seg, endpoint=False)
    a, b = np.meshgrid(polar, az, indexing="ij")
    ring = np.stack([np.sin(a) * np.cos(b), -np.cos(a), np.sin(a) * np.sin(b)], axis=-1).reshape(-1, 3)
    pts = np.concatenate([[[0.0, -1.0, 0.0]], ring, [[0.0, 1.0, 0.0]]])
    nr = len(polar)
    rid = 1 + np.arange(nr * n_seg).reshape(nr, n_seg)
    nxt = np.roll(np.arange(n_seg), -1)
    back = 1 + nr * n_seg
    tris = np.concatenate(
        [
            np.stack([np.zeros(n_seg, int), rid[0], rid[0, nxt]], axis=1),
            np.stack([np.full(n_seg, back), rid[-1, nxt], rid[-1]], axis=1),
        ]
    )
    quads = np.concatenate(
        [np.stack([rid[r], rid[r + 1], rid[r + 1, nxt], rid[r, nxt]], axis=1) for r in range(nr - 1)]
    )
    mseg = (n_seg // 2 - np.arange(n_seg)) % n_seg  # azimuth b -> pi - b mirrors x
    mirror = np.concatenate([[0], rid[:, mseg].ravel(), [back]])
    return pts, tris, quads, mirror


def _has_directed_edge(faces: np.ndarray, a: int, b: int) -> bool:
    rolled = np.roll(faces, -1, axis=1)
    return bool(np.any((faces == a) & (rolled == b)))


def _loop_strips(loops: list[np.ndarray], skin_faces: np.ndarray) -> np.ndarray:
    """Quads joining consecutive closed loops, wound consistently with the skin around ``loops[0]``."""
    quads = np.concatenate(
        [np.stack([a, b, np.roll(b, -1), np.roll(a, -1)], axis=1) for a, b in itertools.pairwise(loops)]
    )
    # The skin already uses the edge loops[0][0] -> loops[0][1] in one direction; use it in the other.
    if _has_directed_edge(quads, loops[0][0], loops[0][1]) == _has_directed_edge(
        skin_faces, loops[0][0], loops[0][1]
    ):
        quads = quads[:, ::-1]
    return quads


@dataclass
class _Grid:
    """Where the skin grid's columns and rows lie, which of them the features snap to, and the row ids."""

    n_half: int  # columns from the front to the back on one side (the grid has 2 * n_half columns)
    n_lon: int  # columns all around
    n_lat: int  # rows, poles excluded
    half: np.ndarray  # (n_half + 1,) longitudes of columns 0..n_half (front to back on the +X side)
    lam_col: np.ndarray  # (n_lon,) longitude of every column
    phi_row: np.ndarray  # (n_lat,) latitude of every row before the warps, row 0 at the top
    phi_mouth: float  # latitude of the mouth line
    phi_eye: float  # latitude of the eye lines
    j_m: int  # the mouth-line row
    j_e: int  # the eye-line row
    c_mouth: int  # the mouth-corner column
    c_in: int  # the inner eye-corner column
    c_out: int  # the outer eye-corner column
    ring_id: np.ndarray  # (n_lat, n_lon) vertex ids of the rows
    bottom: int  # vertex id of the bottom pole


@dataclass
class _SkinVertices:
    """Per-vertex grid data of the skin (the lower twins of the cut rows last) and how the cuts are made."""

    lam: np.ndarray  # longitude
    phi: np.ndarray  # latitude before the warps
    row: np.ndarray  # grid row (-1 the top pole, n_lat the bottom pole)
    mirror: np.ndarray  # the X-mirrored vertex
    mouth_up: np.ndarray  # bool: above the mouth line
    eye_up: np.ndarray  # bool: above the eye lines
    band_top: np.ndarray  # (n_lat, n_lon) ids of row j as the faces between rows j and j+1 see them
    twin_of: np.ndarray  # the lower twin of each cut vertex (-1 elsewhere)
    m_cols: np.ndarray  # columns of the mouth line between its corners
    e_cols: dict[int, np.ndarray]  # side (+1/-1) -> columns of that eye line between its corners


@dataclass
class _Brow:
    """The grid rows the eyebrow lies between, and the longitudes it spans."""

    j_b: int  # the row along the brow's lower edge
    k_b: int  # rows from its lower to its upper edge
    lam_lo: float
    lam_hi: float


@dataclass
class _Mouth:
    """The mouth opening's vertices, as the rig needs them."""

    upper_edge: np.ndarray  # upper lip-edge ids, corner to corner, corners excluded
    lower_edge: np.ndarray  # their lower twins, same order
    corners: tuple[int, int]  # (+X corner, -X corner)
    corner_x: float  # |x| of the corners
    seam_z: float  # height of the mouth line at the midline


def _build(resolution: int) -> tuple[_Rig, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The rest mesh: rig info, flat face indices, face sizes, material per face, mirror map."""
    grid = _grid(resolution)
    sv = _skin_vertices(grid)
    phi_w = _eye_warp(grid, sv.lam, sv.phi, sv.eye_up)
    phi_w, lip_rows = _warp_lips(grid, sv, phi_w)
    phi_w, brow = _warp_brow(grid, sv, phi_w)
    dirs = _direction(sv.lam, phi_w)
    skin = _ORIGIN + _ray_cast(dirs)[:, None] * dirs

    mb = _MeshBuilder()
    skin_quads = _add_skin(mb, grid, sv, skin)
    _add_lid_margins(mb, grid, sv, skin, skin_quads)
    mouth = _add_mouth_bag(mb, grid, sv, skin, skin_quads)
    _add_eyeballs(mb, grid.n_half)
    _add_tongue(mb, grid.n_half, mouth.seam_z)

    rig, mirror = _rig(mb, grid, sv, mouth)
    quads = np.concatenate(mb.quads)
    tris = np.concatenate(mb.tris)
    quad_mat = np.concatenate(mb.quad_mat)
    tri_mat = np.concatenate(mb.tri_mat)
    quad_mat[: len(skin_quads)] = _skin_materials(grid, len(skin_quads), lip_rows, brow)
    face_indices = np.concatenate([quads.ravel(), tris.ravel()]).astype(np.int32)
    face_sizes = np.concatenate([np.full(len(quads), 4), np.full(len(tris), 3)]).astype(np.int32)
    materials = np.concatenate([quad_mat, tri_mat]).astype(np.int32)
    return rig, face_indices, face_sizes, materials, mirror.astype(np.int32)


def _grid(resolution: int) -> _Grid:
    """Lay out the grid: columns and rows denser over the face, with the rows and columns that the mouth
    line, the eye lines, the mouth corners and the eye corners fall on."""
    n_half = max(12, int(resolution) // 2)
    n_lon = 2 * n_half
    n_lat = max(18, round(n_half * 1.4))

    # Longitudes: symmetric about the front (column c mirrors column n_lon - c), denser over the face.
    half = _spaced(n_half, 0.0, np.pi, lambda t: 0.28 + np.exp(-((t / 0.8) ** 2)))
    lam_col = np.concatenate([half, -half[n_half - 1 : 0 : -1]])
    # Latitudes (poles excluded), denser over the face; the mouth and eye rows are snapped onto their lines.
    lat = _spaced(n_lat + 1, -np.pi / 2, np.pi / 2, lambda t: 0.3 + np.exp(-(((t + 0.08) / 0.62) ** 2)))[1:-1]
    _, phi_eye = _angles_of(EYE_CENTRE - np.array([0.0, EYE_RADIUS + _LID, 0.0]))
    phi_mouth = _latitude_hitting(_SEAM_FRONT[2])
    jm, je = np.abs(lat - phi_mouth).argmin(), np.abs(lat - phi_eye).argmin()
    lat = np.interp(
        lat, [-np.pi / 2, lat[jm], lat[je], np.pi / 2], [-np.pi / 2, phi_mouth, phi_eye, np.pi / 2]
    )
    c_in = _column_near(half, _EYE_INNER)
    return _Grid(
        n_half=n_half,
        n_lon=n_lon,
        n_lat=n_lat,
        half=half,
        lam_col=lam_col,
        phi_row=lat[::-1],  # row 0 at the top
        phi_mouth=phi_mouth,
        phi_eye=phi_eye,
        j_m=n_lat - 1 - jm,
        j_e=n_lat - 1 - je,
        c_mouth=max(2, int(np.abs(half - _mouth_corner_longitude(phi_mouth)).argmin())),
        c_in=c_in,
        c_out=max(_column_near(half, _EYE_OUTER), c_in + 3),
        ring_id=1 + np.arange(n_lat * n_lon).reshape(n_lat, n_lon),
        bottom=1 + n_lat * n_lon,
    )


def _column_near(half: np.ndarray, p: np.ndarray) -> int:
    """The column (0..n_half) whose longitude is nearest that of point ``p``."""
    return int(np.abs(half - _angles_of(p)[0]).argmin())


def _mouth_corner_longitude(phi_mouth: float) -> float:
    """The longitude whose ray hits the mouth line at x = MOUTH_CORNER_X (three secant steps)."""
    lam_corner = 0.25
    for _ in range(3):
        d = _direction(np.array([lam_corner]), np.array([phi_mouth]))
        x_hit = float((_ORIGIN + _ray_cast(d)[:, None] * d)[0, 0])
        lam_corner *= MOUTH_CORNER_X / x_hit
    return lam_corner


def _skin_vertices(g: _Grid) -> _SkinVertices:
    """The skin grid's vertices: top pole, rows, bottom pole; then the lower twins of the cut rows (the
    mouth line and each eye line between their corners), which the faces below the cuts use instead."""
    n_lat, n_lon, ring_id = g.n_lat, g.n_lon, g.ring_id
    row = np.concatenate([[-1], np.repeat(np.arange(n_lat), n_lon), [n_lat]])
    lam = np.concatenate([[0.0], np.tile(g.lam_col, n_lat), [0.0]])
    phi = np.concatenate([[np.pi / 2], np.repeat(g.phi_row, n_lon), [-np.pi / 2]])
    mirror = np.concatenate([[0], ring_id[:, (n_lon - np.arange(n_lon)) % n_lon].ravel(), [g.bottom]])
    mouth_up, eye_up = row <= g.j_m, row <= g.j_e

    band_top = ring_id.copy()
    m_cols = np.arange(-g.c_mouth + 1, g.c_mouth) % n_lon
    e_cols = {s: (s * np.arange(g.c_in + 1, g.c_out)) % n_lon for s in (1, -1)}
    cuts = [(g.j_m, m_cols)] + [(g.j_e, e_cols[s]) for s in (1, -1)]
    src = np.concatenate([ring_id[r, c] for r, c in cuts])
    twin = len(row) + np.arange(len(src))
    for (r, c), ids in zip(cuts, np.split(twin, np.cumsum([len(c) for _, c in cuts])[:-1]), strict=True):
        band_top[r, c] = ids
    twin_of = np.full(len(row), -1)
    twin_of[src] = twin
    lam, phi, row = (
        np.concatenate([lam, lam[src]]),
        np.concatenate([phi, phi[src]]),
        np.concatenate([row, row[src]]),
    )
    return _SkinVertices(
        lam=lam,
        phi=phi,
        row=row,
        mirror=np.concatenate([mirror, twin_of[mirror[src]]]),
        mouth_up=np.concatenate([mouth_up, mouth_up[src] & (row[src] != g.j_m)]),
        eye_up=np.concatenate([eye_up, eye_up[src] & (row[src] != g.j_e)]),
        band_top=band_top,
        twin_of=twin_of,
        m_cols=m_cols,
        e_cols=e_cols,
    )


# The grid rows are re-spaced (latitudes warped, monotonically, before the ray cast) so that grid rows
# follow the eye openings, the vermilion border of the lips and the outline of the eyebrows: those
# outlines are then clean at any resolution.


def _eye_warp(g: _Grid, lm: np.ndarray, ph: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Open each eye line into an almond: upper side up, lower side down, fading over a few rows."""
    lam_in, lam_out = g.half[g.c_in], g.half[g.c_out]
    t = (np.abs(lm) - 0.5 * (lam_in + lam_out)) / (0.5 * (lam_out - lam_in))
    inside = np.abs(t) < 1.0
    t_up = np.clip(t + 0.22 * (1.0 - t * t), -1.0, 1.0)  # the upper lid peaks toward the nose
    t_lo = np.clip(t - 0.18 * (1.0 - t * t), -1.0, 1.0)  # the lower lid dips toward the ear
    h_up = np.where(inside, 0.074 * np.clip(1.0 - t_up**2, 0, 1) ** 0.6, 0.0)
    h_lo = np.where(inside, 0.050 * np.clip(1.0 - t_lo**2, 0, 1) ** 0.6, 0.0)
    dp = ph - g.phi_eye
    return ph + np.where(
        up,
        h_up * (1.0 - _smoothstep(0.0, 0.17, dp)) * (dp >= 0),
        -h_lo * (1.0 - _smoothstep(0.0, 0.125, -dp)) * (dp <= 0),
    )


def _warp_lips(g: _Grid, sv: _SkinVertices, phi_w: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """Move the k-th row above (below) the mouth line onto the vermilion border, with a cupid's bow.

    Returns the warped latitudes and (k above, k below): the lips are the rows in between.
    """
    lam, phi_row, j_m, phi_mouth = sv.lam, g.phi_row, g.j_m, g.phi_mouth
    rho = float(np.hypot(*(_SEAM_FRONT - _ORIGIN)[:2]))  # metres per radian of latitude near the lips
    spacing = phi_row[j_m - 1] - phi_row[j_m]
    k_u = max(2, round(0.0070 / rho / spacing))
    k_l = max(2, round(0.0086 / rho / spacing))
    lam_c = g.half[g.c_mouth]
    xm = rho * np.sin(np.minimum(np.abs(lam), np.pi / 2))
    xr = np.clip(np.abs(lam) / lam_c, 0.0, 1.0)
    bow = 1.0 + 0.25 * np.exp(-(((xm - 0.0055) / 0.0035) ** 2)) - 0.14 * np.exp(-((xm / 0.0025) ** 2))
    blend = 1.0 - _smoothstep(lam_c, lam_c + 0.12, np.abs(lam))
    for side, k, height in ((1, k_u, 0.0070 * bow), (-1, k_l, 0.0086 * np.ones_like(lam))):
        edge = side * (phi_row[j_m - side * k] - phi_mouth)  # unwarped distance of the k-th row
        target = (0.3 + 0.7 * np.clip(1.0 - xr**2, 0.0, 1.0) ** 0.55) * height / rho
        mine = sv.mouth_up if side > 0 else ~sv.mouth_up
        zero = np.full_like(lam, phi_mouth)
        src = [zero, zero + side * edge, zero + side * 4 * edge]
        dst = [zero, zero + side * target, zero + side * 4 * edge]
        if side < 0:
            src, dst = src[::-1], dst[::-1]
        phi_w = np.where(mine, _remap(phi_w, src, dst, blend), phi_w)
    return phi_w, (k_u, k_l)


def _warp_brow(g: _Grid, sv: _SkinVertices, phi_w: np.ndarray) -> tuple[np.ndarray, _Brow]:
    """Move two rows onto the lower and upper edge of an arched brow, thick inside, thin outside."""
    lam, phi_row, n_lat = sv.lam, g.phi_row, g.n_lat
    sb = np.linspace(0.0, 1.0, 64)
    bx, by = 0.012 + 0.040 * sb, -0.084 + 0.028 * sb**2
    bz = EYE_CENTRE[2] + 0.0155 + 0.0075 * np.sin(np.pi * (0.15 + 0.75 * sb)) + 0.003 * sb
    brow_lam = np.arctan2(bx, -by)
    brow_phi = np.arctan2(bz - _ORIGIN[2], np.hypot(bx, by))
    brow_half = 0.5 * 0.0068 * (1.0 - 0.5 * sb) / np.hypot(bx, by)
    al = np.abs(lam)
    centre = np.interp(al, brow_lam, brow_phi)
    half_t = np.interp(al, brow_lam, brow_half)
    blend = 1.0 - _smoothstep(0.0, 0.08, np.maximum(brow_lam[0] - al, al - brow_lam[-1]))
    # The brow's lower edge picks its row a third of the way along the brow, with the rows as warped so far.
    row_phi_mid = _eye_warp(g, np.full(n_lat, brow_lam[20]), phi_row, np.ones(n_lat, bool))
    j_b = int(np.abs(row_phi_mid - (brow_phi[20] - brow_half[20])).argmin())
    spacing_b = row_phi_mid[j_b - 1] - row_phi_mid[j_b]
    k_b = max(1, round(2 * brow_half.mean() / spacing_b))
    m_b = int(np.ceil(0.075 / spacing_b)) + 1
    rows_b = [j_b + m_b, j_b, j_b - k_b, j_b - k_b - m_b]
    src = [_eye_warp(g, lam, np.full_like(lam, phi_row[r]), np.ones(len(lam), bool)) for r in rows_b]
    dst = [src[0], centre - half_t, centre + half_t, src[3]]
    dst[1] = np.clip(dst[1], src[0] + 0.3 * spacing_b, None)
    dst[2] = np.clip(dst[2], None, src[3] - 0.3 * spacing_b)
    in_brow_rows = (sv.row > rows_b[3]) & (sv.row < rows_b[0])
    phi_w = np.where(in_brow_rows, _remap(phi_w, src, dst, blend), phi_w)
    return phi_w, _Brow(j_b=j_b, k_b=k_b, lam_lo=brow_lam[0], lam_hi=brow_lam[-1])


def _add_skin(mb: _MeshBuilder, g: _Grid, sv: _SkinVertices, skin: np.ndarray) -> np.ndarray:
    """Add the skin vertices and faces (quads between rows, fans at the poles); returns the quads."""
    ring_id, n_lon = g.ring_id, g.n_lon
    mb.add(skin, PART_SKIN, lam=sv.lam, phi=sv.phi, mouth_up=sv.mouth_up, eye_up=sv.eye_up, mirror=sv.mirror)
    nxt = np.roll(np.arange(n_lon), -1)
    skin_quads = np.concatenate(
        [
            np.stack([sv.band_top[j], ring_id[j + 1], ring_id[j + 1, nxt], sv.band_top[j, nxt]], axis=1)
            for j in range(g.n_lat - 1)
        ]
    )
    skin_tris = np.concatenate(
        [
            np.stack([np.zeros(n_lon, int), ring_id[0], ring_id[0, nxt]], axis=1),
            np.stack([np.full(n_lon, g.bottom), ring_id[-1, nxt], ring_id[-1]], axis=1),
        ]
    )
    mb.faces(skin_quads, -1)  # -1: painted later from the face positions (_skin_materials)
    mb.faces(skin_tris, MAT["skin"])
    return skin_quads


def _add_lid_margins(
    mb: _MeshBuilder, g: _Grid, sv: _SkinVertices, skin: np.ndarray, skin_quads: np.ndarray
) -> None:
    """Add the lid margins: each eye opening's edge loop (corner, upper edge, corner, lower edge) tucks in
    onto the eyeball. The +X and -X loops list mirror-image vertices in the same order."""
    ring_id, n_lon, j_e = g.ring_id, g.n_lon, g.j_e
    margin = {}
    first = mb.n
    for s in (1, -1):
        loop = np.concatenate(
            [
                [ring_id[j_e, (s * g.c_in) % n_lon]],
                ring_id[j_e, sv.e_cols[s]],
                [ring_id[j_e, (s * g.c_out) % n_lon]],
                sv.twin_of[ring_id[j_e, sv.e_cols[s]]][::-1],
            ]
        )
        margin[s] = (loop, first + np.arange(len(loop)))
        first += len(loop)
    for s in (1, -1):
        loop, ids = margin[s]
        centre = EYE_CENTRE * (s, 1, 1)
        r = skin[loop] - centre
        inner = centre + (EYE_RADIUS - 0.0003) * r / _norm(r)[:, None]
        mb.add(
            inner,
            PART_LID_MARGIN,
            anchor=loop,
            mirror=margin[-s][1],
            lam=sv.lam[loop],
            phi=sv.phi[loop],
            eye_up=sv.eye_up[loop],
            mouth_up=np.ones(len(loop), bool),
        )
        mb.faces(_loop_strips([loop, ids], skin_quads), MAT["lash"])


# Ring profile of the mouth bag, (depth along the way to the throat, height above/below the mouth line) per
# side: the inner lip goes up (down) behind the lip, the front of the teeth comes back down to just past the
# mouth line (upper teeth overlap the lower ones a little), the biting edge goes back, then the cavity
# opens up toward the throat. Both sides shrink to nothing at the mouth corners.
_TEETH_PROFILE = {
    1: [(0.030, 0.0055), (0.050, -0.0028), (0.11, 0.0010)],
    -1: [(0.060, -0.0045), (0.080, -0.0006), (0.11, -0.0030)],
}


def _add_mouth_bag(
    mb: _MeshBuilder, g: _Grid, sv: _SkinVertices, skin: np.ndarray, skin_quads: np.ndarray
) -> _Mouth:
    """Add the mouth bag: rings hanging back from the lip edges to a throat point, lining -> teeth -> dark."""
    m_up = g.ring_id[g.j_m, sv.m_cols]
    m_lo = sv.twin_of[m_up]
    c_neg, c_pos = g.ring_id[g.j_m, (-g.c_mouth) % g.n_lon], g.ring_id[g.j_m, g.c_mouth]
    m_loop = np.concatenate([[c_neg], m_up, [c_pos], m_lo[::-1]])
    pos_in_loop = {int(vid): k for k, vid in enumerate(m_loop)}
    loop_mirror = np.array([pos_in_loop[int(sv.mirror[vid])] for vid in m_loop])
    sigma = np.concatenate([[0.0], np.ones(len(m_up)), [0.0], -np.ones(len(m_lo))])
    corner_x = float(skin[c_pos, 0])
    seam_z = float(skin[m_up[len(m_up) // 2], 2])
    p_back = np.array([0.0, -0.024, seam_z - 0.004])
    e = skin[m_loop]
    u = np.clip(e[:, 0] / corner_x, -1.0, 1.0)
    n_cavity = max(4, g.n_half // 9)
    cavity = np.linspace(0.11, 0.9, n_cavity + 1)[1:]
    shrink = (1.0 - u**2) ** 0.3
    rings = [m_loop]
    for k in range(3 + n_cavity):
        f, height = _mouth_ring_profile(k, sigma, shrink, cavity)
        p = e + f[:, None] * (p_back - e)
        p[:, 2] += height
        p[:, 0] += e[:, 0] * 0.55 * np.sin(np.pi * f)
        ids = mb.n + np.arange(len(p))
        mb.add(
            p,
            PART_MOUTH,
            anchor=m_loop,
            depth=f,
            mirror=ids[loop_mirror],
            mouth_up=sigma >= 0,
            lam=sv.lam[m_loop],
            phi=sv.phi[m_loop],
        )
        rings.append(ids)
    strips = _loop_strips(rings, skin_quads)
    mb.faces(strips, _mouth_ring_materials(len(strips), len(m_loop), u))
    _close_throat(mb, p_back, m_loop, rings[-1], strips)
    return _Mouth(
        upper_edge=m_up, lower_edge=m_lo, corners=(int(c_pos), int(c_neg)), corner_x=corner_x, seam_z=seam_z
    )


def _mouth_ring_profile(
    k: int, sigma: np.ndarray, shrink: np.ndarray, cavity: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Ring ``k`` of the mouth bag, per loop vertex: depth toward the throat (0..1) and height offset.

    ``sigma`` is +1 on the upper lip edge, -1 on the lower one, 0 at the corners; rings 0-2 follow the
    teeth profile, the rest open into the cavity at the depths ``cavity``.
    """
    if k < 3:
        f_up, h_up = _TEETH_PROFILE[1][k]
        f_lo, h_lo = _TEETH_PROFILE[-1][k]
        f = np.where(sigma > 0, f_up, np.where(sigma < 0, f_lo, 0.5 * (f_up + f_lo)))
        height = np.where(sigma > 0, h_up, np.where(sigma < 0, h_lo, 0.0)) * shrink
    else:
        fc = cavity[k - 3]
        f = np.full(len(sigma), fc)
        open_up = np.sin(np.pi * np.clip((fc - 0.06) / 0.94, 0.0, 1.0) ** 0.7)
        height = sigma * np.where(sigma > 0, 0.0110, 0.0165) * open_up * shrink
        height += np.where(sigma > 0, 0.0010, -0.0030) * (1.0 - open_up) * shrink
    return f, height


def _mouth_ring_materials(n_strips: int, n_seg_loop: int, u: np.ndarray) -> np.ndarray:
    """Materials of the mouth-bag strips: lips on the first ring, teeth on the next two (not into the
    corners; ``u`` is each loop vertex's x over the corner's), mouth lining elsewhere."""
    ring_mat = np.full(n_strips, MAT["mouth"])
    ring_mat[:n_seg_loop] = MAT["lips"]  # the inner side of the lips
    front_teeth = np.flatnonzero(np.abs(np.roll(u, -1) + u) < 1.7)
    ring_mat[n_seg_loop + front_teeth] = MAT["teeth"]
    ring_mat[2 * n_seg_loop + front_teeth] = MAT["teeth"]
    return ring_mat


def _close_throat(
    mb: _MeshBuilder, p_back: np.ndarray, m_loop: np.ndarray, last: np.ndarray, strips: np.ndarray
) -> None:
    """Close the mouth bag's last ring with a fan to a throat point, wound like the strips."""
    throat = mb.add(
        p_back[None], PART_MOUTH, anchor=[m_loop[0]], depth=[1.0], mirror=[mb.n], mouth_up=[False]
    )
    cap = throat[0]
    fan = np.stack([np.full(len(last), cap), np.roll(last, -1), last], axis=1)
    if _has_directed_edge(strips, last[1], last[0]) == _has_directed_edge(fan, last[1], last[0]):
        fan = fan[:, ::-1]
    mb.faces(fan, MAT["mouth"])


def _add_eyeballs(mb: _MeshBuilder, n_half: int) -> None:
    """Add the eyeballs (sclera, iris, pupil; rings sit on the colour borders so they stay crisp)."""
    n_seg = 2 * max(8, n_half // 4)
    polar = np.concatenate(
        [[0.12, 0.24, 0.35, 0.46, 0.56], np.linspace(0.56, np.pi, max(6, n_seg // 3))[1:-1]]
    )
    unit, tris, quads, local_m = _uv_sphere(n_seg, polar)
    mid = 0.5 * (polar[:-1] + polar[1:])
    ring_mats = np.where(mid < 0.24, MAT["pupil"], np.where(mid < 0.56, MAT["iris"], MAT["sclera"]))
    quad_mats = np.repeat(ring_mats, n_seg)
    tri_mats = np.concatenate([np.full(n_seg, MAT["pupil"]), np.full(n_seg, MAT["sclera"])])
    eye_base = {1: mb.n, -1: mb.n + len(unit)}
    for s in (1, -1):
        ids = mb.add(
            EYE_CENTRE * (s, 1, 1) + EYE_RADIUS * unit,
            PART_EYE_LEFT if s > 0 else PART_EYE_RIGHT,
            mirror=eye_base[-s] + local_m,
        )
        mb.faces(ids[tris], tri_mats)
        mb.faces(ids[quads], quad_mats)


def _add_tongue(mb: _MeshBuilder, n_half: int, seam_z: float) -> None:
    """Add the tongue: a flattened shell resting on the floor of the mouth."""
    t_seg = 2 * max(6, n_half // 6)
    unit, tris, quads, local_m = _uv_sphere(t_seg, np.linspace(0.0, np.pi, max(8, n_half // 5))[1:-1])
    tongue = unit * (0.0130, 0.0165, 0.0036)
    tongue[:, 2] -= 0.0010 * unit[:, 0] ** 2  # the sides droop a little
    tongue[:, 0] *= 1.0 - 0.25 * np.clip(unit[:, 1], 0.0, 1.0)  # narrower toward the root
    tongue += (0.0, -0.0525, seam_z - 0.0085)
    ids = mb.add(tongue, PART_TONGUE, mirror=mb.n + local_m)
    mb.faces(ids[tris], MAT["tongue"])
    mb.faces(ids[quads], MAT["tongue"])


def _rig(mb: _MeshBuilder, g: _Grid, sv: _SkinVertices, mouth: _Mouth) -> tuple[_Rig, np.ndarray]:
    """Gather the per-part vertex data into the rig (positions made exactly mirror-symmetric) and the
    mirror map."""
    v = np.concatenate(mb.pos)
    nv = len(v)

    def field(name: str, default, dtype) -> np.ndarray:
        out = np.full(nv, default, dtype=dtype)
        for m in mb.meta:
            if name in m:
                out[m["ids"]] = m[name]
        return out

    mirror = field("mirror", -1, np.int64)
    anchor = field("anchor", -1, np.int64)
    # Exact mirror symmetry (the construction is symmetric up to rounding; tests rely on exactness).
    v = 0.5 * (v + _mirror_x(v[mirror]))
    ring_id, j_e, n_lon = g.ring_id, g.j_e, g.n_lon
    rig = _Rig(
        v=v,
        part=field("part", 0, np.int8),
        lam=field("lam", 0.0, float),
        phi=field("phi", 0.0, float),
        mouth_up=field("mouth_up", False, bool),
        eye_up=field("eye_up", False, bool),
        anchor=np.where(anchor < 0, np.arange(nv), anchor),
        depth=field("depth", 0.0, float),
        seam_z=mouth.seam_z,
        corner_x=mouth.corner_x,
        mouth_upper_edge=mouth.upper_edge,
        mouth_lower_edge=mouth.lower_edge,
        mouth_corners=mouth.corners,
        eye_edges={s: (ring_id[j_e, sv.e_cols[s]], sv.twin_of[ring_id[j_e, sv.e_cols[s]]]) for s in (1, -1)},
        eye_corners={
            s: (ring_id[j_e, (s * g.c_in) % n_lon], ring_id[j_e, (s * g.c_out) % n_lon]) for s in (1, -1)
        },
        phi_eye=g.phi_eye,
    )
    return rig, mirror


def _skin_materials(g: _Grid, n_quads: int, lip_rows: tuple[int, int], brow: _Brow) -> np.ndarray:
    """Material of each skin quad: lips between the lip rows and the mouth corners, brow between the brow
    rows over the brow's span, skin elsewhere."""
    k_u, k_l = lip_rows
    band, col = np.divmod(np.arange(n_quads), g.n_lon)
    signed_col = np.where(col >= g.n_half, col - g.n_lon, col)
    lips = (
        (band >= g.j_m - k_u) & (band < g.j_m + k_l) & (signed_col >= -g.c_mouth) & (signed_col < g.c_mouth)
    )
    al = np.abs(0.5 * (g.lam_col[col] + g.lam_col[(col + 1) % g.n_lon]))
    brow_quads = (band >= brow.j_b - brow.k_b) & (band < brow.j_b) & (al > brow.lam_lo) & (al < brow.lam_hi)
    return np.where(lips, MAT["lips"], np.where(brow_quads, MAT["brow"], MAT["skin"]))


# ----------------------------------------------------------------------------------------------------
# Public entry point


def build_demo_head(resolution: int = DEFAULT_RESOLUTION) -> DemoHead:
    """Build the demo head and its 52 ARKit shape keys.

    ``resolution`` is the number of grid segments around the head (the grid has about 0.7 x that many rows,
    and the eyes, mouth and tongue scale along): 88 (the default) gives about 6,300 vertices, 180 about
    25,500. Deterministic: the same resolution always gives the same arrays.
    """
    if int(resolution) < 24:
        raise ValueError(f"resolution must be at least 24, got {resolution}")
    rig, face_indices, face_sizes, materials, mirror = _build(int(resolution))
    deltas = _shape_deltas(rig, face_indices, face_sizes)
    return DemoHead(
        vertices=rig.v.astype(np.float32),
        face_indices=face_indices,
        face_sizes=face_sizes,
        shape_deltas=deltas.astype(np.float32),
        material_index=materials,
        vertex_part=rig.part.copy(),
        mirror_index=mirror,
        landmarks=_landmarks(rig),
    )


def _landmarks(rig: _Rig) -> dict[str, int]:
    v, part = rig.v, rig.part
    mid = len(rig.mouth_upper_edge) // 2
    skin = np.flatnonzero(part == PART_SKIN)
    midline = skin[np.abs(v[skin, 0]) < 1e-9]
    front_mid = midline[v[midline, 1] < -0.05]
    out = {
        "upper_lip": rig.mouth_upper_edge[mid],
        "lower_lip": rig.mouth_lower_edge[mid],
        "mouth_corner_left": rig.mouth_corners[0],
        "mouth_corner_right": rig.mouth_corners[1],
        "chin": front_mid[np.argmin(v[front_mid, 2] + 0.5 * v[front_mid, 1])],
        "nose_tip": front_mid[np.argmin(v[front_mid, 1])],
        "tongue_tip": np.flatnonzero(part == PART_TONGUE)[np.argmin(v[part == PART_TONGUE, 1])],
    }
    for side, name in ((1, "left"), (-1, "right")):
        up, lo = rig.eye_edges[side]
        out[f"upper_lid_{name}"] = up[len(up) // 2]
        out[f"lower_lid_{name}"] = lo[len(lo) // 2]
        eye = np.flatnonzero(part == (PART_EYE_LEFT if side > 0 else PART_EYE_RIGHT))
        out[f"pupil_{name}"] = eye[np.argmin(v[eye, 1])]
    return {k: int(i) for k, i in out.items()}


# ----------------------------------------------------------------------------------------------------
# Shape keys
#
# Each lateral key is written once, for the character's LEFT side (+X), in a "frame" where the mesh is
# mirrored for the Right key; the result is mirrored back. Left/Right pairs are therefore exact mirror
# images. Fields are evaluated on rest positions; then a few rules keep parts consistent: the mouth bag
# follows the lip edge it hangs from (fading toward the throat), a lid-margin vertex moves like its lid
# edge vertex, eyeballs only turn, and no lid or skin vertex may end up inside an eyeball.

_EYE_KEYS = {"eyeBlink", "eyeLookDown", "eyeLookIn", "eyeLookOut", "eyeLookUp", "eyeSquint", "eyeWide"}
_EYEBALL_KEYS = {"eyeLookDown", "eyeLookIn", "eyeLookOut", "eyeLookUp"}
_JAW_KEYS = {"jawOpen", "jawForward", "jawLeft", "tongueOut"}  # move the mouth bag and tongue themselves


class _Frame:
    """Rest data seen from one side: for side -1 the mesh is mirrored so that side lies on +X."""

    def __init__(self, rig: _Rig, side: int, normals: np.ndarray, jaw_w: np.ndarray) -> None:
        m = np.array([float(side), 1.0, 1.0])
        self.rig = rig
        self.side = side
        self.p = rig.v * m
        self.n = normals * m
        self.lam = rig.lam * side
        self.jaw_w = jaw_w
        self.surface = (rig.part == PART_SKIN) | (rig.part == PART_LID_MARGIN)
        self.eyeball = np.flatnonzero(rig.part == (PART_EYE_LEFT if side > 0 else PART_EYE_RIGHT))
        self.tongue = np.flatnonzero(rig.part == PART_TONGUE)
        self.eye_c = EYE_CENTRE.copy()
        # Lid opening per grid column of this eye: the angle between the upper and lower lid edges seen
        # from the eye centre about the X axis; 0 at the corners.
        up, lo = rig.eye_edges[side]
        c_in, c_out = rig.eye_corners[side]
        self.lid_lam = np.concatenate([[self.lam[c_in]], self.lam[up], [self.lam[c_out]]])
        gap = self.elevation(self.p[up]) - self.elevation(self.p[lo])
        self.lid_gap = np.concatenate([[0.0], gap, [0.0]])
        self.upper_edge, self.lower_edge = up, lo

    def on_face(self, x: float, z: float, inset: float = 0.004) -> np.ndarray:
        """A region centre on the face at (x, z): the sculpted surface there, ``inset`` under the skin."""
        front = np.flatnonzero((self.rig.part == PART_SKIN) & (self.p[:, 1] < -0.04))
        i = front[np.argmin((self.p[front, 0] - x) ** 2 + (self.p[front, 2] - z) ** 2)]
        return np.array([x, self.p[i, 1] + inset, z])

    def region(self, x: float, z: float, radii) -> np.ndarray:
        """Smooth falloff around a point of the face (surface vertices only)."""
        return np.where(self.surface, _falloff(self.p, self.on_face(x, z), radii), 0.0)

    def elevation(self, p: np.ndarray) -> np.ndarray:
        """Angle of points above the eye's forward axis, seen from the eye centre about the X axis."""
        q = p - self.eye_c
        return np.arctan2(q[:, 2], -q[:, 1])

    def gap(self, both_eyes: bool = False) -> np.ndarray:
        """Per vertex: the lid opening angle of its grid column (0 away from this eye, or both eyes)."""
        lam = np.abs(self.lam) if both_eyes else self.lam
        return np.interp(lam, self.lid_lam, self.lid_gap, left=0.0, right=0.0)

    def lid_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """How much each vertex belongs to this eye's upper and lower lid (1 at the lid edge)."""
        rig = self.rig
        dphi = rig.phi - rig.phi_eye
        upper = self.surface & rig.eye_up & (dphi >= 0)
        lower = self.surface & ~rig.eye_up & (dphi <= 0)
        w_up = np.where(upper, 1.0 - _smoothstep(0.0, 0.11, dphi), 0.0)
        w_lo = np.where(lower, 1.0 - _smoothstep(0.0, 0.08, -dphi), 0.0)
        return w_up, w_lo

    def lid_profile(self) -> np.ndarray:
        """0 at the eye corners, 1 across the middle of the opening (and 0 away from this eye)."""
        return np.sqrt(self.gap() / self.lid_gap.max())

    def rotate_lids(self, angle: np.ndarray) -> np.ndarray:
        """Delta of turning each vertex by ``angle`` about the eye's X axis (positive: front goes down)."""
        return _rotate_x(self.p, self.eye_c, angle) - self.p

    def protect_eye(self, both_eyes: bool = False) -> np.ndarray:
        """1 except near the upper lid edge (of this eye, or both), where brow moves should not drag the
        lid down into the eye."""
        rig = self.rig
        lam = np.abs(self.lam) if both_eyes else self.lam
        near = np.abs(lam - 0.5 * (self.lid_lam[0] + self.lid_lam[-1])) < 0.35
        far = _smoothstep(0.03, 0.10, rig.phi - rig.phi_eye)
        return np.where(self.surface & near & rig.eye_up, far, 1.0)

    def seam_dz(self) -> np.ndarray:
        """Height above the mouth line (interpolated along the line), negative below it."""
        rig = self.rig
        edge = rig.mouth_upper_edge
        xs = np.abs(self.p[edge, 0])
        order = np.argsort(xs)
        z_line = np.interp(np.abs(self.p[:, 0]), xs[order], self.p[edge, 2][order])
        return self.p[:, 2] - z_line

    def lip_masks(self, reach_up: float = 0.013, reach_down: float = 0.015) -> tuple[np.ndarray, np.ndarray]:
        """Upper and lower lip regions (1 at the lip edge, fading over ``reach``; 0 beyond the corners)."""
        rig = self.rig
        dz = self.seam_dz()
        ax = np.abs(self.p[:, 0])
        hx = 1.0 - _smoothstep(0.7 * rig.corner_x, rig.corner_x + 0.008, ax)
        fy = 1.0 - _smoothstep(-0.074, -0.062, self.p[:, 1])
        base = np.where(self.surface, hx * fy, 0.0)
        m_up = np.where(rig.mouth_up, base * (1.0 - _smoothstep(0.0, reach_up, np.maximum(dz, 0.0))), 0.0)
        m_lo = np.where(~rig.mouth_up, base * (1.0 - _smoothstep(0.0, reach_down, np.maximum(-dz, 0.0))), 0.0)
        return m_up, m_lo

    def corner(self) -> np.ndarray:
        """Rest position of this side's mouth corner."""
        rig = self.rig
        return np.array([rig.corner_x, self.p[rig.mouth_upper_edge, 1].max(), rig.seam_z])

    def jaw_delta(
        self, angle_deg: float = 0.0, shift=(0.0, 0.0, 0.0), weight: np.ndarray | None = None
    ) -> np.ndarray:
        """Delta of the jaw turning about its hinge by ``angle_deg`` (down) and shifting by ``shift``."""
        w = self.jaw_w if weight is None else weight
        turned = _rotate_x(self.p, JAW_HINGE, np.radians(angle_deg) * w)
        return turned - self.p + w[:, None] * np.asarray(shift)


def _vertex_normals(v: np.ndarray, face_indices: np.ndarray, face_sizes: np.ndarray) -> np.ndarray:
    """Area-weighted vertex normals. A quad's normal is the cross product of its diagonals, which does not
    depend on how it would be split into triangles, so mirror-image quads give mirror-image normals."""
    starts = np.concatenate([[0], np.cumsum(face_sizes)[:-1]])
    n = np.zeros_like(v)
    for size in (3, 4):
        f = face_indices[starts[face_sizes == size][:, None] + np.arange(size)]
        if size == 3:
            fn = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])
        else:
            fn = np.cross(v[f[:, 2]] - v[f[:, 0]], v[f[:, 3]] - v[f[:, 1]])
        for k in range(size):
            np.add.at(n, f[:, k], fn)
    return n / np.maximum(_norm(n), 1e-12)[:, None]


def _jaw_weight(rig: _Rig) -> np.ndarray:
    """How much each vertex follows the jaw: 1 on the chin and lower lip, 0 above the mouth line and
    behind the hinge, 0.5 at the mouth corners; the lower half of the mouth bag and the tongue follow."""
    x, y, z = rig.v.T
    ax = np.abs(x)
    cx = rig.corner_x
    beyond = np.maximum(ax - cx, 0.0)
    line = rig.seam_z + 0.75 * beyond  # from the mouth corners up toward the hinge below the ear
    soft = 0.006 + 0.3 * beyond
    w_c = _smoothstep(-1.0, 1.0, (line - z) / soft)
    a = np.clip(1.0 - (ax / cx) ** 2, 0.0, 1.0) ** 2  # inside the mouth the lip edges are split
    near = 1.0 - _smoothstep(0.0, 0.009, np.abs(z - rig.seam_z))
    lower = (~rig.mouth_up).astype(float)
    w = (1.0 - a * near) * w_c + a * near * lower
    w *= 1.0 - _smoothstep(-0.03, 0.015, y)  # not behind the hinge
    w *= _smoothstep(-0.135, -0.10, z)  # the neck stays
    w *= 1.0 - _smoothstep(-0.02, 0.0, z)  # and everything above the hinge
    bag = rig.part == PART_MOUTH
    anchor_w = w[rig.anchor]
    side = np.where(rig.mouth_up, 0.0, 1.0)
    deep = _smoothstep(0.0, 0.45, rig.depth)
    w = np.where(bag, anchor_w + deep * (side - anchor_w), w)
    w[bag & (rig.depth >= 1.0)] = 0.5
    w[rig.part == PART_TONGUE] = 1.0
    w[(rig.part == PART_EYE_LEFT) | (rig.part == PART_EYE_RIGHT) | (rig.part == PART_LID_MARGIN)] = 0.0
    return w


# --- the keys, written for the LEFT side (or symmetric). Each returns a (V, 3) delta. ---


def _k_eye_blink(f: _Frame) -> np.ndarray:
    w_up, w_lo = f.lid_weights()
    gap = f.gap()
    d = f.rotate_lids(gap * (0.8 * w_up - 0.2 * w_lo))
    # The two lid edges meet exactly: each pair goes to the midpoint of where they are carried.
    up, lo = f.upper_edge, f.lower_edge
    meet = 0.5 * (f.p[up] + d[up] + f.p[lo] + d[lo])
    d[up], d[lo] = meet - f.p[up], meet - f.p[lo]
    return d


def _eyeball_turn(f: _Frame, about_x_deg: float = 0.0, about_z_deg: float = 0.0) -> np.ndarray:
    d = np.zeros_like(f.p)
    e = f.eyeball
    q = _rotate_x(f.p[e], f.eye_c, np.full(len(e), np.radians(about_x_deg)))
    q = _rotate_z(q, f.eye_c, np.full(len(e), np.radians(about_z_deg)))
    d[e] = q - f.p[e]
    return d


def _k_eye_look_down(f: _Frame) -> np.ndarray:
    w_up, w_lo = f.lid_weights()
    prof = f.lid_profile()
    turn = np.radians(24.0)
    return _eyeball_turn(f, about_x_deg=24.0) + f.rotate_lids(turn * prof * (0.45 * w_up + 0.15 * w_lo))


def _k_eye_look_up(f: _Frame) -> np.ndarray:
    w_up, w_lo = f.lid_weights()
    prof = f.lid_profile()
    turn = np.radians(-20.0)
    return _eyeball_turn(f, about_x_deg=-20.0) + f.rotate_lids(turn * prof * (0.35 * w_up + 0.12 * w_lo))


def _k_eye_look_in(f: _Frame) -> np.ndarray:
    return _eyeball_turn(f, about_z_deg=-26.0)  # toward the nose (-X for the left eye)


def _k_eye_look_out(f: _Frame) -> np.ndarray:
    return _eyeball_turn(f, about_z_deg=26.0)


def _k_eye_squint(f: _Frame) -> np.ndarray:
    w_up, w_lo = f.lid_weights()
    gap = f.gap()
    d = f.rotate_lids(gap * (0.08 * w_up - 0.38 * w_lo))
    e = f.eye_c
    cheek = f.region(e[0] + 0.004, e[2] - 0.021, (0.024, 0.022, 0.014))
    return d + cheek[:, None] * (0.0, -0.0008, 0.0022)


def _k_eye_wide(f: _Frame) -> np.ndarray:
    w_up, w_lo = f.lid_weights()
    prof = f.lid_profile()
    return f.rotate_lids(np.radians(1.0) * prof * (-16.0 * w_up + 4.0 * w_lo))


def _jaw_open_pose(p: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Where points go at jawOpen 1 if they follow the jaw by ``w``. The condyle glides forward as the
    jaw opens, so the chin drops more than it swings back."""
    return _rotate_x(p, JAW_HINGE, np.radians(_JAW_OPEN_DEG) * w) + w[:, None] * (0.0, -0.008, 0.0)


def _k_jaw_open(f: _Frame) -> np.ndarray:
    return _jaw_open_pose(f.p, f.jaw_w) - f.p


def _k_jaw_forward(f: _Frame) -> np.ndarray:
    return f.jaw_delta(shift=(0.0, -0.0075, 0.0))


def _k_jaw_left(f: _Frame) -> np.ndarray:
    return f.jaw_delta(shift=(0.0085, 0.0, 0.0))


def _k_mouth_close(f: _Frame) -> np.ndarray:
    # Corrective for jawOpen: at jawOpen 1 + mouthClose 1 the lips meet (upper lip 40 % of the way).
    rig = f.rig
    ax = np.abs(f.p[:, 0])
    a = np.clip(1.0 - (ax / rig.corner_x) ** 2, 0.0, 1.0) ** 2
    gap = _jaw_open_pose(f.p, 0.5 + 0.5 * a) - _jaw_open_pose(f.p, 0.5 - 0.5 * a)
    m_up, m_lo = f.lip_masks(reach_up=0.010, reach_down=0.016)
    return gap * (0.4 * m_up - 0.6 * m_lo)[:, None]


def _mouth_region(f: _Frame, rx: float, ry: float = 0.04, rz: float = 0.02, y0: float = -0.09) -> np.ndarray:
    r = _falloff(f.p, (0.0, y0, f.rig.seam_z), (rx, ry, rz))
    return np.where(f.surface, r, 0.0)


def _k_mouth_funnel(f: _Frame) -> np.ndarray:
    rig = f.rig
    r = _mouth_region(f, rig.corner_x + 0.012, rz=0.024)
    narrow = _mouth_region(f, rig.corner_x + 0.02, rz=0.024)
    m_up, m_lo = f.lip_masks(reach_up=0.008, reach_down=0.009)
    x = f.p[:, 0]
    open_x = np.clip(1.0 - (x / rig.corner_x) ** 2, 0.0, 1.0) ** 0.7
    d = np.zeros_like(f.p)
    d[:, 0] = -0.42 * x * narrow
    d[:, 1] = -0.0095 * r**0.6
    d[:, 2] = open_x * (0.0042 * m_up - 0.0055 * m_lo)
    return d


def _k_mouth_pucker(f: _Frame) -> np.ndarray:
    rig = f.rig
    r = _mouth_region(f, rig.corner_x + 0.014, rz=0.026)
    narrow = _mouth_region(f, rig.corner_x + 0.02, rz=0.026)
    d = np.zeros_like(f.p)
    d[:, 0] = -0.5 * f.p[:, 0] * narrow
    d[:, 1] = -0.012 * r**0.6
    d[:, 2] = -0.22 * (f.p[:, 2] - rig.seam_z) * r  # the lips bunch toward the mouth line
    return d


def _k_mouth_left(f: _Frame) -> np.ndarray:
    r = _mouth_region(f, 0.046, 0.045, 0.028)
    shift = 0.0095 * r
    x = f.p[:, 0]
    d = np.zeros_like(f.p)
    d[:, 0] = shift
    d[:, 1] = _ARCH * ((x + shift) ** 2 - x**2)  # slide along the dental arch, not through the cheek
    return d


def _corner_region(f: _Frame, rx: float = 0.02, ry: float = 0.03, rz: float = 0.018) -> np.ndarray:
    return np.where(f.surface, _falloff(f.p, f.corner(), (rx, ry, rz)), 0.0)


def _k_mouth_smile(f: _Frame) -> np.ndarray:
    k = _corner_region(f, 0.021, 0.03, 0.02)
    cheek = f.region(0.036, f.rig.seam_z + 0.022, (0.02, 0.03, 0.018))
    return k[:, None] * (0.0045, 0.0045, 0.0078) + cheek[:, None] * (0.0, -0.0012, 0.0032)


def _k_mouth_frown(f: _Frame) -> np.ndarray:
    k = _corner_region(f, 0.02, 0.03, 0.02)
    chin = f.region(0.024, f.rig.seam_z - 0.016, (0.018, 0.03, 0.016))
    return k[:, None] * (0.0008, 0.0005, -0.0068) + chin[:, None] * (0.0, -0.0005, -0.0018)


def _k_mouth_dimple(f: _Frame) -> np.ndarray:
    k = _corner_region(f, 0.018, 0.03, 0.016)
    return k[:, None] * (0.0022, 0.0055, 0.0006)


def _k_mouth_stretch(f: _Frame) -> np.ndarray:
    k = _corner_region(f, 0.022, 0.03, 0.02)
    _, m_lo = f.lip_masks()
    side = _smoothstep(-0.01, 0.02, f.p[:, 0])
    return k[:, None] * (0.0065, 0.0028, -0.0035) + (m_lo * side)[:, None] * (0.0, 0.0, -0.0016)


def _lip_side(f: _Frame) -> np.ndarray:
    """Left half of the lips, fading across the midline."""
    x = f.p[:, 0]
    return np.clip(1.0 - ((x - 0.011) / 0.022) ** 2, 0.0, 1.0) ** 2


def _k_mouth_press(f: _Frame) -> np.ndarray:
    m_up, m_lo = f.lip_masks(reach_up=0.012, reach_down=0.013)
    side = _lip_side(f)
    dz = f.seam_dz()
    bulge = np.abs(dz) / 0.0035 * np.exp(1.0 - np.abs(dz) / 0.0035)  # 0 on the line, peak inside the lip
    d = np.zeros_like(f.p)
    d[:, 1] = 0.0012 * (m_up + m_lo) * side
    d[:, 2] = 0.0017 * bulge * (m_lo - m_up) * side
    return d


def _k_mouth_lower_down(f: _Frame) -> np.ndarray:
    _, m_lo = f.lip_masks(reach_down=0.017)
    return (m_lo * _lip_side(f))[:, None] * (0.0, -0.0008, -0.0065)


def _k_mouth_upper_up(f: _Frame) -> np.ndarray:
    m_up, _ = f.lip_masks(reach_up=0.014)
    return (m_up * _lip_side(f))[:, None] * (0.0, -0.0006, 0.0056)


def _roll(f: _Frame, mask: np.ndarray, centre_y: float, centre_dz: float, angle_deg: float) -> np.ndarray:
    centre = np.array([0.0, centre_y, f.rig.seam_z + centre_dz])
    return _rotate_x(f.p, centre, np.radians(angle_deg) * mask) - f.p


def _k_mouth_roll_lower(f: _Frame) -> np.ndarray:
    _, m_lo = f.lip_masks(reach_down=0.012)
    return _roll(f, m_lo, -0.083, -0.006, -55.0)


def _k_mouth_roll_upper(f: _Frame) -> np.ndarray:
    m_up, _ = f.lip_masks(reach_up=0.010)
    return _roll(f, m_up, -0.084, 0.005, 50.0)


def _k_mouth_shrug_lower(f: _Frame) -> np.ndarray:
    r = f.region(0.0, f.rig.seam_z - 0.027, (0.032, 0.035, 0.034))
    return r[:, None] * (0.0, -0.0028, 0.0058)


def _k_mouth_shrug_upper(f: _Frame) -> np.ndarray:
    r = f.region(0.0, f.rig.seam_z + 0.006, (0.03, 0.03, 0.016))
    return r[:, None] * (0.0, -0.0015, 0.0032)


def _k_brow_down(f: _Frame) -> np.ndarray:
    e = f.eye_c
    r = f.region(0.027, e[2] + 0.021, (0.034, 0.03, 0.018))
    inner = f.region(0.01, e[2] + 0.014, (0.014, 0.02, 0.014))
    return (r * f.protect_eye())[:, None] * (-0.003, -0.0015, -0.0075) + inner[:, None] * (
        -0.0015,
        0.0,
        -0.002,
    )


def _k_brow_inner_up(f: _Frame) -> np.ndarray:
    e = f.eye_c
    c = f.on_face(0.014, e[2] + 0.021)
    r = np.maximum(_falloff(f.p, c, (0.022, 0.03, 0.024)), _falloff(_mirror_x(f.p), c, (0.022, 0.03, 0.024)))
    r = np.where(f.surface, r, 0.0)
    return (r * f.protect_eye(both_eyes=True))[:, None] * (0.0, -0.0005, 0.0078)


def _k_brow_outer_up(f: _Frame) -> np.ndarray:
    e = f.eye_c
    r = f.region(0.047, e[2] + 0.021, (0.026, 0.03, 0.022))
    return (r * f.protect_eye())[:, None] * (0.0, 0.0, 0.0085)


def _k_cheek_puff(f: _Frame) -> np.ndarray:
    c = f.on_face(0.041, f.rig.seam_z + 0.004, inset=0.008)
    r = np.maximum(
        _falloff(f.p, c, (0.026, 0.035, 0.027)), _falloff(_mirror_x(f.p), c, (0.026, 0.035, 0.027))
    )
    r = np.where(f.surface, r, 0.0)
    out = f.n.copy()
    out[:, 2] *= 0.3  # mostly sideways and forward
    out /= np.maximum(_norm(out), 1e-9)[:, None]
    return out * (0.014 * r)[:, None]


def _k_cheek_squint(f: _Frame) -> np.ndarray:
    e = f.eye_c
    r = f.region(0.038, e[2] - 0.022, (0.024, 0.03, 0.02))
    return r[:, None] * (0.0, -0.001, 0.0046)


def _k_nose_sneer(f: _Frame) -> np.ndarray:
    wing = f.region(0.0112, -0.0215, (0.015, 0.02, 0.015))
    bridge = f.region(0.008, 0.0, (0.012, 0.02, 0.018))
    lip = np.where(f.rig.mouth_up, f.region(0.011, f.rig.seam_z + 0.013, (0.014, 0.02, 0.01)), 0.0)
    d = wing[:, None] * (0.0008, 0.0, 0.0055) + bridge[:, None] * (0.0, 0.0, 0.002)
    d += lip[:, None] * (0.0, 0.0, 0.0022)
    return np.where(f.surface[:, None], d, 0.0)


def _k_tongue_out(f: _Frame) -> np.ndarray:
    # The jaw drops a little, the lower lip a little more, and the tongue slides out to lie on the lip.
    d = _jaw_open_pose(f.p, f.jaw_w * (_TONGUE_JAW_DEG / _JAW_OPEN_DEG)) - f.p
    t = f.tongue
    y = f.p[t, 1]
    front = (y.max() - y) / (y.max() - y.min())  # 0 at the root, 1 at the tip
    x = f.p[t, 0]
    d[t] += np.stack([-0.15 * x * front, -0.024 - 0.024 * front, 0.003 * front - 0.001], axis=1)
    _, m_lo = f.lip_masks(reach_down=0.014)
    return d + m_lo[:, None] * (0.0, -0.001, -0.003)


_KEY_FUNCS = {
    "eyeBlink": _k_eye_blink, "eyeLookDown": _k_eye_look_down, "eyeLookIn": _k_eye_look_in,
    "eyeLookOut": _k_eye_look_out, "eyeLookUp": _k_eye_look_up, "eyeSquint": _k_eye_squint,
    "eyeWide": _k_eye_wide, "jawForward": _k_jaw_forward, "jaw": _k_jaw_left, "jawOpen": _k_jaw_open,
    "mouthClose": _k_mouth_close, "mouthFunnel": _k_mouth_funnel, "mouthPucker": _k_mouth_pucker,
    "mouth": _k_mouth_left, "mouthSmile": _k_mouth_smile, "mouthFrown": _k_mouth_frown,
    "mouthDimple": _k_mouth_dimple, "mouthStretch": _k_mouth_stretch,
    "mouthRollLower": _k_mouth_roll_lower, "mouthRollUpper": _k_mouth_roll_upper,
    "mouthShrugLower": _k_mouth_shrug_lower, "mouthShrugUpper": _k_mouth_shrug_upper,
    "mouthPress": _k_mouth_press, "mouthLowerDown": _k_mouth_lower_down,
    "mouthUpperUp": _k_mouth_upper_up, "browDown": _k_brow_down, "browInnerUp": _k_brow_inner_up,
    "browOuterUp": _k_brow_outer_up, "cheekPuff": _k_cheek_puff, "cheekSquint": _k_cheek_squint,
    "noseSneer": _k_nose_sneer, "tongueOut": _k_tongue_out,
}  # fmt: skip


def _split_name(name: str) -> tuple[str, int]:
    """'eyeBlinkLeft' -> ('eyeBlink', 1); 'jawRight' -> ('jaw', -1); 'jawOpen' -> ('jawOpen', 1)."""
    for suffix, side in (("Left", 1), ("Right", -1)):
        if name.endswith(suffix):
            return name[: -len(suffix)], side
    return name, 1


def _shape_deltas(rig: _Rig, face_indices: np.ndarray, face_sizes: np.ndarray) -> np.ndarray:
    normals = _vertex_normals(rig.v, face_indices, face_sizes)
    jaw_w = _jaw_weight(rig)
    frames = {s: _Frame(rig, s, normals, jaw_w) for s in (1, -1)}
    bag = np.flatnonzero(rig.part == PART_MOUTH)
    margin = np.flatnonzero(rig.part == PART_LID_MARGIN)
    eyeballs = np.flatnonzero((rig.part == PART_EYE_LEFT) | (rig.part == PART_EYE_RIGHT))
    tongue = np.flatnonzero(rig.part == PART_TONGUE)
    # The lining follows the lips only near the front; deeper in, the mouth does not care about lip moves.
    fade = (1.0 - _smoothstep(0.0, 0.45, rig.depth[bag]))[:, None]
    # The tongue rests on the floor of the mouth: it follows the nearest floor vertex.
    floor = bag[~rig.mouth_up[bag]]
    gap = rig.v[tongue][:, None, :] - rig.v[floor][None, :, :]
    tongue_floor = floor[np.einsum("ijk,ijk->ij", gap, gap).argmin(axis=1)]
    eyes = _eye_neighbourhoods(rig)
    out = np.zeros((NUM_ARKIT, len(rig.v), 3))
    for i, name in enumerate(ARKIT_NAMES):
        base, side = _split_name(name)
        d = _KEY_FUNCS[base](frames[side]) * (side, 1.0, 1.0)
        if base not in _JAW_KEYS:
            d[bag] = d[rig.anchor[bag]] * fade
            d[tongue] = d[tongue_floor]
        if base not in _EYE_KEYS:
            d[margin] = d[rig.anchor[margin]]
        if base not in _EYEBALL_KEYS:
            d[eyeballs] = 0.0
        out[i] = _keep_out_of_eyes(rig, d, eyes)
    return out


def _eye_neighbourhoods(rig: _Rig) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per eye: its centre, the skin/lid vertices near it, and how close each may come to the centre."""
    surface = np.flatnonzero((rig.part == PART_SKIN) | (rig.part == PART_LID_MARGIN))
    out = []
    for side in (1, -1):
        c = EYE_CENTRE * (side, 1, 1)
        rest = _norm(rig.v[surface] - c)
        near = rest < EYE_RADIUS + 0.006
        out.append((c, surface[near], np.minimum(rest[near], EYE_RADIUS + 0.0009)))
    return out


def _keep_out_of_eyes(rig: _Rig, d: np.ndarray, eyes: list) -> np.ndarray:
    """Push any skin or lid vertex that a key would move inside an eyeball back onto its surface."""
    for c, ids, floor in eyes:
        q = rig.v[ids] + d[ids] - c
        r = _norm(q)
        inside = r < floor
        if inside.any():
            fixed = c + q[inside] * (floor[inside] / np.maximum(r[inside], 1e-9))[:, None]
            d[ids[inside]] = fixed - rig.v[ids[inside]]
    return d
