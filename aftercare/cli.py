"""The `aftercare` command line (typer)."""

from __future__ import annotations

import logging
import os
import signal
import ssl
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from aftercare.broker_cli import broker_app, use_settings_loader
from aftercare.embedded_broker import EmbeddedBrokerMissing, PortTaken
from aftercare.logging_setup import configure
from aftercare.settings import Settings
from devices.broker_url import BrokerUrl, BrokerUrlError

if TYPE_CHECKING:
    from aftercare.runtime import Platform

app = typer.Typer(
    help="Aftercare: monitoring what happens after an insurance claim is paid.",
    no_args_is_help=True,
    add_completion=False,
)
simulate_app = typer.Typer(help="Simulated devices and cases publishing the contract.", no_args_is_help=True)
app.add_typer(simulate_app, name="simulate")
certs_app = typer.Typer(help="Certificates for TLS on every link (MQTT and HTTPS).", no_args_is_help=True)
app.add_typer(certs_app, name="certs")
console = Console(stderr=True)
log = logging.getLogger("aftercare")


def load_settings() -> Settings:
    try:
        settings = Settings()
    except ValidationError as exc:
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            name = f"AFTERCARE_{loc.upper()}" if loc else "settings"
            console.print(f"[red]configuration error[/]: {name}: {err['msg']}")
        raise typer.Exit(2) from None
    configure(settings.log_level, settings.log_format)
    return settings


def _private_by_default() -> None:
    """Whatever a serving process creates without a mode of its own is private (0600 files, 0700 folders):
    a second guard beside the modes the stores give the files they create (store.private_files)."""
    os.umask(0o077)


use_settings_loader(load_settings)
app.add_typer(broker_app, name="broker")


def _sigterm_as_interrupt() -> None:
    def handler(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def _serve_health(platform: Platform, component: str, port: int, variable: str) -> None:
    """Start the component's health server. Its port taken: in production, stop what started and exit 2; in the
    embedded mode (several `aftercare ingest` on one machine, tests, benchmarks) go on without one, warning."""
    from aftercare.runtime import start_health_server

    try:
        start_health_server(platform, component=component, port=port)
    except OSError as exc:
        where = f"{platform.settings.health_host}:{port}"
        if platform.settings.mode == "production":
            platform.stop()
            log.error(
                "cannot serve %s health and metrics on %s: %s; set %s to a free port (0: none)",
                component,
                where,
                exc.strerror or exc,
                variable,
            )
            raise typer.Exit(2) from None
        log.warning(
            "running without %s health and metrics: %s: %s; set %s to a free port (0: none)",
            component,
            where,
            exc.strerror or exc,
            variable,
        )


@app.command()
def up(
    simulate: Annotated[bool, typer.Option("--simulate", help="also run simulated wearables and shops")] = False,
    patients: Annotated[int, typer.Option(help="simulated patients")] = 4,
    shops: Annotated[int, typer.Option(help="simulated shops")] = 3,
    history_days: Annotated[int, typer.Option(help="past days of telemetry the first wearable uploads")] = 7,
) -> None:
    """The whole platform in one process: embedded broker, SQLite stores, ingestion, monitors, API, dashboards."""
    from aftercare.runtime import open_platform, resolve_broker, serve_api, start_ingest, start_monitors

    settings = load_settings()
    _sigterm_as_interrupt()
    _private_by_default()
    try:
        broker_url, broker, protocol = resolve_broker(settings, allow_embedded=True)
    except PortTaken as exc:
        console.print(f"[red]cannot start the embedded broker[/]: {exc}")
        raise typer.Exit(2) from None
    except EmbeddedBrokerMissing as exc:
        console.print(f"[red]cannot start[/]: {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from None
    from aftercare.embedded_broker import port_free

    if not port_free(settings.api_host, settings.api_port):
        if broker is not None:
            broker.stop()
        console.print(
            f"[red]cannot start the API[/]: port {settings.api_port} is already in use; "
            "set AFTERCARE_API_PORT to a free port"
        )
        raise typer.Exit(2)
    platform = open_platform(settings)
    platform.broker, platform.broker_url = broker, broker_url
    token, fresh = settings.ensure_admin_token()
    scheme = "https" if settings.api_tls_cert_file else "http"
    base = f"{scheme}://{settings.api_host}:{settings.api_port}"
    simulation = None

    def started() -> None:
        nonlocal simulation
        console.print(f"[bold green]Aftercare is up[/]  dashboards and API: {base}  broker: {broker_url}")
        if fresh:
            console.print(f"admin token (shown once, stored in {settings.data_dir / 'admin-token'}): {token}")
        else:
            console.print(f"admin token: in {settings.data_dir / 'admin-token'}")
        if simulate:
            from simulators.fleet import Fleet

            simulation = Fleet(
                api_url=base,
                admin_token=token,
                broker=broker_url,
                patients=patients,
                shops=shops,
                data_dir=settings.data_dir,
                history_days=history_days,
            )
            simulation.start()
            console.print(
                f"simulating {patients} wearables and {shops} shops; log in at {base} with the "
                "admin token or the demo tokens printed in the dashboard's login page"
            )

    try:
        start_ingest(platform, protocol)
        start_monitors(platform, own_process=True)
        serve_api(platform, on_started=started)
    except KeyboardInterrupt:
        pass
    finally:
        console.print("stopping...")
        if simulation is not None:
            simulation.stop()
        platform.stop()
        console.print("stopped cleanly")


@app.command()
def ingest() -> None:
    """Ingestion alone, against AFTERCARE_MQTT_URL and the configured stores."""
    from aftercare.runtime import open_platform, resolve_broker, start_ingest

    settings = load_settings()
    _sigterm_as_interrupt()
    _private_by_default()
    broker_url, _, protocol = resolve_broker(settings, allow_embedded=False)
    platform = open_platform(settings)
    platform.broker_url = broker_url
    start_ingest(platform, protocol)
    _serve_health(platform, "ingest", settings.ingest_health_port, "AFTERCARE_INGEST_HEALTH_PORT")
    log.info("ingesting from %s into %s", broker_url, settings.resolved_timeseries_url.split("?")[0])
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        platform.stop()


@app.command()
def monitor() -> None:
    """The monitors alone (rehab metrics and alerts, repair jobs, photo checks, notifications)."""
    from aftercare.runtime import open_platform, start_monitors

    settings = load_settings()
    _sigterm_as_interrupt()
    _private_by_default()
    platform = open_platform(settings)
    start_monitors(platform)
    _serve_health(platform, "monitor", settings.monitor_health_port, "AFTERCARE_MONITOR_HEALTH_PORT")
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        platform.stop()


@app.command()
def api() -> None:
    """The API and dashboards alone."""
    from aftercare.runtime import open_platform, serve_api

    settings = load_settings()
    _sigterm_as_interrupt()
    _private_by_default()
    platform = open_platform(settings)
    try:
        serve_api(platform)
    except KeyboardInterrupt:
        pass
    finally:
        platform.stop()


@app.command()
def migrate() -> None:
    """Create or upgrade the state store's schema."""
    from aftercare.wiring import open_stores

    settings = load_settings()
    stores = open_stores(settings, migrate=True)
    stores.close()
    console.print("state store schema is up to date")


def _broker_from(url: str | None, ca_file: Path | None, settings: Settings) -> BrokerUrl:
    chosen = url or settings.mqtt_url
    if not chosen:
        console.print("[red]no broker[/]: pass --broker mqtts://host:8883 or set AFTERCARE_MQTT_URL")
        raise typer.Exit(2)
    try:
        return BrokerUrl.parse(chosen, ca_file=ca_file or settings.mqtt_ca_file)
    except BrokerUrlError as exc:
        console.print(f"[red]bad broker[/]: {exc}")
        raise typer.Exit(2) from None


BrokerOpt = Annotated[
    str | None, typer.Option(help="mqtts://host:8883 or mqtt://host:1883 (default AFTERCARE_MQTT_URL)")
]
CaFileOpt = Annotated[
    Path | None,
    typer.Option(
        help="CA certificate that signed the broker's (mqtts://) and the API's (https://) certificates "
        "(default AFTERCARE_MQTT_CA_FILE; unset: the system's CAs)"
    ),
]


def _api_verify(ca_file: Path | None, settings: Settings) -> ssl.SSLContext | bool:
    """How the simulators check an https API: against the given CA (`aftercare certs dev`), else the system's."""
    chosen = ca_file or settings.mqtt_ca_file
    if chosen is None:
        return True
    try:
        return ssl.create_default_context(cafile=str(chosen))
    except (OSError, ssl.SSLError) as exc:
        console.print(f"[red]bad CA file[/] {chosen}: {exc}")
        raise typer.Exit(2) from None


ApiOpt = Annotated[str, typer.Option(help="API used to register patients, shops, jobs and devices")]
TokenOpt = Annotated[str | None, typer.Option(help="admin token (default AFTERCARE_ADMIN_TOKEN)")]
SecondsOpt = Annotated[float, typer.Option(help="stop after this long (0: until Ctrl-C)")]
SeedOpt = Annotated[int, typer.Option(help="random seed")]


def _simulate(
    *,
    patients: int,
    shops: int,
    broker: str | None,
    ca_file: Path | None,
    api_url: str,
    token: str | None,
    seconds: float,
    seed: int,
) -> None:
    from simulators.fleet import run_fleet

    settings = load_settings()
    run_fleet(
        api_url=api_url,
        admin_token=token or settings.admin_token or _read_token(settings),
        broker=_broker_from(broker, ca_file, settings),
        patients=patients,
        shops=shops,
        seconds=seconds,
        seed=seed,
        data_dir=settings.data_dir,
        api_verify=_api_verify(ca_file, settings),
    )


@simulate_app.command("wearables")
def simulate_wearables(
    count: Annotated[int, typer.Option(help="number of wearables")] = 4,
    broker: BrokerOpt = None,
    ca_file: CaFileOpt = None,
    api_url: ApiOpt = "http://127.0.0.1:8000",
    token: TokenOpt = None,
    seconds: SecondsOpt = 0.0,
    seed: SeedOpt = 1,
) -> None:
    """Simulated wearables with known ground truth, registered through the API, publishing telemetry."""
    _simulate(
        patients=count,
        shops=0,
        broker=broker,
        ca_file=ca_file,
        api_url=api_url,
        token=token,
        seconds=seconds,
        seed=seed,
    )


@simulate_app.command("shops")
def simulate_shops(
    count: Annotated[int, typer.Option(help="number of shops")] = 3,
    broker: BrokerOpt = None,
    ca_file: CaFileOpt = None,
    api_url: ApiOpt = "http://127.0.0.1:8000",
    token: TokenOpt = None,
    seconds: SecondsOpt = 0.0,
    seed: SeedOpt = 1,
) -> None:
    """Simulated shop gateways running repair jobs through their stages with photos."""
    _simulate(
        patients=0,
        shops=count,
        broker=broker,
        ca_file=ca_file,
        api_url=api_url,
        token=token,
        seconds=seconds,
        seed=seed,
    )


@simulate_app.command("cases")
def simulate_cases(
    count: Annotated[int, typer.Option(help="number of cases")] = 6,
    api_url: Annotated[str, typer.Option(help="API of the platform")] = "http://127.0.0.1:8000",
    token: Annotated[str | None, typer.Option(help="admin token (default AFTERCARE_ADMIN_TOKEN)")] = None,
    seed: Annotated[int, typer.Option(help="random seed")] = 1,
    ca_file: CaFileOpt = None,
) -> None:
    """Post-claim cases of all three lines opened and driven to closure through the API."""
    from simulators.cases import run_cases

    settings = load_settings()
    run_cases(
        api_url=api_url,
        admin_token=token or settings.admin_token or _read_token(settings),
        count=count,
        seed=seed,
        verify=_api_verify(ca_file, settings),
    )


@certs_app.command("dev")
def certs_dev(
    out: Annotated[Path, typer.Option(help="folder for ca.pem, ca-key.pem, server.pem, server-key.pem")] = Path(
        "deploy/certs"
    ),
    hosts: Annotated[
        list[str] | None,
        typer.Option(help="more host names or IP addresses the server certificate covers (repeat, or comma-separate)"),
    ] = None,
) -> None:
    """A local CA and a server certificate for localhost, 127.0.0.1, mosquitto, api and --hosts (keys 0600).

    Run again to renew the server certificate: the CA in --out is kept, so clients keep their CA file.
    """
    from aftercare.certs import make_dev_certs

    extra = [h for given in hosts or [] for h in given.split(",")]
    certs = make_dev_certs(out, extra)
    console.print(f"CA (give this file to devices and services): {certs.ca_cert}")
    console.print(f"server certificate: {certs.server_cert}  key (0600): {certs.server_key}")
    console.print(f"CA key (0600, keep it off servers that do not issue certificates): {certs.ca_key}")


def _read_token(settings: Settings) -> str:
    path = settings.data_dir / "admin-token"
    if path.exists():
        return path.read_text().strip()
    console.print("[red]no admin token[/]: pass --token or set AFTERCARE_ADMIN_TOKEN")
    raise typer.Exit(2)


@app.command()
def bench(
    quick: Annotated[bool, typer.Option("--quick", help="a shorter run (under 2 minutes)")] = False,
    json_path: Annotated[Path | None, typer.Option("--json", help="also write the results as JSON")] = None,
    only: Annotated[
        str | None, typer.Option(help="comma-separated sections: ingest,scale,monitor,alerts,fleet,api")
    ] = None,
    wearables: Annotated[
        int | None,
        typer.Option(
            min=10,
            help="wearables of the fleet section (default 2,000 "
            "with aftercare up and 5,000 in production; --quick 500)",
        ),
    ] = None,
) -> None:
    """Benchmarks with ratios against baselines measured in the same run."""
    from aftercare.bench.main import run_bench

    settings = load_settings()
    code = run_bench(
        settings=settings, quick=quick, json_path=json_path, only=only.split(",") if only else None, wearables=wearables
    )
    raise typer.Exit(code)


def main() -> None:  # pragma: no cover - console entry point
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
