"""A simulated repair shop's gateway: runs its jobs through their stages with beacons and photos.

Time is compressed: a stage lasts ``stage_seconds`` of wall-clock time while the beacons carry real
times, so a demo shows jobs moving. Faults can be injected per gateway: ``blurry``, ``dark`` and
``reuse`` photos, ``skip`` (a required stage skipped), ``offline`` (heartbeats stop for a while),
``exif_far`` (a photo taken far from the shop) and ``stall`` (a job stops moving).
"""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass, field
from typing import Any

from monitor.repair.stages import CHECKPOINT_STAGES
from simulators.mqtt_out import DeviceLink
from simulators.photos import PhotoFault, checkpoint_photo, offset_position


@dataclass
class SimJob:
    job_id: str
    stages: list[str]
    index: int = -1
    entered: float = 0.0
    photos_sent: set[str] = field(default_factory=set)


class ShopGateway:
    def __init__(
        self,
        link: DeviceLink,
        shop: dict[str, Any],
        jobs: list[SimJob],
        *,
        seed: int,
        stage_seconds: float = 20.0,
        faults: frozenset[str] = frozenset(),
    ) -> None:
        self.link = link
        self.shop = shop
        self.jobs = jobs
        self.rng = random.Random(seed)
        self.seed = seed
        self.stage_seconds = stage_seconds
        self.faults = faults
        self.last_heartbeat = 0.0
        self.offline_until = 0.0
        self.first_photo: bytes | None = None
        link.status(True, battery=100)

    def step(self, now: float) -> None:
        at = int(now * 1000)
        if "offline" in self.faults and self.offline_until == 0.0 and self.rng.random() < 0.02:
            self.offline_until = now + 120
        if now < self.offline_until:
            return
        if now - self.last_heartbeat >= 10:
            self.link.publish(
                f"aftercare/v1/shops/{self.link.device_id}/beacon",
                {"seq": self.link.next_seq(), "event": "heartbeat", "at": at},
            )
            self.last_heartbeat = now
        for n, job in enumerate(self.jobs):
            if job.index >= len(job.stages) - 1:
                continue
            if "stall" in self.faults and n == 0 and job.index >= 2:
                continue
            if job.index >= 0 and now - job.entered < self.stage_seconds * (0.7 + 0.6 * self.rng.random()):
                self._maybe_progress(job, at)
                continue
            stage_now = job.stages[job.index] if job.index >= 0 else None
            if stage_now in CHECKPOINT_STAGES and stage_now not in job.photos_sent:
                self._photo(job, stage_now, at)
                continue
            job.index += 1
            skip = "skip" in self.faults and n == 0 and job.stages[job.index] == "paint"
            if skip and job.index + 1 < len(job.stages):
                job.index += 1
            job.entered = now
            self.link.publish(
                f"aftercare/v1/shops/{self.link.device_id}/beacon",
                {
                    "seq": self.link.next_seq(),
                    "job_id": job.job_id,
                    "event": "stage",
                    "stage": job.stages[job.index],
                    "at": at,
                    "progress": 0.0,
                },
            )

    def _maybe_progress(self, job: SimJob, at: int) -> None:
        if self.rng.random() < 0.1:
            self.link.publish(
                f"aftercare/v1/shops/{self.link.device_id}/beacon",
                {
                    "seq": self.link.next_seq(),
                    "job_id": job.job_id,
                    "event": "progress",
                    "progress": round(self.rng.uniform(0.2, 0.9), 2),
                    "at": at,
                },
            )

    def _photo(self, job: SimJob, stage: str, at: int) -> None:
        fault = PhotoFault.NONE
        if "blurry" in self.faults and self.rng.random() < 0.3:
            fault = PhotoFault.BLURRY
        elif "dark" in self.faults and self.rng.random() < 0.3:
            fault = PhotoFault.DARK
        lat, lon = float(self.shop["lat"]), float(self.shop["lon"])
        if "exif_far" in self.faults and self.rng.random() < 0.3:
            lat, lon = offset_position(lat, lon, 25.0, self.rng.uniform(0, 360))
        photo = checkpoint_photo(self.rng.randrange(1 << 30), fault=fault, taken_at_ms=at, lat=lat, lon=lon)
        data = photo.data
        if "reuse" in self.faults and self.first_photo is not None and self.rng.random() < 0.3:
            data = self.first_photo
        self.first_photo = self.first_photo or data
        self.link.publish(
            f"aftercare/v1/shops/{self.link.device_id}/photo",
            {
                "seq": self.link.next_seq(),
                "job_id": job.job_id,
                "stage": stage,
                "taken_at": at,
                "content_type": "image/jpeg",
                "image_b64": base64.b64encode(data).decode(),
                "lat": round(lat, 6),
                "lon": round(lon, 6),
            },
        )
        job.photos_sent.add(stage)
