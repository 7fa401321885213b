"""`aftercare broker init|sync`: the broker's accounts (Mosquitto's dynamic security plugin) from the registry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from aftercare.settings import Settings
from devices.topics import DeviceKind
from store.broker_accounts import INGEST_USER, MONITOR_USER
from store.dynsec_client import DynsecError, DynsecUnavailable
from store.dynsec_config import DynsecConfigError, read_config, registered_accounts, render_config, write_config

broker_app = typer.Typer(
    help="Broker accounts of devices and services (Mosquitto's dynamic security plugin).", no_args_is_help=True
)
console = Console(stderr=True)
_settings_loader: list[Callable[[], Settings]] = [Settings]


def use_settings_loader(loader: Callable[[], Settings]) -> None:
    """How the commands read the settings (the main command line's, with its error messages)."""
    _settings_loader[0] = loader


def _load() -> Settings:
    return _settings_loader[0]()


def _service_passwords(settings: Settings) -> dict[str, str]:
    passwords = {INGEST_USER: settings.mqtt_ingest_password, MONITOR_USER: settings.mqtt_monitor_password}
    unset = [name for name, password in passwords.items() if not password]
    if unset:
        console.print(
            "[red]AFTERCARE_MQTT_INGEST_PASSWORD and AFTERCARE_MQTT_MONITOR_PASSWORD must be set[/] "
            f"(no password for {', '.join(unset)})"
        )
        raise typer.Exit(2)
    return {name: password for name, password in passwords.items() if password}


@broker_app.command("init")
def init(
    file: Annotated[Path | None, typer.Option(help="the plugin's file (default AFTERCARE_BROKER_DYNSEC_FILE)")] = None,
) -> None:
    """Write the plugin's dynamic-security.json from the registry, with the broker stopped.

    The admin user, the service users and every registered device (with the password hash it was
    registered with); clients and roles an operator made are kept from the existing file.
    """
    from aftercare.wiring import open_stores

    settings = _load()
    path = file or settings.broker_dynsec_file
    if path is None:
        console.print("[red]no file[/]: pass --file or set AFTERCARE_BROKER_DYNSEC_FILE")
        raise typer.Exit(2)
    if not settings.broker_admin_password:
        console.print("[red]AFTERCARE_BROKER_ADMIN_PASSWORD must be set[/] (the plugin's admin user)")
        raise typer.Exit(2)
    services = _service_passwords(settings)
    stores = open_stores(settings, migrate=False)
    try:
        with stores.state.session() as session:
            config = render_config(
                admin_user=settings.broker_admin_user,
                admin_password=settings.broker_admin_password,
                service_passwords=services,
                devices=list(registered_accounts(session)),
                existing=read_config(path),
            )
        write_config(path, config)
    except DynsecConfigError as exc:
        console.print(f"[red]cannot write {path}[/]: {exc}")
        raise typer.Exit(1) from None
    finally:
        stores.close()
    console.print(f"wrote {len(config['clients'])} broker clients and {len(config['roles'])} roles to {path}")


@broker_app.command("sync")
def sync(
    prune: Annotated[bool, typer.Option(help="delete device accounts of ids that are not registered")] = True,
    reset_service_passwords: Annotated[
        bool, typer.Option(help="set the service users' passwords again (disconnects them once)")
    ] = False,
) -> None:
    """Bring the running broker in line with the registry, through the plugin's API (no restart)."""
    from aftercare.wiring import build_device_accounts, open_stores

    settings = _load()
    accounts = build_device_accounts(settings)
    if accounts is None:
        console.print("[red]AFTERCARE_MQTT_URL and AFTERCARE_BROKER_ADMIN_PASSWORD must be set[/]")
        raise typer.Exit(2)
    services = _service_passwords(settings)
    stores = open_stores(settings, migrate=False)
    try:
        with stores.state.session() as session:
            kinds = {k.value for k in DeviceKind}
            devices = [(d.device_id, DeviceKind(d.kind)) for d in registered_accounts(session) if d.kind in kinds]
        report = accounts.sync(
            devices,
            service_passwords=services,
            admin_user=settings.broker_admin_user,
            prune=prune,
            reset_passwords=reset_service_passwords,
        )
    except (DynsecError, DynsecUnavailable) as exc:
        console.print(f"[red]broker sync failed[/]: {exc}")
        raise typer.Exit(1) from None
    finally:
        accounts.close()
        stores.close()
    console.print(
        f"{len(devices)} registered devices; roles created: {len(report.created_roles)}; "
        f"orphan accounts deleted: {', '.join(report.deleted_orphans) or 'none'}"
    )
    if report.missing_devices:
        console.print(
            f"[yellow]{len(report.missing_devices)} registered devices have no broker account[/]: "
            f"{', '.join(report.missing_devices[:20])}{' ...' if len(report.missing_devices) > 20 else ''}\n"
            "the plugin takes no password hashes: stop the broker and run `aftercare broker init`, "
            "or rotate those devices' passwords"
        )
        raise typer.Exit(3)
