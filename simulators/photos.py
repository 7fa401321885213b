"""Seeded generator of car-repair checkpoint photos with known faults (ground truth for tests).

A photo is a workshop scene: a wall/floor backdrop of smooth colour gradients, a car body with
shaded panels, panel gaps, a wheel, lamps and masking tape, tools and cables, a job card with
text, then multi-scale noise (lighting blotches, grime, grain) and sensor noise, encoded as JPEG.
Every random choice comes from ``numpy.random.default_rng(seed)``, so a seed is a photo.
One 1024x768 photo takes about 45 ms to generate and encode (2-core machine).

Faults reproduce what goes wrong with real checkpoint photos: camera shake or focus (blurry),
under- and over-exposure, a thumbnail instead of the photo, bytes that are not an image, a
photo reused from another job (re-encoded, resized or mirrored), and EXIF that puts the photo
far from the shop.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

WIDTH = 1024
HEIGHT = 768
JPEG_QUALITY = 90
EARTH_RADIUS_KM = 6371.0088

_FONT_SIZES = (18, 22, 28, 34)
_TEXT_CHARS = np.array(list("ABCDEFGHJKLMNPRSTUVWXYZ0123456789-/."))


class PhotoFault(StrEnum):
    """What is wrong with a simulated photo."""

    NONE = "none"
    BLURRY = "blurry"
    DARK = "dark"
    OVEREXPOSED = "overexposed"
    TOO_SMALL = "too_small"
    NOT_IMAGE = "not_image"


EXPECTED_FLAGS: dict[PhotoFault, frozenset[str]] = {
    PhotoFault.NONE: frozenset(),
    PhotoFault.BLURRY: frozenset({"blurry"}),
    PhotoFault.DARK: frozenset({"too_dark"}),
    PhotoFault.OVEREXPOSED: frozenset({"too_bright", "clipped"}),
    PhotoFault.TOO_SMALL: frozenset({"too_small"}),
    PhotoFault.NOT_IMAGE: frozenset({"not_image"}),
}
"""The quality flags ``monitor.photos.quality.check_photo`` should raise for each fault."""


class ReuseKind(StrEnum):
    """How a reused photo was altered from the original."""

    REENCODED = "reencoded_q60"
    RESIZED = "resized_90"
    MIRRORED = "mirrored"


@dataclass(frozen=True, slots=True)
class SimulatedPhoto:
    """A generated photo and its ground truth.

    ``taken_at_ms`` / ``lat`` / ``lon`` are what was written to EXIF (None: not written).
    """

    data: bytes
    seed: int
    fault: PhotoFault
    expected_flags: frozenset[str]
    taken_at_ms: int | None = None
    lat: float | None = None
    lon: float | None = None


# --------------------------------------------------------------------------- scene rendering
#
# Large smooth areas (wall, floor, car body, glass) are composited at half resolution and
# upsampled once, which also softens their edges like a real lens; details (panel gaps, wheel,
# lamps, tools, text) are drawn at full resolution on top. Lighting and grime are one
# multi-scale noise field applied multiplicatively; sensor grain is added last.


def _colour(rng: np.random.Generator, lo: int = 0, hi: int = 256) -> tuple[int, int, int]:
    r, g, b = rng.integers(lo, hi, size=3)
    return int(r), int(g), int(b)


def _smooth_field(
    rng: np.random.Generator, size: tuple[int, int], grid: tuple[int, int], lo: int, hi: int
) -> Image.Image:
    """Smooth, mostly neutral colour variation (painted walls, concrete): a random grid of
    grey levels in ``lo..hi`` with a shared tint of up to +-30 levels, upsampled bicubically."""
    grey = rng.integers(lo, hi, size=(grid[1], grid[0], 1))
    tint = rng.integers(-30, 31, size=(1, 1, 3)) + rng.integers(-8, 9, size=(grid[1], grid[0], 3))
    cells = np.clip(grey + tint, 0, 255).astype(np.uint8)
    return Image.fromarray(cells, "RGB").resize(size, Image.Resampling.BICUBIC)


def _shaded(rng: np.random.Generator, size: tuple[int, int], base: tuple[int, int, int], spread: int) -> Image.Image:
    """A layer of colour ``base`` with smooth light and shade of about +-``spread`` levels."""
    grid = (int(rng.integers(2, 5)), int(rng.integers(2, 5)))
    shade = rng.integers(-spread, spread + 1, size=(grid[1], grid[0], 1))
    cells = np.clip(np.asarray(base)[None, None, :] + shade, 0, 255).astype(np.uint8)
    return Image.fromarray(cells, "RGB").resize(size, Image.Resampling.BICUBIC)


@dataclass(frozen=True, slots=True)
class _Car:
    """Car-side geometry in full-resolution pixels."""

    x0: int
    x1: int
    roof: int
    top: int
    bottom: int
    cabin_l: int
    cabin_r: int
    colour: tuple[int, int, int]

    def body(self, o: float, k: float) -> list[tuple[float, float]]:
        """Cabin outline at coordinate scale ``k`` with reference offsets scaled by ``o``."""
        return [
            (self.cabin_l * k - 60 * o, self.top * k + 5 * o),
            (self.cabin_l * k + 40 * o, self.roof * k),
            (self.cabin_r * k - 30 * o, self.roof * k),
            (self.cabin_r * k + 80 * o, self.top * k + 5 * o),
        ]

    def glass(self, o: float, k: float) -> list[tuple[float, float]]:
        """Window outline at coordinate scale ``k`` with reference offsets scaled by ``o``."""
        return [
            (self.cabin_l * k - 30 * o, self.top * k),
            (self.cabin_l * k + 50 * o, self.roof * k + 15 * o),
            (self.cabin_r * k - 40 * o, self.roof * k + 15 * o),
            (self.cabin_r * k + 50 * o, self.top * k),
        ]


class _Scale:
    """Pixel sizes of the 1024-px-wide reference scene, scaled to the rendered width."""

    def __init__(self, width: int) -> None:
        self.factor = width / WIDTH

    def __call__(self, value: float) -> int:
        """``value`` reference pixels in rendered pixels (at least 1)."""
        return max(1, round(value * self.factor))

    def offset(self, value: float) -> float:
        """``value`` reference pixels in rendered pixels, for signed offsets."""
        return value * self.factor

    def randint(self, rng: np.random.Generator, lo: float, hi: float) -> int:
        """A random integer in ``[lo, hi)`` reference pixels, in rendered pixels."""
        low = round(lo * self.factor)
        return int(rng.integers(low, max(low + 1, round(hi * self.factor))))


def _car_geometry(rng: np.random.Generator, w: int, h: int) -> _Car:
    x0 = int(w * rng.uniform(-0.3, 0.25))
    x1 = int(w * rng.uniform(0.75, 1.3))
    top = int(h * rng.uniform(0.3, 0.45))
    return _Car(
        x0=x0,
        x1=x1,
        roof=top - int(h * rng.uniform(0.1, 0.22)),
        top=top,
        bottom=int(h * rng.uniform(0.78, 1.05)),
        cabin_l=x0 + int((x1 - x0) * rng.uniform(0.15, 0.35)),
        cabin_r=x0 + int((x1 - x0) * rng.uniform(0.6, 0.85)),
        colour=_colour(rng, 35, 245),
    )


def _smooth_layers(rng: np.random.Generator, w: int, h: int, car: _Car, px: _Scale) -> Image.Image:
    """Wall, floor, shelves, car body and glass, composited at half resolution."""
    k = 0.5
    size = (max(1, w // 2), max(1, h // 2))
    canvas = _smooth_field(rng, size, (4, 3), 100, 230)
    floor = _smooth_field(rng, size, (5, 3), 70, 170)
    horizon = h * rng.uniform(0.35, 0.6) * k
    mask = Image.new("L", size, 0)
    md = ImageDraw.Draw(mask)
    md.polygon(
        [
            (0, horizon + px.offset(rng.uniform(-20, 20))),
            (size[0], horizon + px.offset(rng.uniform(-20, 20))),
            (size[0], size[1]),
            (0, size[1]),
        ],
        fill=255,
    )
    canvas.paste(floor, (0, 0), mask)
    draw = ImageDraw.Draw(canvas)
    for _ in range(int(rng.integers(3, 8))):  # cabinets, shelves, a roller door
        x0 = rng.uniform(px.offset(-25), size[0])
        y0 = rng.uniform(px.offset(-25), horizon)
        x1 = x0 + px.offset(rng.uniform(30, 175))
        y1 = y0 + px.offset(rng.uniform(10, 110))
        draw.rectangle(
            (x0, y0, x1, y1), fill=_colour(rng, 30, 230), outline=_colour(rng, 0, 90), width=px(int(rng.integers(1, 3)))
        )
        for j in range(int(rng.integers(0, 6))):
            yy = y0 + (j + 1) * max(2.0, (y1 - y0) / 7)
            draw.line((x0, yy, x1, yy), fill=_colour(rng, 0, 120), width=1)
    for _ in range(int(rng.integers(1, 4))):  # floor markings
        y = rng.uniform(horizon, size[1])
        draw.line(
            (0, y, size[0], y + px.offset(rng.uniform(-75, 75))),
            fill=(int(rng.integers(170, 240)), int(rng.integers(150, 220)), 40),
            width=px(int(rng.integers(2, 7))),
        )
    md.rectangle((0, 0, *size), fill=0)
    md.rounded_rectangle(
        (car.x0 * k, car.top * k, car.x1 * k, car.bottom * k), radius=px(int(rng.integers(10, 40))), fill=255
    )
    md.polygon(car.body(k * px.factor, k), fill=255)
    canvas.paste(_shaded(rng, size, car.colour, 70), (0, 0), mask)
    md.rectangle((0, 0, *size), fill=0)
    md.polygon(car.glass(k * px.factor, k), fill=255)
    canvas.paste(_shaded(rng, size, _colour(rng, 20, 90), 35), (0, 0), mask)
    return canvas.resize((w, h), Image.Resampling.BILINEAR)


def _car_details(rng: np.random.Generator, canvas: Image.Image, car: _Car, px: _Scale) -> None:
    """Pillar, panel gaps, crease, handle, lamp, wheel, masking tape and primer patches."""
    h = canvas.height
    draw = ImageDraw.Draw(canvas)
    x0, x1, top, bottom = car.x0, car.x1, car.top, car.bottom
    gap = _colour(rng, 0, 50)
    pillar = (car.cabin_l + car.cabin_r) // 2 + px.randint(rng, -40, 40)
    draw.line((pillar, car.roof + px(10), pillar, top), fill=car.colour, width=px.randint(rng, 10, 24))
    for _ in range(int(rng.integers(2, 5))):
        gx = int(rng.integers(x0 + px(40), max(x0 + px(40) + 1, x1 - px(40))))
        draw.line((gx, top, gx + px.randint(rng, -25, 25), bottom - px(30)), fill=gap, width=px(3))
    sill = top + int((bottom - top) * rng.uniform(0.55, 0.8))
    draw.line((x0 + px(30), sill, x1 - px(30), sill + px.randint(rng, -10, 10)), fill=gap, width=px(2))
    crease = top + int((bottom - top) * rng.uniform(0.15, 0.35))
    lighter = (min(255, car.colour[0] + 60), min(255, car.colour[1] + 60), min(255, car.colour[2] + 60))
    draw.line(
        (x0 + px(20), crease, x1 - px(20), crease + px.randint(rng, -15, 15)), fill=lighter, width=px.randint(rng, 2, 6)
    )
    hx = int(rng.integers(x0 + px(60), max(x0 + px(60) + 1, x1 - px(120))))
    hy = crease + px.randint(rng, 10, 40)
    draw.rounded_rectangle((hx, hy, hx + px(70), hy + px(14)), radius=px(6), fill=_colour(rng, 0, 80))
    lamp = x1 - px.randint(rng, 30, 90)
    draw.ellipse(
        (lamp - px(50), top + px(10), lamp + px(40), top + px(60)),
        fill=_colour(rng, 180, 256),
        outline=_colour(rng, 0, 60),
        width=px(3),
    )
    cx = int(rng.uniform(x0 + 0.2 * (x1 - x0), x0 + 0.8 * (x1 - x0)))
    cy = bottom - px.randint(rng, 10, 60)
    r = int(h * rng.uniform(0.13, 0.2))
    tyre = px(18)
    draw.ellipse((cx - r - tyre, cy - r - tyre, cx + r + tyre, cy + r + tyre), fill=(18, 18, 20))
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(28, 28, 30))
    rim = int(r * rng.uniform(0.55, 0.75))
    draw.ellipse(
        (cx - rim, cy - rim, cx + rim, cy + rim), fill=_colour(rng, 120, 220), outline=(60, 60, 60), width=px(4)
    )
    spokes = int(rng.integers(5, 11))
    phase = rng.uniform(0, math.tau)
    for j in range(spokes):
        a = phase + j * math.tau / spokes
        draw.line(
            (cx, cy, cx + rim * math.cos(a), cy + rim * math.sin(a)), fill=(70, 70, 74), width=px.randint(rng, 6, 14)
        )
    draw.ellipse((cx - rim // 4, cy - rim // 4, cx + rim // 4, cy + rim // 4), fill=(40, 40, 44))
    for _ in range(int(rng.integers(0, 4))):  # masking tape
        tx, ty = int(rng.integers(x0, x1)), int(rng.integers(top, bottom))
        draw.line(
            (tx, ty, tx + px.randint(rng, -250, 250), ty + px.randint(rng, -60, 60)),
            fill=(int(rng.integers(200, 240)), int(rng.integers(190, 225)), 150),
            width=px(16),
        )
    for _ in range(int(rng.integers(0, 3))):  # primer / filler patches
        qx, qy = int(rng.integers(x0, x1)), int(rng.integers(top, bottom))
        pr = px.randint(rng, 30, 110)
        draw.ellipse((qx - pr, qy - pr // 2, qx + pr, qy + pr // 2), fill=_colour(rng, 110, 200))


def _clutter(rng: np.random.Generator, canvas: Image.Image, px: _Scale) -> None:
    """Tools, cables, a job card with printed text and hand-written marks."""
    w, h = canvas.size
    draw = ImageDraw.Draw(canvas)
    for _ in range(int(rng.integers(2, 7))):  # cables and hoses
        pts = [(int(rng.integers(0, w)), int(rng.integers(0, h)))]
        for _ in range(int(rng.integers(3, 7))):
            qx, qy = pts[-1]
            pts.append((qx + px.randint(rng, -160, 160), qy + px.randint(rng, -100, 100)))
        draw.line(pts, fill=_colour(rng, 0, 200), width=px.randint(rng, 3, 10), joint="curve")
    for _ in range(int(rng.integers(2, 6))):  # tools and parts
        tx, ty = int(rng.integers(0, w)), int(rng.integers(h // 2, h))
        kind = int(rng.integers(0, 3))
        colour = _colour(rng, 0, 256)
        if kind == 0:
            draw.rectangle(
                (tx, ty, tx + px.randint(rng, 40, 160), ty + px.randint(rng, 20, 80)),
                fill=colour,
                outline=(20, 20, 20),
                width=px(2),
            )
        elif kind == 1:
            draw.line(
                (tx, ty, tx + px.randint(rng, -120, 120), ty + px.randint(rng, -60, 60)),
                fill=colour,
                width=px.randint(rng, 6, 16),
            )
        else:
            rr = px.randint(rng, 8, 40)
            draw.ellipse((tx - rr, ty - rr, tx + rr, ty + rr), fill=colour, outline=(25, 25, 25))
    cw, ch = px.randint(rng, 170, 300), px.randint(rng, 110, 190)
    cx, cy = int(rng.integers(0, max(1, w - cw))), int(rng.integers(0, max(1, h - ch)))
    paper = int(rng.integers(225, 250))
    draw.rectangle((cx, cy, cx + cw, cy + ch), fill=(paper, paper, paper), outline=(90, 90, 90), width=px(2))
    font_size = px(int(rng.choice(_FONT_SIZES)))
    font = ImageFont.load_default(size=font_size)
    y = cy + px(8)
    while y < cy + ch - px(30):
        text = "".join(rng.choice(_TEXT_CHARS, size=int(rng.integers(5, 12))))
        draw.text((cx + px(10), y), text, fill=_colour(rng, 0, 70), font=font)
        y += font_size + px.randint(rng, 4, 10)
    sx = cx + int(rng.integers(px(10), max(px(10) + 1, cw // 2)))
    sy = cy + ch - px.randint(rng, 10, 25)
    strokes = [(sx, sy)]
    for _ in range(int(rng.integers(6, 14))):
        strokes.append((strokes[-1][0] + px.randint(rng, 4, 16), sy + px.randint(rng, -12, 12)))
    draw.line(strokes, fill=(20, 40, 140), width=px(2), joint="curve")


def _lighting(rng: np.random.Generator, canvas: Image.Image) -> Image.Image:
    """Multiply by a multi-scale light/grime field (gain 0.6..1, mostly near 0.88).

    The field's octaves (1/128, 1/32 and 1/8 of the width) are summed at quarter resolution
    and upsampled once; the multiply runs in Pillow's C code to stay fast.
    """
    w, h = canvas.size
    qw, qh = max(2, w // 4), max(2, h // 4)
    field = np.zeros((qh, qw), dtype=np.float32)
    for divisor, amplitude in ((32, 0.07), (8, 0.04), (2, 0.03)):
        cells = rng.standard_normal((max(2, qh // divisor), max(2, qw // divisor)))
        octave = Image.fromarray(cells.astype(np.float32), "F").resize((qw, qh), Image.Resampling.BICUBIC)
        field += amplitude * np.asarray(octave, dtype=np.float32)
    gain = np.clip(0.88 + field, 0.6, 1.0) * 255.0
    light = Image.fromarray(gain.astype(np.uint8), "L").resize((w, h), Image.Resampling.BILINEAR)
    return ImageChops.multiply(canvas, Image.merge("RGB", (light, light, light)))


def add_grain(rng: np.random.Generator, image: Image.Image, levels: int = 5) -> Image.Image:
    """Add sensor grain: uniform noise of +-``levels`` grey levels, the same on all channels."""
    noise = rng.integers(0, 2 * levels + 1, size=(image.height, image.width), dtype=np.uint8)
    grain = Image.fromarray(noise, "L")
    return ImageChops.add(image, Image.merge("RGB", (grain, grain, grain)), offset=-levels)


def render_optics(seed: int, *, width: int = WIDTH, height: int = HEIGHT) -> Image.Image:
    """The scene for ``seed`` as the lens delivers it to the sensor: no grain yet."""
    rng = np.random.default_rng(seed)
    px = _Scale(width)
    car = _car_geometry(rng, width, height)
    canvas = _smooth_layers(rng, width, height, car, px)
    _car_details(rng, canvas, car, px)
    _clutter(rng, canvas, px)
    return _lighting(rng, canvas)


def render_scene(seed: int, *, width: int = WIDTH, height: int = HEIGHT) -> Image.Image:
    """Render the clean RGB checkpoint scene for ``seed`` (deterministic), grain included."""
    return add_grain(np.random.default_rng((seed, 2)), render_optics(seed, width=width, height=height))


# --------------------------------------------------------------------------- EXIF and encoding


def make_exif(
    *,
    taken_at_ms: int | None = None,
    lat: float | None = None,
    lon: float | None = None,
    utc_offset: str | None = None,
) -> Image.Exif:
    """EXIF with DateTimeOriginal (local time at ``utc_offset``, e.g. ``"+02:00"``, else UTC)
    and a GPS IFD (degrees/minutes/seconds rationals with N/S/E/W references)."""
    exif = Image.Exif()
    if taken_at_ms is not None:
        moment = datetime.fromtimestamp(taken_at_ms // 1000, tz=UTC)
        if utc_offset is not None:  # write local wall-clock time plus its offset
            moment = moment.astimezone(datetime.strptime(utc_offset, "%z").tzinfo)
        details = exif.get_ifd(0x8769)
        details[0x9003] = moment.strftime("%Y:%m:%d %H:%M:%S")
        details[0x9291] = f"{taken_at_ms % 1000:03d}"
        if utc_offset is not None:
            details[0x9011] = utc_offset
    if lat is not None and lon is not None:
        gps = exif.get_ifd(0x8825)
        gps[0] = b"\x02\x03\x00\x00"
        gps[1] = "N" if lat >= 0 else "S"
        gps[2] = _dms(abs(lat))
        gps[3] = "E" if lon >= 0 else "W"
        gps[4] = _dms(abs(lon))
    return exif


def _dms(degrees: float) -> tuple[float, float, float]:
    whole = int(degrees)
    minutes_f = (degrees - whole) * 60.0
    minutes = int(minutes_f)
    seconds = round((minutes_f - minutes) * 60.0, 4)
    return float(whole), float(minutes), seconds


def encode_jpeg(image: Image.Image, *, quality: int = JPEG_QUALITY, exif: Image.Exif | None = None) -> bytes:
    """JPEG bytes of ``image`` at ``quality``, with ``exif`` when given."""
    out = io.BytesIO()
    if exif is None:
        image.save(out, format="JPEG", quality=quality)
    else:
        image.save(out, format="JPEG", quality=quality, exif=exif)
    return out.getvalue()


def offset_position(lat: float, lon: float, distance_km: float, bearing_deg: float) -> tuple[float, float]:
    """The point ``distance_km`` from ``(lat, lon)`` along ``bearing_deg`` (great circle)."""
    delta = distance_km / EARTH_RADIUS_KM
    theta = math.radians(bearing_deg)
    phi1, lambda1 = math.radians(lat), math.radians(lon)
    phi2 = math.asin(math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta))
    lambda2 = lambda1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1), math.cos(delta) - math.sin(phi1) * math.sin(phi2)
    )
    return math.degrees(phi2), (math.degrees(lambda2) + 540.0) % 360.0 - 180.0


# --------------------------------------------------------------------------- faults


def _not_an_image(rng: np.random.Generator, clean: bytes) -> bytes:
    kind = int(rng.integers(0, 3))
    if kind == 0:
        return rng.bytes(int(rng.integers(16, 4096)))
    if kind == 1:
        return clean[: len(clean) * int(rng.integers(30, 80)) // 100]  # truncated upload
    return b"<html><body>502 Bad Gateway</body></html>"


def _apply_fault(rng: np.random.Generator, image: Image.Image, fault: PhotoFault) -> Image.Image:
    if fault is PhotoFault.BLURRY:
        radius = float(rng.uniform(4.0, 7.0)) * image.width / WIDTH
        return image.filter(ImageFilter.GaussianBlur(radius))
    if fault is PhotoFault.DARK:
        gain = float(rng.uniform(0.12, 0.2))
        pixels = np.asarray(image, dtype=np.float32) * gain + 6.0  # plus the black level
        return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    if fault is PhotoFault.OVEREXPOSED:
        # Several stops too much light, washed out by flare: y = a + (1 - a) * min(1, g * x).
        gain, flare = float(rng.uniform(2.4, 3.2)), float(rng.uniform(0.65, 0.78))
        exposed = np.minimum(np.asarray(image, dtype=np.float32) * gain, 255.0)
        pixels = 255.0 * flare + (1.0 - flare) * exposed
        return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    if fault is PhotoFault.TOO_SMALL:
        side = int(rng.integers(320, 600))
        return image.resize((side, side * image.height // image.width), Image.Resampling.LANCZOS)
    return image


def checkpoint_photo(
    seed: int,
    *,
    fault: PhotoFault = PhotoFault.NONE,
    taken_at_ms: int | None = None,
    lat: float | None = None,
    lon: float | None = None,
    utc_offset: str | None = None,
    width: int = WIDTH,
    height: int = HEIGHT,
    quality: int = JPEG_QUALITY,
) -> SimulatedPhoto:
    """A JPEG checkpoint photo for ``seed`` with ``fault`` applied and optional EXIF.

    The fault's randomness comes from a second generator seeded from ``seed``, so the clean
    scene of a faulty photo is the same scene as ``checkpoint_photo(seed)``.
    """
    fault_rng = np.random.default_rng((seed, 1))
    # Blur and exposure happen in the optics, before the sensor adds its grain.
    optics = _apply_fault(fault_rng, render_optics(seed, width=width, height=height), fault)
    image = add_grain(np.random.default_rng((seed, 2)), optics)
    exif = None
    if taken_at_ms is not None or (lat is not None and lon is not None):
        exif = make_exif(taken_at_ms=taken_at_ms, lat=lat, lon=lon, utc_offset=utc_offset)
    data = encode_jpeg(image, quality=quality, exif=exif)
    if fault is PhotoFault.NOT_IMAGE:
        data = _not_an_image(fault_rng, data)
    return SimulatedPhoto(
        data=data,
        seed=seed,
        fault=fault,
        expected_flags=EXPECTED_FLAGS[fault],
        taken_at_ms=taken_at_ms,
        lat=lat if lon is not None else None,
        lon=lon if lat is not None else None,
    )


def reuse(data: bytes, kind: ReuseKind) -> bytes:
    """The photo ``data`` as it comes back when reused for another job.

    REENCODED: re-saved at JPEG quality 60. RESIZED: scaled to 90 % and re-saved at quality 85.
    MIRRORED: flipped left-right and re-saved at quality 85. EXIF is not carried over.
    """
    with Image.open(io.BytesIO(data)) as opened:
        image = opened.convert("RGB")
    if kind is ReuseKind.REENCODED:
        return encode_jpeg(image, quality=60)
    if kind is ReuseKind.RESIZED:
        size = (round(image.width * 0.9), round(image.height * 0.9))
        return encode_jpeg(image.resize(size, Image.Resampling.LANCZOS), quality=85)
    return encode_jpeg(image.transpose(Image.Transpose.FLIP_LEFT_RIGHT), quality=85)
