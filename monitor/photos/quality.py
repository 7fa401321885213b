"""Quality checks of a repair checkpoint photo: decodable, large enough, sharp, well exposed.

Pillow only decodes (and applies the EXIF orientation); every measure is numpy/scipy on the
decoded luminance (BT.601, scaled to 0..1):

- ``brightness``: mean luminance. Below ``dark_below`` -> ``too_dark``, above ``bright_above``
  -> ``too_bright``.
- ``clipped_fraction``: fraction of pixels at the ends of the range (luminance <= ``clip_low``
  or >= ``clip_high``), where detail is lost, counted on the image reduced for the blur check
  (neighbour averaging keeps sensor grain from counting). Above ``clipped_above`` ->
  ``clipped``.
- ``blur_score`` (sharpness): the luminance is area-averaged to a long side of
  ``blur_long_side`` px (never upscaled) so the score does not depend on the camera's
  resolution; then ``1000 * var(laplace(gaussian(g, denoise_sigma))) / var(g - gaussian(g,
  contrast_sigma))``: the energy of the finest detail relative to the image's local contrast
  at a coarser scale. Normalizing by contrast keeps a dim (or low-contrast) but sharp photo
  from being called blurry; using the band-passed variance rather than the plain intensity
  variance keeps large smooth gradients (a lit wall) from lowering the score. The light
  pre-smoothing (sigma 1 px) matters: sensor grain is added after the lens blur, and on the
  raw Laplacian it dominates, so a photo blurred by 7 px scored as sharp as a clean one; with
  it, on generated 1024x768 photos with grain: clean 145-192 (100 photos; the same after JPEG
  quality 60 or at 35 % contrast), Gaussian blur of 1.5 px 130-161, 2.5 px 88-104, 4 px
  55-61, 7 px 40-47 (20 photos each). Below ``min_sharpness`` (75) -> ``blurry``.
- ``too_small``: the shorter side is below ``min_side`` px.
- ``not_image`` / ``too_large``: the bytes do not decode as a JPEG/PNG, or exceed the byte or
  pixel limits (a decompression-bomb guard checked from the header, before decoding).

``check_photo`` never raises on its input.
"""

from __future__ import annotations

import io
import logging
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.ndimage
from numpy.typing import NDArray
from PIL import Image, ImageOps

from monitor.photos.exif import ExifInfo, exif_info
from monitor.photos.phash import phash_pair
from monitor.photos.resample import FloatImage, area_resize, fit_long_side, luminance

logger = logging.getLogger(__name__)

MAX_PHOTO_BYTES = 8 * 1024 * 1024
"""The contract's limit on a decoded photo payload: 8 MiB."""
MIN_SIDE_PX = 640

FLAG_ORDER: tuple[str, ...] = ("not_image", "too_large", "too_small", "blurry", "too_dark", "too_bright", "clipped")
"""Every flag ``check_photo`` can raise, in the order it reports them."""


@dataclass(frozen=True, slots=True)
class QualityThresholds:
    """Thresholds of the photo checks (units in the field comments)."""

    min_sharpness: float = 75.0
    """``blur_score`` below this is ``blurry`` (dimensionless, see the module doc)."""
    blur_long_side: int = 512
    """Long side in px the luminance is reduced to before measuring sharpness."""
    denoise_sigma: float = 1.0
    """Gaussian sigma in px (at ``blur_long_side``) smoothing grain before the Laplacian."""
    contrast_sigma: float = 4.0
    """Gaussian sigma in px (at ``blur_long_side``) of the local-contrast band-pass."""
    dark_below: float = 0.15
    """Mean luminance (0..1) below this is ``too_dark``."""
    bright_above: float = 0.85
    """Mean luminance (0..1) above this is ``too_bright``."""
    clip_low: float = 0.02
    clip_high: float = 0.98
    """Luminance at or beyond these ends counts as clipped."""
    clipped_above: float = 0.15
    """A clipped-pixel fraction above this is ``clipped``."""
    max_pixels: int = 50_000_000
    """Photos with more pixels (width x height, read from the header) are ``too_large``."""
    formats: tuple[str, ...] = ("JPEG", "PNG")
    """Formats accepted (Pillow names), the contract's JPEG and PNG. Multi-picture JPEGs
    (MPO, written by some phones) open through the JPEG plugin."""


DEFAULT_THRESHOLDS = QualityThresholds()


@dataclass(frozen=True, slots=True)
class PhotoCheck:
    """The result of ``check_photo``.

    ``width``/``height`` in px (0 when the header could not be read). ``blur_score``,
    ``brightness`` (mean luminance 0..1) and ``clipped_fraction`` (0..1) are None when the
    photo was not decoded; so are the hashes. ``exif_taken_at_ms`` is epoch ms (UTC when the
    photo gives no offset), ``exif_lat``/``exif_lon`` decimal degrees. ``reasons`` explains
    each flag with its numbers, in the order of ``flags``.
    """

    ok: bool
    flags: tuple[str, ...]
    width: int
    height: int
    blur_score: float | None
    brightness: float | None
    clipped_fraction: float | None
    phash: int | None
    phash_mirror: int | None
    exif_taken_at_ms: int | None
    exif_lat: float | None
    exif_lon: float | None
    reasons: tuple[str, ...]
    format: str | None = None
    byte_size: int = 0


def reduce_for_analysis(gray: FloatImage, thresholds: QualityThresholds = DEFAULT_THRESHOLDS) -> NDArray[np.float32]:
    """Area-average a luminance array to a long side of ``blur_long_side`` px (never up)."""
    height, width = gray.shape
    reduced = area_resize(gray, *fit_long_side(height, width, thresholds.blur_long_side))
    return reduced.astype(np.float32)


def sharpness(reduced: FloatImage, thresholds: QualityThresholds = DEFAULT_THRESHOLDS) -> float:
    """Contrast-normalized variance of the Laplacian (see the module doc) of a 0..1 luminance
    array already passed through ``reduce_for_analysis``."""
    if min(reduced.shape) < 3:
        return 0.0
    smoothed = scipy.ndimage.gaussian_filter(reduced, thresholds.denoise_sigma, mode="reflect")
    detail = scipy.ndimage.laplace(smoothed, mode="reflect")
    coarse = scipy.ndimage.gaussian_filter(reduced, thresholds.contrast_sigma, mode="reflect")
    contrast = float((reduced - coarse).var(dtype=np.float64))
    if contrast < 1e-10:  # a flat image has no detail at all
        return 0.0
    return 1000.0 * float(detail.var(dtype=np.float64)) / contrast


def _failed(
    flag: str,
    reason: str,
    *,
    width: int = 0,
    height: int = 0,
    fmt: str | None = None,
    byte_size: int = 0,
) -> PhotoCheck:
    return PhotoCheck(
        ok=False,
        flags=(flag,),
        width=width,
        height=height,
        blur_score=None,
        brightness=None,
        clipped_fraction=None,
        phash=None,
        phash_mirror=None,
        exif_taken_at_ms=None,
        exif_lat=None,
        exif_lon=None,
        reasons=(reason,),
        format=fmt,
        byte_size=byte_size,
    )


def _decode(
    data: bytes, max_bytes: int, thresholds: QualityThresholds
) -> tuple[NDArray[np.float32], ExifInfo, str | None] | PhotoCheck:
    """Decode to luminance, or return the failed check saying why not."""
    size = len(data)
    if size > max_bytes:
        return _failed("too_large", f"too_large: {size} bytes > {max_bytes}", byte_size=size)
    try:
        with warnings.catch_warnings():
            # Our own pixel limit is checked below before decoding; Pillow's bomb warning
            # (a module-global setting) would only duplicate it.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(thresholds.formats)) as image:
                width, height = image.size
                fmt = image.format
                if width * height > thresholds.max_pixels:
                    return _failed(
                        "too_large",
                        f"too_large: {width}x{height} = {width * height} pixels > {thresholds.max_pixels}",
                        width=width,
                        height=height,
                        fmt=fmt,
                        byte_size=size,
                    )
                image.load()
                info = exif_info(image)
                ImageOps.exif_transpose(image, in_place=True)  # as the photo is viewed
                upright = image if image.mode in ("L", "RGB") else image.convert("RGB")
                pixels = np.asarray(upright)
    except Image.DecompressionBombError as exc:  # Pillow's own limit, checked on open
        return _failed("too_large", f"too_large: {exc}", byte_size=size)
    except Exception as exc:  # Pillow raises many types on corrupt or truncated data
        logger.debug("photo of %s bytes does not decode: %s", size, exc)
        return _failed(
            "not_image", f"not_image: cannot decode ({type(exc).__name__}: {str(exc)[:120]})", byte_size=size
        )
    return luminance(pixels), info, fmt


def check_photo(
    data: bytes,
    *,
    max_bytes: int = MAX_PHOTO_BYTES,
    min_side: int = MIN_SIDE_PX,
    thresholds: QualityThresholds = DEFAULT_THRESHOLDS,
) -> PhotoCheck:
    """Check one encoded photo; never raises. ``ok`` is True when no flag is raised."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        return _failed("not_image", f"not_image: expected bytes, got {type(data).__name__}")
    decoded = _decode(bytes(data), max_bytes, thresholds)
    if isinstance(decoded, PhotoCheck):
        return decoded
    gray, info, fmt = decoded
    height, width = gray.shape
    brightness = float(gray.mean(dtype=np.float64))
    reduced = reduce_for_analysis(gray, thresholds)
    # On the reduced image: averaging neighbours keeps grain from counting as clipped.
    clipped = (
        float(np.count_nonzero((reduced <= thresholds.clip_low) | (reduced >= thresholds.clip_high))) / reduced.size
    )
    blur = sharpness(reduced, thresholds)
    h, h_mirror = phash_pair(reduced)  # the 32x32 hash thumbnail is taken of the reduced image

    found: dict[str, str] = {}
    if min(width, height) < min_side:
        found["too_small"] = f"too_small: {width}x{height} px, shorter side < {min_side}"
    if blur < thresholds.min_sharpness:
        found["blurry"] = f"blurry: sharpness {blur:.1f} < {thresholds.min_sharpness:g}"
    if brightness < thresholds.dark_below:
        found["too_dark"] = f"too_dark: mean brightness {brightness:.3f} < {thresholds.dark_below:g}"
    if brightness > thresholds.bright_above:
        found["too_bright"] = f"too_bright: mean brightness {brightness:.3f} > {thresholds.bright_above:g}"
    if clipped > thresholds.clipped_above:
        found["clipped"] = (
            f"clipped: {100 * clipped:.1f} % of pixels at black or white > {100 * thresholds.clipped_above:g} %"
        )
    flags = tuple(flag for flag in FLAG_ORDER if flag in found)
    return PhotoCheck(
        ok=not flags,
        flags=flags,
        width=width,
        height=height,
        blur_score=blur,
        brightness=brightness,
        clipped_fraction=clipped,
        phash=h,
        phash_mirror=h_mirror,
        exif_taken_at_ms=info.taken_at_ms,
        exif_lat=info.lat,
        exif_lon=info.lon,
        reasons=tuple(found[flag] for flag in flags),
        format=fmt,
        byte_size=len(data),
    )
