"""The stores one process works with, opened together and closed together."""

from __future__ import annotations

from dataclasses import dataclass, field

from store.photo_files import PhotoFiles
from store.state.device_registry import DeviceRegistry
from store.state.engine import StateStore
from store.timeseries.base import TimeSeriesStore


@dataclass
class Stores:
    timeseries: TimeSeriesStore
    state: StateStore
    photos: PhotoFiles
    registry: DeviceRegistry = field(init=False)

    def __post_init__(self) -> None:
        self.registry = DeviceRegistry(self.state)

    def close(self) -> None:
        self.timeseries.close()
        self.state.close()
