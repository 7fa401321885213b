"""Which monitors run, built from the settings and stores."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aftercare.settings import Settings
from store.stores import Stores

if TYPE_CHECKING:
    from monitor.runner import Monitor


def build_monitors(settings: Settings, stores: Stores) -> list[Monitor]:
    from cases.feedback import shop_feedback_mean
    from cases.monitor import CasesMonitor
    from cases.outbox_worker import OutboxWorker
    from monitor.rehab_monitor import RehabMonitor
    from monitor.repair_monitor import RepairMonitor

    # the cases monitor runs after the repair and rehab monitors, so the stage changes and plan versions of a
    # pass reach the claimant's outbox in the same pass, and the outbox worker delivers them right after
    return [RepairMonitor(stores, spot_base_rate=settings.spot_check_rate, spot_seed=settings.spot_check_seed,
                          feedback=shop_feedback_mean, max_photo_bytes=settings.max_photo_bytes),
            RehabMonitor(stores, day_recompute_s=settings.day_recompute_s),
            CasesMonitor(stores.state),
            OutboxWorker.from_settings(settings, stores.state)]
