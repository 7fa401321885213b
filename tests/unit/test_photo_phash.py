"""Perceptual hashes: reused photos match their original, distinct photos never match."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.photos.phash import (
    DEFAULT_MAX_DISTANCE,
    HashIndex,
    hamming_distance,
    phash,
    phash_pair,
)
from monitor.photos.quality import check_photo
from monitor.photos.resample import area_resize, luminance
from simulators.photos import ReuseKind, checkpoint_photo, render_scene, reuse

REUSE_SEEDS = (101, 102, 103, 104, 105)


@pytest.fixture(scope="module")
def originals() -> dict[int, bytes]:
    return {seed: checkpoint_photo(seed).data for seed in REUSE_SEEDS}


@pytest.fixture(scope="module")
def index(originals: dict[int, bytes]) -> HashIndex:
    stored = HashIndex()
    for seed, data in originals.items():
        stored.add(f"photo-{seed}", _hashes(data)[0])
    return stored


def _hashes(data: bytes) -> tuple[int, int]:
    check = check_photo(data)
    assert check.phash is not None
    assert check.phash_mirror is not None
    return check.phash, check.phash_mirror


@pytest.mark.parametrize("kind", list(ReuseKind))
@pytest.mark.parametrize("seed", REUSE_SEEDS)
def test_reused_photo_is_found_in_the_index(
    originals: dict[int, bytes], index: HashIndex, kind: ReuseKind, seed: int
) -> None:
    h, h_mirror = _hashes(reuse(originals[seed], kind))
    matches = index.find_reuse(h, h_mirror)
    assert [m.photo_id for m in matches] == [f"photo-{seed}"]
    assert matches[0].distance <= DEFAULT_MAX_DISTANCE // 2  # well inside the threshold
    assert matches[0].mirrored is (kind is ReuseKind.MIRRORED)


def test_mirror_is_not_matched_by_the_direct_hash_alone(originals: dict[int, bytes]) -> None:
    h_original, h_original_mirror = _hashes(originals[101])
    h_copy, _ = _hashes(reuse(originals[101], ReuseKind.MIRRORED))
    assert hamming_distance(h_copy, h_original) > DEFAULT_MAX_DISTANCE
    assert hamming_distance(h_copy, h_original_mirror) <= DEFAULT_MAX_DISTANCE


def test_two_hundred_distinct_photos_never_match() -> None:
    """200 generated scenes, each checked against all others directly and as mirror images.

    Rendered at 512x384 to keep the test fast: the hash is taken of a 32x32 area average, so
    the scene's layout, not its resolution, decides it (full-size figures are in the report).
    """
    hashes = []
    for seed in range(5000, 5200):
        gray = luminance(np.asarray(render_scene(seed, width=512, height=384)))
        hashes.append(phash_pair(gray))
    index = HashIndex(initial_capacity=8)
    for seed, (h, _) in enumerate(hashes):
        index.add(str(seed), h)
    for seed, (h, h_mirror) in enumerate(hashes):
        matches = index.find_reuse(h, h_mirror)
        assert [m.photo_id for m in matches] == [str(seed)], matches
    direct = np.array([h for h, _ in hashes], dtype=np.uint64)
    pairwise = np.bitwise_count(direct[:, None] ^ direct[None, :])
    off_diagonal = pairwise[~np.eye(len(hashes), dtype=bool)]
    assert off_diagonal.min() > DEFAULT_MAX_DISTANCE
    assert 24 <= np.median(off_diagonal) <= 40  # unrelated photos differ in about half the bits


def test_hash_ignores_brightness_scale_and_resolution() -> None:
    gray = luminance(np.asarray(render_scene(77)))
    h = phash(gray)
    assert phash(gray * 0.4) == h  # the DCT is linear and the median threshold scale-free
    assert hamming_distance(phash(area_resize(gray, 384, 512)), h) <= 2


def test_mirror_hash_is_the_hash_of_the_flipped_image() -> None:
    gray = luminance(np.asarray(render_scene(78)))
    h, h_mirror = phash_pair(gray)
    assert h == phash(gray)
    assert h_mirror == phash(gray[:, ::-1].copy())
    assert h != h_mirror


def test_hash_has_63_informative_bits_with_dc_cleared() -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        h = phash(rng.random((40, 50)))
        assert 0 <= h < 1 << 64
        assert not h >> 63  # the DC position (most significant bit) is always 0
        assert h.bit_count() == 31  # 63 coefficients above their median


def test_hamming_distance() -> None:
    assert hamming_distance(0, 0) == 0
    assert hamming_distance(0b1011, 0b0001) == 2
    assert hamming_distance(0, (1 << 64) - 1) == 64


def test_index_matches_brute_force_and_sorts_by_distance() -> None:
    rng = np.random.default_rng(11)
    stored = [int(x) for x in rng.integers(0, 2**63, size=3000, dtype=np.uint64)]
    query = stored[17] ^ 0b101  # 2 bits from photo 17
    index = HashIndex(initial_capacity=2)  # forces the array to grow
    index.add_many((f"p{i}", h) for i, h in enumerate(stored))
    assert len(index) == 3000
    expected = sorted(
        ((f"p{i}", hamming_distance(h, query)) for i, h in enumerate(stored) if hamming_distance(h, query) <= 20),
        key=lambda item: item[1],
    )
    found = index.nearest(query, max_distance=20)
    assert found[0] == ("p17", 2)
    assert sorted(found) == sorted(expected)
    assert [d for _, d in found] == sorted(d for _, d in found)
    assert index.nearest(query, max_distance=1) == []


def test_index_rejects_hashes_outside_64_bits() -> None:
    index = HashIndex()
    with pytest.raises(ValueError, match="64-bit"):
        index.add("x", 1 << 64)
    with pytest.raises(ValueError, match="64-bit"):
        index.add("x", -1)


def test_empty_index_finds_nothing() -> None:
    index = HashIndex()
    assert index.nearest(12345) == []
    assert index.find_reuse(1, 2) == []
