"""Simulated wearables and shops, registered through the API and publishing through the broker.

Used by `aftercare up --simulate` (in-process) and by `aftercare simulate wearables|shops`.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from pathlib import Path

from rich.live import Live
from rich.table import Table

from devices.broker_url import BrokerUrl
from simulators.mqtt_out import DeviceLink
from simulators.registration import Registrar, save_demo_tokens
from simulators.shop_gateway import ShopGateway, SimJob
from simulators.wearable_device import Wearable

log = logging.getLogger(__name__)

#: Faults injected per simulated shop (by position), so the dashboards show each kind of alert.
SHOP_FAULTS: list[frozenset[str]] = [
    frozenset(),
    frozenset({"blurry", "reuse"}),
    frozenset({"skip", "dark"}),
    frozenset({"offline", "exif_far"}),
    frozenset({"stall"}),
]


class Fleet:
    def __init__(
        self,
        *,
        api_url: str,
        admin_token: str,
        broker: BrokerUrl | str,
        patients: int,
        shops: int,
        data_dir: Path,
        seed: int = 1,
        stage_seconds: float = 20.0,
        history_days: int = 7,
        history_patients: int = 1,
        api_verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.api_url = api_url
        self.admin_token = admin_token
        self.broker = broker if isinstance(broker, BrokerUrl) else BrokerUrl.parse(broker)
        self.api_verify = api_verify  # how an https API's certificate is checked
        self.n_patients = patients
        self.n_shops = shops
        self.data_dir = data_dir
        self.seed = seed
        self.stage_seconds = stage_seconds
        self.history_days = history_days
        self.history_patients = history_patients
        self.history_sent = 0
        self.wearables: list[Wearable] = []
        self.gateways: list[ShopGateway] = []
        self.links: list[DeviceLink] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: str | None = None

    def setup(self) -> None:
        registrar = Registrar(self.api_url, self.admin_token, verify=self.api_verify)
        try:
            reg = registrar.register(patients=self.n_patients, shops=self.n_shops)
            jobs_required = {
                job["id"]: registrar.http.get(f"/api/v1/repair-jobs/{job['id']}").json()["required_stages"]
                for jobs in reg.jobs.values()
                for job in jobs
            }
        finally:
            registrar.close()
        if reg.tokens:
            save_demo_tokens(self.data_dir, reg.tokens)
        for i, device_id in enumerate(reg.wearables):
            link = DeviceLink(self.broker, device_id)
            self.links.append(link)
            # the wearables with a week of history are the patients doing well (rare events); the others
            # have desaturations and falls every few minutes, so every kind of alert shows up
            calm = i < self.history_patients
            self.wearables.append(Wearable(link, seed=self.seed * 1000 + i, event_every_s=7200.0 if calm else 240.0))
        for j, (device_id, shop_id) in enumerate(reg.gateways.items()):
            link = DeviceLink(self.broker, device_id)
            self.links.append(link)
            shop = next(s for s in reg.shops if s["id"] == shop_id)
            jobs = [SimJob(job["id"], jobs_required[job["id"]]) for job in reg.jobs[shop_id]]
            self.gateways.append(
                ShopGateway(
                    link,
                    shop,
                    jobs,
                    seed=self.seed * 7919 + j,
                    stage_seconds=self.stage_seconds,
                    faults=SHOP_FAULTS[j % len(SHOP_FAULTS)],
                )
            )

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="simulator", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.setup()
        except Exception as exc:
            self.error = str(exc)
            log.exception("simulator setup failed")
            return
        backlog = threading.Thread(target=self.backfill, name="simulator-history", daemon=True)
        backlog.start()
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(1.0)

    def backfill(self) -> None:
        """Past days for the first wearables, so weekly charts, adherence and proposals have data."""
        for i, wearable in enumerate(self.wearables[: self.history_patients]):
            if self._stop.is_set():
                return
            self.history_sent += wearable.backfill(self.history_days, seed=self.seed * 1000 + i)
        log.info("simulated history published: %s batches", self.history_sent)

    def tick(self) -> None:
        now = time.time()
        for w in self.wearables:
            w.step(int(now * 1000))
        for g in self.gateways:
            g.step(now)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        for link in self.links:
            link.status(False)
            link.close()

    def table(self) -> Table:
        table = Table(title="simulated devices")
        table.add_column("device")
        table.add_column("messages", justify="right")
        table.add_column("events")
        for w in self.wearables:
            table.add_row(w.link.device_id, str(w.link.sent), ", ".join(e.kind for e in w.events[-3:]))
        for g in self.gateways:
            stages = ", ".join(j.stages[j.index] if j.index >= 0 else "-" for j in g.jobs)
            table.add_row(g.link.device_id, str(g.link.sent), f"{stages} faults={','.join(sorted(g.faults)) or '-'}")
        return table


def run_fleet(
    *,
    api_url: str,
    admin_token: str,
    broker: BrokerUrl | str,
    patients: int,
    shops: int,
    seconds: float,
    seed: int,
    data_dir: Path,
    api_verify: ssl.SSLContext | bool = True,
) -> None:
    fleet = Fleet(
        api_url=api_url,
        admin_token=admin_token,
        broker=broker,
        patients=patients,
        shops=shops,
        data_dir=data_dir,
        seed=seed,
        api_verify=api_verify,
    )
    fleet.setup()
    threading.Thread(target=fleet.backfill, name="simulator-history", daemon=True).start()
    stop_at = time.time() + seconds if seconds > 0 else float("inf")
    try:
        with Live(fleet.table(), refresh_per_second=2) as live:
            while time.time() < stop_at:
                fleet.tick()
                live.update(fleet.table())
                time.sleep(1.0)
    except KeyboardInterrupt:
        pass
    finally:
        fleet.stop()
