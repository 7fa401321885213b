"""The photo simulator: deterministic, textured, faults as labelled."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from simulators.photos import (
    EXPECTED_FLAGS,
    PhotoFault,
    ReuseKind,
    checkpoint_photo,
    offset_position,
    render_scene,
    reuse,
)


def _decode(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.copy()


def test_same_seed_same_photo_other_seed_other_photo() -> None:
    assert checkpoint_photo(5).data == checkpoint_photo(5).data
    assert checkpoint_photo(5).data != checkpoint_photo(6).data


def test_photo_is_a_1024x768_jpeg() -> None:
    with Image.open(io.BytesIO(checkpoint_photo(8).data)) as image:
        assert image.format == "JPEG"
        assert image.size == (1024, 768)
        assert image.mode == "RGB"


def test_scene_has_texture_and_detail_not_flat_colour() -> None:
    rgb = np.asarray(render_scene(12))
    pixels = rgb.astype(np.float32)
    gray = pixels.mean(axis=2)
    # Many distinct colours, and fine-scale variation everywhere (grain and grime).
    packed = (rgb[..., 0].astype(np.int32) << 16) | (rgb[..., 1].astype(np.int32) << 8) | rgb[..., 2]
    assert len(np.unique(packed)) > 20_000
    local_std = np.sqrt(np.maximum(ndimage.uniform_filter(gray**2, 9) - ndimage.uniform_filter(gray, 9) ** 2, 0.0))
    assert np.mean(local_std > 1.0) > 0.95
    # Edges: a good share of pixels sit on strong gradients (panels, lines, text).
    edges = np.hypot(ndimage.sobel(gray, 0), ndimage.sobel(gray, 1))
    assert 0.01 < np.mean(edges > 100) < 0.5


def test_fault_keeps_the_scene_of_its_seed() -> None:
    clean = np.asarray(_decode(checkpoint_photo(14).data), dtype=np.float32)
    dark = np.asarray(_decode(checkpoint_photo(14, fault=PhotoFault.DARK).data), dtype=np.float32)
    correlation = np.corrcoef(clean.mean(axis=2).ravel(), dark.mean(axis=2).ravel())[0, 1]
    assert correlation > 0.9
    assert dark.mean() < clean.mean() / 3


@pytest.mark.parametrize("fault", list(PhotoFault))
def test_each_fault_is_labelled_with_its_expected_flags(fault: PhotoFault) -> None:
    photo = checkpoint_photo(15, fault=fault)
    assert photo.fault is fault
    assert photo.expected_flags == EXPECTED_FLAGS[fault]


def test_too_small_and_not_image_faults() -> None:
    small = _decode(checkpoint_photo(16, fault=PhotoFault.TOO_SMALL).data)
    assert min(small.size) < 640
    for seed in range(6):
        data = checkpoint_photo(seed, fault=PhotoFault.NOT_IMAGE).data
        with pytest.raises(OSError), Image.open(io.BytesIO(data)) as image:
            image.load()


def test_reuse_variants() -> None:
    original = checkpoint_photo(17).data
    resized = _decode(reuse(original, ReuseKind.RESIZED))
    assert resized.size == (922, 691)
    mirrored = np.asarray(_decode(reuse(original, ReuseKind.MIRRORED)), dtype=np.float32)
    flipped_back = mirrored[:, ::-1]
    source = np.asarray(_decode(original), dtype=np.float32)
    assert np.abs(flipped_back - source).mean() < 4.0
    assert len(reuse(original, ReuseKind.REENCODED)) < len(original)


def test_offset_position_moves_the_given_distance() -> None:
    lat, lon = offset_position(0.0, 0.0, 111.195, 90.0)
    assert lat == pytest.approx(0.0, abs=1e-9)
    assert lon == pytest.approx(1.0, abs=1e-3)
    lat, lon = offset_position(10.0, 179.9, 50.0, 90.0)
    assert -180.0 <= lon < 180.0
    assert lon < 0
