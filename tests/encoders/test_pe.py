"""Position encodings against values derived by hand from the formulas of docs/encoders/*.md.

Expected numbers are written from the formulas (special angles at the poles, the antimeridian,
the equator and cities), or from an independent float64 NumPy transcription of the formula in
this file, or (spherical harmonics) from scipy.special.sph_harm_y. Nothing here calls the
encoder code to produce an expected value.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from scipy.special import sph_harm_y

import encoders

R2 = math.sqrt(0.5)
PARIS = (2.3522, 48.8566)
SYDNEY = (151.2093, -33.8688)


def pe(name: str, points, **hp) -> np.ndarray:
    enc = encoders.build(name, hidden_dim=8, spa_embed_dim=8, **hp)
    x = torch.tensor(points, dtype=torch.float64)
    return enc.position_encoding(x).numpy()


# ----------------------------------------------------------------------------- Space2Vec
# r_min = 180/pi, r_max = 360/pi deg  ->  omega = [pi/180, pi/360] per degree
S2V = {"frequency_num": 2, "min_radius": 180 / math.pi, "max_radius": 360 / math.pi}


def test_grid_hand_values_corners():
    got = pe("Space2Vec-grid", [[180.0, 90.0], [-180.0, -90.0], [0.0, 0.0]], **S2V)
    # layout (c*S + s)*2 + k; lon 180 -> angles pi, pi/2; lat 90 -> pi/2, pi/4
    assert_allclose(got[0], [0, -1, 1, 0, 1, 0, R2, R2], atol=1e-12)
    assert_allclose(got[1], [0, -1, -1, 0, -1, 0, -R2, R2], atol=1e-12)
    assert_allclose(got[2], [0, 1, 0, 1, 0, 1, 0, 1], atol=1e-12)
    assert got.shape == (3, 8)


def test_grid_geometric_frequencies_descend():
    # S=3, r_min=1, r_max=100 deg -> omega = 1, 0.1, 0.01 rad/deg; point lon = 10, lat = 0
    got = pe("Space2Vec-grid", [[10.0, 0.0]], frequency_num=3, min_radius=1, max_radius=100)[0]
    want_lon = [math.sin(10), math.cos(10), math.sin(1), math.cos(1), math.sin(0.1), math.cos(0.1)]
    assert_allclose(got[:6], want_lon, atol=1e-12)
    assert_allclose(got[6:], [0, 1] * 3, atol=1e-12)


def test_grid_float32_input_keeps_float64_precision():
    # omega_0 = 1/0.005 = 200 rad/deg: angle 200 * 179.5 = 35900 rad
    got = encoders.build("Space2Vec-grid", frequency_num=1, min_radius=0.005, max_radius=360)
    x = torch.tensor([[179.5, -89.25]], dtype=torch.float32)
    out = got.position_encoding(x)
    assert out.dtype == torch.float32
    want = [math.sin(35900.0), math.cos(35900.0), math.sin(-17850.0), math.cos(-17850.0)]
    assert_allclose(out[0].numpy(), want, atol=1e-6)


def test_theory_hand_values():
    lat = 60.0 / (math.sqrt(3) / 2)  # a2 = +60, a3 = -60 when lon = 0
    got = pe("Space2Vec-theory", [[0.0, lat], [180.0, 0.0]], **S2V)
    # a = (0, 60, -60) deg; s0 omega = pi/180, s1 = pi/360; index 6s + 2j + k
    s3, c3 = math.sin(math.pi / 3), 0.5
    s6, c6 = 0.5, math.cos(math.pi / 6)
    assert_allclose(got[0], [0, 1, s3, c3, -s3, c3, 0, 1, s6, c6, -s6, c6], atol=1e-12)
    # a = (180, -90, -90): s0 angles pi, -pi/2, -pi/2; s1 pi/2, -pi/4, -pi/4
    assert_allclose(got[1], [0, -1, -1, 0, -1, 0, 1, 0, -R2, R2, -R2, R2], atol=1e-12)


# ----------------------------------------------------------------------------- xyz / NeRF
def test_xyz_hand_values():
    pts = [[0, 0], [90, 0], [123.4, 90], [180, 0], [-180, 0], [-90, 45], [0, -90]]
    want = [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
        [-1, 0, 0],
        [-1, 0, 0],
        [0, -R2, R2],
        [0, 0, -1],
    ]
    assert_allclose(pe("xyz", pts), want, atol=1e-12)


def test_xyz_city_is_unit_vector_and_roundtrips():
    got = pe("xyz", [list(PARIS), list(SYDNEY)])
    assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-12)
    lon = np.degrees(np.arctan2(got[:, 1], got[:, 0]))
    lat = np.degrees(np.arcsin(got[:, 2]))
    assert_allclose(np.c_[lon, lat], [PARIS, SYDNEY], atol=1e-10)


def test_nerf_hand_values_layout():
    L = 16
    got = pe("NeRF", [[90.0, 30.0], [0.0, 0.0]])
    assert got.shape == (2, 96)
    # (90, 30): p = (0, sqrt3/2, 1/2); sin block k*L + l, cos block 3L + k*L + l
    y = math.sqrt(3) / 2
    sin_x, cos_x = [0.0] * L, [1.0] * L
    sin_y = [math.sin(math.pi * 2**l * y) for l in range(L)]
    cos_y = [math.cos(math.pi * 2**l * y) for l in range(L)]
    sin_z = [1.0] + [0.0] * (L - 1)  # sin(pi 2^l / 2)
    cos_z = [0.0, -1.0] + [1.0] * (L - 2)  # cos(pi/2), cos(pi), cos(2 pi)...
    assert_allclose(got[0], sin_x + sin_y + sin_z + cos_x + cos_y + cos_z, atol=1e-9)
    # (0, 0): p = (1, 0, 0): cos(pi) = -1 then cos(2^l pi) = 1
    assert_allclose(got[1][:48], 0.0, atol=1e-9)
    assert_allclose(got[1][48:], [-1.0] + [1.0] * (3 * L - 1), atol=1e-9)


def test_nerf_ignores_frequency_num():
    assert pe("NeRF", [[0.0, 0.0]], frequency_num=64).shape == (1, 96)


# ----------------------------------------------------------------------------- Sphere2Vec
SPH = {"frequency_num": 2, "min_radius": 0.5, "max_radius": 1.0}  # omega = [2, 1]
P = [[90.0, 45.0]]  # lam = pi/2, phi = pi/4 -> s0: Lam = pi, Phi = pi/2; s1: pi/2, pi/4


def test_sphere_c_hand_values():
    assert_allclose(pe("Sphere2Vec-sphereC", P, **SPH)[0], [1, 0, 0, R2, 0, R2], atol=1e-12)


def test_sphere_c_plus_hand_values():
    want = [1, 0, 0, -1, 0, 0] + [R2, R2, 1, 0, 0, R2]
    assert_allclose(pe("Sphere2Vec-sphereC+", P, **SPH)[0], want, atol=1e-12)


def test_sphere_m_hand_values():
    # s0: [sin Phi, cos Phi cos lam, cos phi cos Lam, cos Phi sin lam, cos phi sin Lam]
    want = [1, 0, -R2, 0, 0] + [R2, 0, 0, R2, R2]
    assert_allclose(pe("Sphere2Vec-sphereM", P, **SPH)[0], want, atol=1e-12)


def test_sphere_m_plus_max_only_scales_hand_values():
    # max-only: omega_s = 4^(-s/2) = 1, 1/2, 1/4 (min_radius ignored); point (180, 60)
    got = pe(
        "Sphere2Vec-sphereM+",
        [[180.0, 60.0]],
        frequency_num=3,
        min_radius=0.123,
        max_radius=4.0,
    )[0]
    lam, phi = math.pi, math.pi / 3
    want = []
    for w in (1.0, 0.5, 0.25):
        L_, F = w * lam, w * phi
        want += [
            math.sin(F),
            math.cos(F),
            math.sin(L_),
            math.cos(L_),
            math.cos(F) * math.cos(lam),
            math.cos(phi) * math.cos(L_),
            math.cos(F) * math.sin(lam),
            math.cos(phi) * math.sin(L_),
        ]
    assert_allclose(got, want, atol=1e-12)
    # s0 written out: [sin 60, cos 60, 0, -1, -cos 60, -cos 60, 0, 0]
    assert_allclose(got[:8], [math.sqrt(3) / 2, 0.5, 0, -1, -0.5, -0.5, 0, 0], atol=1e-12)


def test_max_only_with_rmax_1_is_degenerate_and_warns():
    with pytest.warns(UserWarning, match="max_only"):
        got = pe("Sphere2Vec-sphereM+", [list(PARIS)], frequency_num=4, max_radius=1.0)[0]
    blocks = got.reshape(4, 8)
    assert_allclose(blocks, np.broadcast_to(blocks[0], (4, 8)), atol=0)


def test_geometric_option_fixes_max_only():
    got = pe(
        "Sphere2Vec-sphereM+",
        P,
        frequency_num=2,
        min_radius=0.5,
        max_radius=1.0,
        scales="geometric",
    )[0]
    # omega = [2, 1] as for sphereC; s0 block at (90, 45): Lam = pi, Phi = pi/2
    assert_allclose(got[:8], [1, 0, 0, -1, 0, -R2, 0, 0], atol=1e-12)


def test_dfs_single_scale_hand_values():
    got = pe("Sphere2Vec-dfs", [[90.0, 0.0], [0.0, 30.0]], frequency_num=1, max_radius=1.0)
    # [sl*sp, sl*cp, cl*sp, cl*cp, sp, cp, sl, cl]
    assert_allclose(got[0], [0, 1, 0, 0, 0, 1, 1, 0], atol=1e-12)
    h = math.sqrt(3) / 2
    assert_allclose(got[1], [0, 0, 0.5, h, 0.5, h, 0, 1], atol=1e-12)


def _np_sphere(lonlat, omegas, variant):
    """Independent float64 transcription of docs/encoders/sphere2vec.md."""
    lam, phi = np.radians(lonlat[:, :1]), np.radians(lonlat[:, 1:])
    Lm, Ph = lam * omegas, phi * omegas
    sP, cP, sL, cL = np.sin(Ph), np.cos(Ph), np.sin(Lm), np.cos(Lm)
    cp = np.cos(phi) * np.ones_like(Lm)
    cl, sl = np.cos(lam) * np.ones_like(Lm), np.sin(lam) * np.ones_like(Lm)
    if variant == "dfs":
        A = np.concatenate([sL, cL], 1)
        B = np.concatenate([sP, cP], 1)
        outer = (A[:, :, None] * B[:, None, :]).reshape(len(A), -1)
        return np.concatenate([outer, np.stack([sP, cP, sL, cL], -1).reshape(len(A), -1)], 1)
    terms = {
        "C": [sP, cP * cL, cP * sL],
        "C+": [sP, cP, sL, cL, cP * cL, cP * sL],
        "M": [sP, cP * cl, cp * cL, cP * sl, cp * sL],
        "M+": [sP, cP, sL, cL, cP * cl, cp * cL, cP * sl, cp * sL],
    }[variant]
    return np.stack(terms, -1).reshape(len(lonlat), -1)


@pytest.mark.parametrize(
    ("name", "variant", "scales"),
    [
        ("Sphere2Vec-sphereC", "C", "geometric"),
        ("Sphere2Vec-sphereC+", "C+", "geometric"),
        ("Sphere2Vec-sphereM", "M", "geometric"),
        ("Sphere2Vec-sphereM+", "M+", "max_only"),
        ("Sphere2Vec-dfs", "dfs", "max_only"),
    ],
)
def test_sphere_family_full_layout(name, variant, scales):
    rng = np.random.default_rng(0)
    pts = np.c_[rng.uniform(-180, 180, 20), rng.uniform(-90, 90, 20)]
    pts = np.r_[pts, [[180, 90], [-180, -90], [0, 0], PARIS, SYDNEY]]
    S, rmin, rmax = 3, 0.01, 2.0
    if scales == "geometric":
        om = 1 / (rmin * (rmax / rmin) ** (np.arange(S) / (S - 1)))
    else:
        om = rmax ** (-np.arange(S) / (S - 1))
    got = pe(name, pts.tolist(), frequency_num=S, min_radius=rmin, max_radius=rmax)
    assert_allclose(got, _np_sphere(pts, om, variant), atol=1e-12)


def test_dfs_dimension():
    with pytest.warns(UserWarning, match="max_only"):
        got = pe("Sphere2Vec-dfs", [[0, 0]], frequency_num=8)
    assert got.shape == (1, 4 * 64 + 32)


# ----------------------------------------------------------------------------- rbf / rff
def test_rbf_hand_values_no_antimeridian_wrap():
    anchors = torch.tensor([[0.0, 0.0], [10.0, 0.0], [179.0, 0.0]])
    got = pe(
        "rbf", [[0.0, 0.0], [1.0, 1.0], [-180.0, 0.0]], rbf_anchors=anchors, rbf_kernel_size=2.0
    )
    # exp(-d^2 / (2 * 4)) with Euclidean distance in degrees
    assert_allclose(got[0], [1.0, math.exp(-100 / 8), math.exp(-(179**2) / 8)], rtol=1e-12)
    assert_allclose(got[1], [math.exp(-2 / 8), math.exp(-82 / 8), math.exp(-(178**2 + 1) / 8)])
    assert_allclose(got[2], [math.exp(-(180**2) / 8), math.exp(-(190**2) / 8), 0.0], atol=1e-300)


def test_rbf_anchors_from_samples_rows_without_replacement():
    rows = torch.tensor([[float(i), float(i % 90)] for i in range(50)])
    a = encoders.rbf_anchors_from(rows, 20, seed=3)
    assert a.shape == (20, 2)
    as_tuples = {tuple(r) for r in a.tolist()}
    assert len(as_tuples) == 20
    assert as_tuples <= {tuple(r) for r in rows.tolist()}
    assert torch.equal(a, encoders.rbf_anchors_from(rows, 20, seed=3))
    with pytest.raises(ValueError, match="n must be"):
        encoders.rbf_anchors_from(rows, 51)


def test_uniform_sphere_anchors_cover_sphere():
    a = encoders.uniform_sphere_anchors(4000, seed=0).numpy()
    # uniform on the sphere: sin(lat) ~ U(-1, 1), lon ~ U(-180, 180)
    assert abs(np.sin(np.radians(a[:, 1])).mean()) < 0.05
    assert abs(np.mean(np.abs(np.sin(np.radians(a[:, 1])))) - 0.5) < 0.03
    assert a[:, 0].min() >= -180 and a[:, 0].max() < 180


def test_rff_formula_and_draws():
    enc = encoders.build(
        "rff",
        frequency_num=2048,
        rbf_kernel_size=4.0,
        hidden_dim=8,
        spa_embed_dim=8,
        map_range=(-180, 180, -90, 90),
        seed=5,
    )
    W = enc.pe.dirvec.numpy()
    b = enc.pe.shift.numpy()
    assert W.shape == (2, 2048) and b.shape == (2048,)
    assert abs(W.std() - 2.0) < 0.1  # variance 4 -> std 2
    assert b.min() >= 0 and b.max() < 2 * math.pi
    x = torch.tensor([[0.0, 0.0], [180.0, 90.0], [-90.0, 45.0]], dtype=torch.float64)
    got = enc.position_encoding(x).numpy()
    scale = math.sqrt(2 / 2048)
    assert_allclose(got[0], scale * np.cos(b), atol=1e-12)  # x~ = (0, 0)
    assert_allclose(got[1], scale * np.cos(W[0] + W[1] + b), atol=1e-12)  # x~ = (1, 1)
    assert_allclose(got[2], scale * np.cos(-0.5 * W[0] + 0.5 * W[1] + b), atol=1e-12)


def test_rff_map_range_box():
    enc = encoders.build("rff", frequency_num=4, map_range=(-162, -59, 20, 56), hidden_dim=8)
    W, b = enc.pe.dirvec.numpy(), enc.pe.shift.numpy()
    got = enc.position_encoding(torch.tensor([[-59.0, 20.0]], dtype=torch.float64)).numpy()
    assert_allclose(got[0], math.sqrt(0.5) * np.cos(W[0] - W[1] + b), atol=1e-12)


# ----------------------------------------------------------------------------- wrap / tile
@pytest.mark.parametrize("name", ["wrap", "wrap_ffn"])
def test_wrap_hand_values(name):
    got = pe(name, [[90.0, 45.0], [180.0, 90.0], [0.0, 90.0], [0.0, -90.0], [-90.0, 0.0]])
    assert_allclose(got[0], [1, 1, 0, 0], atol=1e-12)  # sin 90, sin 90, cos 90, cos 90
    assert_allclose(got[1], [0, 0, -1, -1], atol=1e-12)
    assert_allclose(got[2], got[3], atol=1e-12)  # both poles -> same features (Q12)
    assert_allclose(got[4], [-1, 0, 0, 1], atol=1e-12)


def test_tile_indices_hand_values():
    enc = encoders.build(
        "tile_ffn", min_radius=1.0, map_range=(0, 10, 0, 5), spa_embed_dim=4, hidden_dim=8
    )
    assert enc.pe.table.weight.shape == (50, 4)
    pts = torch.tensor([[0.5, 0.5], [9.99, 4.99], [3.2, 2.7], [-50.0, -50.0], [50.0, 50.0]])
    assert enc.pe.cell_index(pts).tolist() == [0, 49, 23, 0, 49]
    got = enc.position_encoding(pts)
    assert torch.equal(got, enc.pe.table.weight[[0, 49, 23, 0, 49]])


def test_tile_default_global_grid_and_anchor_compat():
    enc = encoders.build("tile_ffn", spa_embed_dim=4, hidden_dim=8)  # 5-degree global grid
    assert enc.pe.table.weight.shape == (72 * 36, 4)
    x = torch.tensor([[-180.0, -90.0], [180.0, 90.0], [2.5, 2.5]])
    assert enc.pe.cell_index(x).tolist() == [0, 72 * 36 - 1, 18 * 72 + 36]
    compat = encoders.build("tile_ffn", anchor_compat=True, spa_embed_dim=4, hidden_dim=8)
    assert compat.pe.table.weight.shape == (1, 4)
    out = compat.position_encoding(torch.tensor([list(PARIS), list(SYDNEY)]))
    assert torch.equal(out[0], out[1])


def test_tile_refuses_absurd_grid():
    with pytest.raises(ValueError, match="min_radius"):
        encoders.build("tile_ffn", min_radius=1e-3)


# ----------------------------------------------------------------------------- spherical harmonics
def _scipy_real_sh(lonlat: np.ndarray, L: int, pi_m0: bool) -> np.ndarray:
    theta = np.radians(lonlat[:, 1] + 90.0)  # anchor: polar angle from the south pole
    az = np.radians(lonlat[:, 0] + 180.0)
    cols = []
    for l in range(L):
        for m in range(-l, l + 1):
            y = sph_harm_y(l, abs(m), theta, az)  # complex, with Condon-Shortley phase
            if m > 0:
                v = math.sqrt(2) * (-1) ** m * y.real
            elif m < 0:
                v = math.sqrt(2) * (-1) ** m * y.imag
            else:
                v = y.real * (math.pi if pi_m0 else 1.0)
            cols.append(v)
    return np.stack(cols, 1)


@pytest.mark.parametrize("basis", ["anchor", "orthonormal"])
def test_sh_against_scipy(basis):
    rng = np.random.default_rng(1)
    pts = np.c_[rng.uniform(-180, 180, 30), rng.uniform(-90, 90, 30)]
    pts = np.r_[pts, [[0, 90], [0, -90], [180, 0], [-180, 0], [0, 0], PARIS, SYDNEY]]
    got = pe("Siren(SH)", pts.tolist(), legendre_poly_num=12, sh_basis=basis)
    assert got.shape == (len(pts), 144)
    assert_allclose(got, _scipy_real_sh(pts, 12, basis == "anchor"), atol=1e-10)


def test_sh_hand_values_default_l8():
    got = pe("Siren(SH)", [[0.0, 90.0], [-180.0, 0.0]])
    assert got.shape == (2, 64)
    # Y_00 = pi / (2 sqrt(pi)); Y_10 = pi sqrt(3/(4pi)) cos(theta); north pole: theta = pi
    assert_allclose(got[:, 0], math.sqrt(math.pi) / 2, rtol=1e-12)
    assert_allclose(got[0, 2], -math.pi * math.sqrt(3 / (4 * math.pi)), rtol=1e-12)
    # at a pole every m != 0 function vanishes
    m_nonzero = [l * l + l + m for l in range(8) for m in range(-l, l + 1) if m != 0]
    assert_allclose(got[0, m_nonzero], 0.0, atol=1e-12)
    # (-180, 0): theta = pi/2, az = 0: Y_11 = sqrt2 K_1^1 P_1^1(0) = sqrt(3/(4 pi)), Y_1-1 = 0
    assert_allclose(got[1, [1, 2, 3]], [0.0, 0.0, math.sqrt(3 / (4 * math.pi))], atol=1e-12)


def test_sh_orthonormal_basis_integrates_to_identity():
    # Gauss-Legendre in cos(theta) x uniform azimuth: exact for degree < 8 products
    n_t, n_a = 16, 32
    t, w = np.polynomial.legendre.leggauss(n_t)
    lat = np.degrees(np.arcsin(-t))  # cos(theta) = -sin(lat)
    lon = np.arange(n_a) * 360.0 / n_a - 180.0
    grid = np.array([[lo, la] for la in lat for lo in lon])
    weights = np.repeat(w, n_a) * (2 * math.pi / n_a)
    Y = pe("Siren(SH)", grid.tolist(), sh_basis="orthonormal")
    gram = (Y * weights[:, None]).T @ Y
    assert_allclose(gram, np.eye(64), atol=1e-10)
