"""EXIF capture time and GPS: written by the simulator, read back by the monitor."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from PIL import Image

from monitor.photos.exif import (
    ExifInfo,
    distance_from_km,
    exif_info,
    exif_info_from_bytes,
    haversine_km,
    parse_exif_datetime,
)
from monitor.photos.quality import check_photo
from simulators.photos import checkpoint_photo, encode_jpeg, make_exif, offset_position

TAKEN_AT_MS = 1_795_558_119_412  # 2026-11-24T10:08:39.412Z
PARIS = (48.8566, 2.3522)
LONDON = (51.5074, -0.1278)


def _small_jpeg(exif: Image.Exif | None) -> bytes:
    return encode_jpeg(Image.new("RGB", (32, 24), (90, 100, 110)), exif=exif)


def test_roundtrip_through_a_checkpoint_photo() -> None:
    photo = checkpoint_photo(3, taken_at_ms=TAKEN_AT_MS, lat=PARIS[0], lon=PARIS[1])
    check = check_photo(photo.data)
    assert check.ok
    assert check.exif_taken_at_ms == TAKEN_AT_MS
    assert check.exif_lat == pytest.approx(PARIS[0], abs=1e-6)
    assert check.exif_lon == pytest.approx(PARIS[1], abs=1e-6)


@pytest.mark.parametrize(("lat", "lon"), [(-33.8688, 151.2093), (40.7128, -74.0060), (-22.9068, -43.1729)])
def test_southern_and_western_hemispheres_keep_their_sign(lat: float, lon: float) -> None:
    info = exif_info_from_bytes(_small_jpeg(make_exif(lat=lat, lon=lon)))
    assert info.lat == pytest.approx(lat, abs=1e-6)
    assert info.lon == pytest.approx(lon, abs=1e-6)
    assert info.taken_at_ms is None


@pytest.mark.parametrize("offset", ["+02:00", "-05:30", "+00:00"])
def test_local_time_with_offset_gives_the_same_instant(offset: str) -> None:
    info = exif_info_from_bytes(_small_jpeg(make_exif(taken_at_ms=TAKEN_AT_MS, utc_offset=offset)))
    assert info.taken_at_ms == TAKEN_AT_MS


def test_time_without_offset_is_taken_as_utc() -> None:
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2026:11:24 10:00:00"
    info = exif_info_from_bytes(_small_jpeg(exif))
    expected = int(datetime(2026, 11, 24, 10, tzinfo=UTC).timestamp() * 1000)
    assert info == ExifInfo(taken_at_ms=expected, lat=None, lon=None)


def test_photo_without_exif_has_none() -> None:
    assert exif_info_from_bytes(_small_jpeg(None)) == ExifInfo()
    with Image.open(io.BytesIO(_small_jpeg(None))) as image:
        assert exif_info(image) == ExifInfo()


def test_garbage_bytes_have_no_exif() -> None:
    assert exif_info_from_bytes(b"\x00garbage") == ExifInfo()


@pytest.mark.parametrize(
    ("value", "offset", "subsec", "expected"),
    [
        ("2026:11:24 10:00:00", None, None, 1_795_514_400_000),
        ("2026:11:24 12:00:00", "+02:00", None, 1_795_514_400_000),
        ("2026:11:24 05:00:00", "-05:00", "25", 1_795_514_400_250),
        (b"2026:11:24 10:00:00\x00", None, None, 1_795_514_400_000),
        ("2026:13:40 10:00:00", None, None, None),
        ("    :  :     :  :  ", None, None, None),
        ("yesterday", None, None, None),
        (None, None, None, None),
        (12345, None, None, None),
    ],
)
def test_parse_exif_datetime(value: object, offset: object, subsec: object, expected: int | None) -> None:
    assert parse_exif_datetime(value, offset, subsec) == expected


def test_malformed_gps_is_ignored() -> None:
    exif = Image.Exif()
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (95.0, 0.0, 0.0)  # latitude beyond the pole
    gps[3], gps[4] = "E", (10.0, 0.0, 0.0)
    assert exif_info_from_bytes(_small_jpeg(exif)) == ExifInfo()


def test_haversine_paris_london() -> None:
    assert haversine_km(*PARIS, *LONDON) == pytest.approx(343.5, abs=0.5)
    assert haversine_km(*LONDON, *PARIS) == pytest.approx(haversine_km(*PARIS, *LONDON))


def test_haversine_edge_cases() -> None:
    assert haversine_km(*PARIS, *PARIS) == 0.0
    half_circumference = haversine_km(0.0, 0.0, 0.0, 180.0)
    assert half_circumference == pytest.approx(20_015.1, abs=0.5)
    assert haversine_km(0.0, 179.5, 0.0, -179.5) == pytest.approx(111.2, abs=0.1)


def test_photo_far_from_the_shop_is_measurable() -> None:
    far = offset_position(*PARIS, 120.0, 37.0)
    photo = checkpoint_photo(9, taken_at_ms=TAKEN_AT_MS, lat=far[0], lon=far[1])
    info = exif_info_from_bytes(photo.data)
    distance = distance_from_km(info, *PARIS)
    assert distance == pytest.approx(120.0, abs=0.01)
    assert distance_from_km(ExifInfo(), *PARIS) is None
