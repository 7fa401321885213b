"""Quality flags of checkpoint photos: clean photos pass, every fault is named, nothing raises."""

from __future__ import annotations

import io
import re
import struct
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from monitor.photos.quality import (
    FLAG_ORDER,
    PhotoCheck,
    QualityThresholds,
    check_photo,
    reduce_for_analysis,
    sharpness,
)
from simulators.photos import PhotoFault, checkpoint_photo, encode_jpeg, render_scene

CLEAN_SEEDS = range(1000, 1030)


@pytest.fixture(scope="module")
def clean_photo() -> bytes:
    return checkpoint_photo(7).data


@pytest.mark.parametrize("seed", CLEAN_SEEDS)
def test_clean_photo_raises_no_flag(seed: int) -> None:
    check = check_photo(checkpoint_photo(seed).data)
    assert check.flags == ()
    assert check.ok
    assert (check.width, check.height) == (1024, 768)
    assert check.reasons == ()
    assert check.brightness is not None
    assert 0.2 < check.brightness < 0.8
    assert check.phash is not None
    assert check.phash_mirror is not None


@pytest.mark.parametrize(
    "fault",
    [PhotoFault.BLURRY, PhotoFault.DARK, PhotoFault.OVEREXPOSED, PhotoFault.TOO_SMALL, PhotoFault.NOT_IMAGE],
)
@pytest.mark.parametrize("seed", [11, 12, 13])
def test_each_fault_raises_exactly_its_flags(fault: PhotoFault, seed: int) -> None:
    photo = checkpoint_photo(seed, fault=fault)
    check = check_photo(photo.data)
    assert set(check.flags) == photo.expected_flags
    assert not check.ok
    assert len(check.reasons) == len(check.flags)
    for flag, reason in zip(check.flags, check.reasons, strict=True):
        assert reason.startswith(f"{flag}:")


def test_reasons_carry_the_measured_numbers() -> None:
    blurry = check_photo(checkpoint_photo(21, fault=PhotoFault.BLURRY).data)
    assert blurry.blur_score is not None
    (reason,) = blurry.reasons
    assert re.fullmatch(r"blurry: sharpness \d+\.\d < 75", reason)
    assert f"{blurry.blur_score:.1f}" in reason
    dark = check_photo(checkpoint_photo(21, fault=PhotoFault.DARK).data)
    assert dark.brightness is not None
    assert f"{dark.brightness:.3f}" in dark.reasons[0]


def test_dim_but_sharp_photo_is_dark_not_blurry() -> None:
    dark = check_photo(checkpoint_photo(31, fault=PhotoFault.DARK).data)
    clean = check_photo(checkpoint_photo(31).data)
    assert dark.flags == ("too_dark",)
    assert dark.blur_score is not None
    assert clean.blur_score is not None
    # Contrast normalization: dimming by ~6x leaves the sharpness within 25 %.
    assert dark.blur_score == pytest.approx(clean.blur_score, rel=0.25)


def test_sharpness_falls_monotonically_with_blur() -> None:
    gray = np.asarray(render_scene(41).convert("L"), dtype=np.float32) / 255.0
    from scipy.ndimage import gaussian_filter

    scores = [sharpness(reduce_for_analysis(gaussian_filter(gray, s))) for s in (0.0, 2, 4, 8)]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > 2 * scores[2]


def test_flat_image_is_blurry_with_zero_sharpness() -> None:
    flat = Image.new("RGB", (800, 700), (120, 130, 140))
    check = check_photo(encode_jpeg(flat))
    assert check.blur_score == 0.0
    assert check.flags == ("blurry",)


def test_png_and_grayscale_photos_are_accepted() -> None:
    scene = render_scene(51)
    png = io.BytesIO()
    scene.save(png, format="PNG", compress_level=1)
    gray = encode_jpeg(scene.convert("L"))
    rgba = io.BytesIO()
    scene.convert("RGBA").save(rgba, format="PNG", compress_level=1)
    for data in (png.getvalue(), gray, rgba.getvalue()):
        check = check_photo(data)
        assert check.ok, check.reasons
    assert check_photo(png.getvalue()).format == "PNG"


def test_thresholds_are_configurable(clean_photo: bytes) -> None:
    strict = QualityThresholds(min_sharpness=10_000.0, bright_above=0.1)
    check = check_photo(clean_photo, thresholds=strict)
    assert check.flags == ("blurry", "too_bright")
    assert check_photo(clean_photo, min_side=1000).flags == ("too_small",)


def test_byte_limit_rejects_without_decoding(clean_photo: bytes) -> None:
    check = check_photo(clean_photo, max_bytes=1000)
    assert check.flags == ("too_large",)
    assert check.reasons == (f"too_large: {len(clean_photo)} bytes > 1000",)
    assert check.brightness is None
    assert check.phash is None


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` with a tiny, incomplete image body."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    )


def test_decompression_bomb_is_refused_from_the_header() -> None:
    check = check_photo(_png_header_only(10_000, 10_000))
    assert check.flags == ("too_large",)
    assert (check.width, check.height) == (10_000, 10_000)
    assert "100000000 pixels > 50000000" in check.reasons[0]


def test_header_beyond_pillows_own_bomb_limit_is_too_large() -> None:
    check = check_photo(_png_header_only(100_000, 100_000))
    assert check.flags == ("too_large",)
    assert "10000000000 pixels" in check.reasons[0]


@pytest.mark.parametrize(
    "data",
    [b"", b"\xff\xd8\xff", b"GIF89a" + b"\x00" * 20, b"not a photo at all", b"text"],
)
def test_garbage_is_not_an_image(data: bytes) -> None:
    check = check_photo(data)
    assert check.flags == ("not_image",)
    assert check.reasons[0].startswith("not_image: cannot decode")


def test_truncated_jpeg_is_not_an_image(clean_photo: bytes) -> None:
    check = check_photo(clean_photo[: len(clean_photo) // 2])
    assert check.flags == ("not_image",)


def test_non_bytes_input_is_not_an_image() -> None:
    check = check_photo("a string, not bytes")  # type: ignore[arg-type]
    assert check.flags == ("not_image",)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_never_raises_on_arbitrary_bytes(data: bytes) -> None:
    check = check_photo(data)
    assert isinstance(check, PhotoCheck)
    assert set(check.flags) <= set(FLAG_ORDER)
    assert check.ok == (not check.flags)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 255)), min_size=1, max_size=40))
def test_never_raises_on_corrupted_jpeg(edits: list[tuple[int, int]]) -> None:
    corrupted = bytearray(_SMALL_JPEG)
    for position, value in edits:
        corrupted[position % len(corrupted)] = value
    check = check_photo(bytes(corrupted))
    assert isinstance(check, PhotoCheck)
    assert check.ok == (not check.flags)


_SMALL_JPEG = encode_jpeg(render_scene(61, width=256, height=192), quality=80)


def test_exif_orientation_is_applied_before_measuring() -> None:
    scene = render_scene(71)
    tagged = Image.Exif()
    tagged[0x0112] = 6  # "rotate 90 degrees clockwise to view"
    out = io.BytesIO()
    scene.save(out, format="JPEG", quality=90, exif=tagged)
    by_tag = check_photo(out.getvalue())
    by_pixels = check_photo(encode_jpeg(scene.transpose(Image.Transpose.ROTATE_270)))
    assert (by_tag.width, by_tag.height) == (768, 1024)
    assert by_tag.phash is not None
    assert by_pixels.phash is not None
    assert (by_tag.phash ^ by_pixels.phash).bit_count() <= 2
