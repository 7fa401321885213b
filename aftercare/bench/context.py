"""What every benchmark section is handed: the settings, the run's size, private services, a work folder
and the progress display."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import Progress, TaskID

from aftercare.bench.services import PrivateInfluxd, PrivateMosquitto, ServiceError, influxd_installed
from aftercare.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class BenchContext:
    settings: Settings
    quick: bool
    console: Console
    workdir: Path
    progress: Progress
    wearables: int | None = None  # the fleet section's wearables (None: its default)
    _mosquitto: PrivateMosquitto | None = None
    _influxd: PrivateInfluxd | None = None
    _influxd_tried: bool = False
    influxd_problem: str | None = None
    _task: TaskID | None = None
    _total: int = 1
    _folders: int = field(default=0)

    # -- services, started on first use and stopped by `close` ---------------------------------
    def mosquitto(self) -> PrivateMosquitto:
        if self._mosquitto is None:
            self._mosquitto = PrivateMosquitto().start()
            self.note(f"private mosquitto on {self._mosquitto.url}")
        return self._mosquitto

    def influxd(self) -> PrivateInfluxd | None:
        """A private influxd, or None (with ``influxd_problem`` saying why) when it cannot run."""
        if not self._influxd_tried:
            self._influxd_tried = True
            if not influxd_installed():
                self.influxd_problem = "influxd is not installed (Debian package influxdb)"
            else:
                try:
                    self._influxd = PrivateInfluxd().start()
                    self.note(f"private influxd on {self._influxd.http}")
                except ServiceError as exc:
                    self.influxd_problem = str(exc)
        return self._influxd

    def influx_available(self) -> bool:
        """Whether the InfluxDB backend can be measured: influxd runs and the store module exists."""
        try:
            import store.timeseries.influx  # noqa: F401
        except ImportError:
            self.influxd_problem = "store/timeseries/influx.py is not there yet"
            return False
        return self.influxd() is not None

    def close(self) -> None:
        for service in (self._influxd, self._mosquitto):
            if service is not None:
                try:
                    service.stop()
                except Exception:
                    log.exception("stopping %s", type(service).__name__)
        self._influxd = None
        self._mosquitto = None

    # -- folders and progress ------------------------------------------------------------------
    def folder(self, name: str) -> Path:
        """A fresh folder under the run's work folder."""
        self._folders += 1
        path = self.workdir / f"{self._folders:03d}-{name}"
        path.mkdir(parents=True)
        return path

    def begin(self, section: str, steps: int) -> None:
        self._total = max(1, steps)
        self._task = self.progress.add_task(section, total=self._total)

    def step(self, description: str) -> None:
        """Say what is being measured now; advances the section's bar by one step."""
        if self._task is not None:
            self.progress.update(self._task, description=description)
            self.progress.advance(self._task)

    def end(self, description: str) -> None:
        if self._task is not None:
            self.progress.update(self._task, description=description, completed=self._total)
            self._task = None

    def note(self, text: str) -> None:
        self.progress.console.print(f"[dim]{text}[/]")
