"""EXIF capture time and GPS position of photos, and great-circle distance.

Read with Pillow's ``Image.getexif()`` / ``Exif.get_ifd``: ``DateTimeOriginal`` (with
``OffsetTimeOriginal`` and ``SubSecTimeOriginal`` when present) from the Exif IFD, latitude and
longitude from the GPS IFD. Malformed values are treated as absent; nothing here raises on the
content of a photo.
"""

from __future__ import annotations

import io
import logging
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from PIL import Image

logger = logging.getLogger(__name__)

EXIF_IFD = 0x8769
GPS_IFD = 0x8825
TAG_DATETIME_ORIGINAL = 0x9003
TAG_OFFSET_TIME_ORIGINAL = 0x9011
TAG_SUBSEC_TIME_ORIGINAL = 0x9291
GPS_LATITUDE_REF = 1
GPS_LATITUDE = 2
GPS_LONGITUDE_REF = 3
GPS_LONGITUDE = 4

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG), the usual sphere for haversine distances."""

_DATETIME = re.compile(r"^\s*(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_OFFSET = re.compile(r"^\s*([+-])(\d{2}):(\d{2})\s*$")


@dataclass(frozen=True, slots=True)
class ExifInfo:
    """What a photo's EXIF says about when and where it was taken.

    ``taken_at_ms``: epoch milliseconds of DateTimeOriginal, UTC when the photo gives no offset.
    ``lat`` / ``lon``: decimal degrees, north and east positive.
    """

    taken_at_ms: int | None = None
    lat: float | None = None
    lon: float | None = None


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", errors="replace")
    return value.strip("\x00 ") if isinstance(value, str) else None


def parse_exif_datetime(value: object, offset: object = None, subsec: object = None) -> int | None:
    """Epoch ms of an EXIF ``"YYYY:MM:DD HH:MM:SS"`` value, or None when it does not parse.

    ``offset`` is an EXIF ``"+HH:MM"`` string; without one the time is taken as UTC.
    ``subsec`` is the EXIF fraction-of-second digits string (``"25"`` -> 0.25 s).
    """
    text = _text(value)
    match = _DATETIME.match(text) if text else None
    if match is None:
        return None
    zone = UTC
    offset_text = _text(offset)
    offset_match = _OFFSET.match(offset_text) if offset_text else None
    if offset_match is not None:
        sign = -1 if offset_match.group(1) == "-" else 1
        minutes = int(offset_match.group(2)) * 60 + int(offset_match.group(3))
        if minutes < 24 * 60:
            zone = timezone(sign * timedelta(minutes=minutes))
    year, month, day, hour, minute, second = (int(g) for g in match.groups())
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=zone)
    except ValueError:
        return None
    millis = 0
    subsec_text = _text(subsec)
    if subsec_text and subsec_text.isdigit():
        millis = int((subsec_text + "000")[:3])
    return int(moment.timestamp()) * 1000 + millis


def _degrees(value: object, ref: object) -> float | None:
    """Decimal degrees from an EXIF (degrees, minutes, seconds) triple and an N/S/E/W ref."""
    if not isinstance(value, (tuple, list)):
        return None
    try:
        parts = [float(v) for v in value]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if len(parts) != 3 or not all(math.isfinite(p) and p >= 0 for p in parts):
        return None
    degrees = parts[0] + parts[1] / 60.0 + parts[2] / 3600.0
    ref_text = (_text(ref) or "").upper()
    return -degrees if ref_text in {"S", "W"} else degrees


def exif_info(image: Image.Image) -> ExifInfo:
    """Read capture time and GPS position from an opened Pillow image; never raises."""
    try:
        exif = image.getexif()
        details = exif.get_ifd(EXIF_IFD)
        taken_at = parse_exif_datetime(
            details.get(TAG_DATETIME_ORIGINAL),
            details.get(TAG_OFFSET_TIME_ORIGINAL),
            details.get(TAG_SUBSEC_TIME_ORIGINAL),
        )
        gps = exif.get_ifd(GPS_IFD)
        lat = _degrees(gps.get(GPS_LATITUDE), gps.get(GPS_LATITUDE_REF))
        lon = _degrees(gps.get(GPS_LONGITUDE), gps.get(GPS_LONGITUDE_REF))
    except Exception as exc:  # malformed EXIF blocks raise many kinds of errors in Pillow
        logger.debug("unreadable EXIF: %s", exc)
        return ExifInfo()
    if lat is None or lon is None or abs(lat) > 90.0 or abs(lon) > 180.0:
        lat = lon = None
    return ExifInfo(taken_at_ms=taken_at, lat=lat, lon=lon)


def exif_info_from_bytes(data: bytes) -> ExifInfo:
    """Read capture time and GPS position from encoded photo bytes; never raises."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return exif_info(image)
    except Exception as exc:
        logger.debug("not an image while reading EXIF: %s", exc)
        return ExifInfo()


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two points given in decimal degrees.

    Haversine formula on a sphere of radius ``EARTH_RADIUS_KM``; error below 0.5 % against
    the ellipsoid, plenty for "is this photo near the shop" and "how far is the shop".
    """
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2.0 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def distance_from_km(info: ExifInfo, lat: float, lon: float) -> float | None:
    """Distance in km from a photo's EXIF position to ``(lat, lon)``; None without GPS."""
    if info.lat is None or info.lon is None:
        return None
    return haversine_km(info.lat, info.lon, lat, lon)
