"""Area-average resampling and luminance of decoded photos, in numpy.

Pillow only decodes photos; everything measured on the pixels is done here with numpy so the
method is explicit and identical for every input format.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatImage = NDArray[np.floating[Any]]

# ITU-R BT.601 luma weights, the ones JPEG uses for its Y channel.
LUMA_WEIGHTS: tuple[float, float, float] = (0.299, 0.587, 0.114)


def luminance(pixels: NDArray[Any]) -> NDArray[np.float32]:
    """BT.601 luminance of an ``(H, W, 3)`` uint8 RGB array, scaled to 0..1 (float32).

    A 2-D array is taken to be 8-bit grayscale already and only rescaled.
    """
    if pixels.ndim == 2:
        return pixels.astype(np.float32) * np.float32(1.0 / 255.0)
    weights = np.asarray(LUMA_WEIGHTS, dtype=np.float32) * np.float32(1.0 / 255.0)
    return np.asarray(pixels[..., :3] @ weights, dtype=np.float32)


def _resample_axis(values: FloatImage, out_size: int, axis: int) -> FloatImage:
    """Area-average ``values`` along ``axis`` (0 or 1 of a 2-D array) to ``out_size`` samples.

    Pixels are piecewise-constant cells of width 1. When the size divides evenly, each output
    is the mean of ``n // out_size`` neighbours (summed as strided slices, in the input's
    precision). Otherwise the cumulative sum along the axis (float64, with a leading zero) is
    linear inside each cell, so interpolating it at the output cell edges
    ``j * n / out_size`` and differencing gives the exact integral over each output cell.
    Works for down- and up-sampling and costs O(pixels).
    """
    n = values.shape[axis]
    if n % out_size == 0:
        factor = n // out_size
        shape = (out_size, values.shape[1]) if axis == 0 else (values.shape[0], out_size)
        total = np.zeros(shape, dtype=values.dtype)
        for offset in range(factor):
            total += values[offset::factor] if axis == 0 else values[:, offset::factor]
        total *= values.dtype.type(1.0 / factor)
        return total
    moved = values.T if axis == 0 else values
    cumulative = np.zeros((moved.shape[0], n + 1), dtype=np.float64)
    np.cumsum(moved, axis=1, out=cumulative[:, 1:])
    edges = np.linspace(0.0, float(n), out_size + 1)
    left = np.minimum(np.floor(edges).astype(np.intp), n - 1)
    frac = edges - left
    at_edges = cumulative[:, left] + frac * (cumulative[:, left + 1] - cumulative[:, left])
    resampled: NDArray[np.float64] = np.diff(at_edges, axis=1) * (out_size / float(n))
    return resampled.T if axis == 0 else resampled


def area_resize(image: FloatImage, out_height: int, out_width: int) -> FloatImage:
    """Resize a 2-D float array to ``(out_height, out_width)`` by exact area averaging.

    Area averaging (a box filter over each output cell) is what makes the perceptual hash and
    the sharpness score stable under JPEG re-encoding and modest rescaling: every input pixel
    contributes in proportion to the area it covers in the output cell.
    """
    if image.ndim != 2:
        raise ValueError(f"area_resize expects a 2-D array, got shape {image.shape}")
    if out_height < 1 or out_width < 1:
        raise ValueError(f"output size must be positive: {out_height}x{out_width}")
    data: FloatImage = image if np.issubdtype(image.dtype, np.floating) else image.astype(np.float64)
    if data.shape[1] != out_width:
        data = _resample_axis(data, out_width, axis=1)
    if data.shape[0] != out_height:
        data = _resample_axis(data, out_height, axis=0)
    return data


def fit_long_side(height: int, width: int, long_side: int) -> tuple[int, int]:
    """``(height, width)`` scaled so the longer side equals ``long_side``; never upscaled."""
    longest = max(height, width)
    if longest <= long_side:
        return height, width
    scale = long_side / longest
    return max(1, round(height * scale)), max(1, round(width * scale))
