"""Which monitors run, built from the settings and stores."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aftercare.settings import Settings
from aftercare.wiring import Stores

if TYPE_CHECKING:
    from monitor.runner import Monitor


def build_monitors(settings: Settings, stores: Stores) -> list[Monitor]:
    from monitor.rehab_monitor import RehabMonitor
    from monitor.repair_monitor import RepairMonitor

    return [RepairMonitor(stores, spot_base_rate=settings.spot_check_rate, spot_seed=settings.spot_check_seed),
            RehabMonitor(stores, day_recompute_s=settings.day_recompute_s)]
