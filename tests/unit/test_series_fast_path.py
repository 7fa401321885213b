"""The plain-Python check of short series gives exactly what the numpy checks give, for any input."""

from __future__ import annotations

from typing import Any, TypedDict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import devices.messages as messages
from devices.messages import Series, validate_series

NOW = 1_800_000_000_000


class Window(TypedDict):
    """The time window `validate_series` takes as keywords."""

    now_ms: int
    max_future_ms: int
    oldest_ms: int


WINDOW: Window = {"now_ms": NOW, "max_future_ms": 300_000, "oldest_ms": NOW - 400 * 86_400_000}

numbers = st.one_of(
    st.integers(min_value=-10, max_value=400),
    st.floats(min_value=-10, max_value=400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.booleans(),
    st.sampled_from([60, 60.0, 60.5, 250, 250.0000001, 19.999, 1e308, -0.0]),
)
series = st.fixed_dictionaries(
    {
        "metric": st.sampled_from(["heart_rate", "spo2", "joint_angle", "steps", "rr_interval"]),
        "t0": st.integers(min_value=NOW - 401 * 86_400_000, max_value=NOW + 400_000),
        "fs": st.sampled_from([0.001, 0.5, 1, 1.0, 3.0, 25, 50.0, 10_000]),
        "values": st.lists(numbers, min_size=1, max_size=messages.SMALL_SERIES),
    }
)


def _full_checks(raw: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Series | str:
    with monkeypatch.context() as m:
        m.setattr(messages, "SMALL_SERIES", 0)
        return validate_series(raw, index=0, **WINDOW)


@settings(max_examples=600, deadline=None)
@given(raw=series)
def test_the_fast_path_agrees_with_numpy(raw: dict[str, Any]) -> None:
    mp = pytest.MonkeyPatch()
    try:
        expected = _full_checks(raw, mp)
    finally:
        mp.undo()
    got = validate_series(raw, index=0, **WINDOW)
    if isinstance(expected, str):
        assert got == expected
        return
    assert isinstance(got, Series)
    assert (got.metric, got.fs) == (expected.metric, expected.fs)
    assert got.t_ms.dtype == np.int64
    assert got.values.dtype == np.float64
    assert np.array_equal(got.t_ms, expected.t_ms)
    assert np.array_equal(got.values, expected.values)


def test_the_fast_path_is_taken_for_a_clean_short_series(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = messages._small_series

    def spy(*args: Any, **kwargs: Any) -> Series | None:
        result = real(*args, **kwargs)
        calls.append(result is not None)
        return result

    monkeypatch.setattr(messages, "_small_series", spy)
    raw = {"metric": "heart_rate", "t0": NOW - 60_000, "fs": 3.0, "values": [60, 61.0, 62]}
    result = validate_series(raw, index=0, **WINDOW)
    assert isinstance(result, Series)
    assert result.t_ms.tolist() == [NOW - 60_000, NOW - 60_000 + 333, NOW - 60_000 + 667]
    assert calls == [True]
    assert (
        validate_series({**raw, "values": [60, True]}, index=0, **WINDOW)
        == "heart_rate: values must be numbers, not booleans"
    )
    assert calls == [True, False]
