"""docker-compose.yml, its Dockerfile, .env.example, Mosquitto's config and Grafana's provisioning agree.

Docker is not available here, so these read the files and check what `docker compose up` relies on.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
INGESTS = ("ingest-1", "ingest-2", "ingest-3")
MONITORS = ("monitor-1", "monitor-2")
AFTERCARE_SERVICES = ("broker-init", "api", *INGESTS, *MONITORS)
SECRET_KEY = re.compile(r"PASSWORD|TOKEN|SECRET|_KEY$", re.IGNORECASE)
VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)(?:(:?[-?+])[^}]*)?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = compose["services"]
    assert isinstance(found, dict)
    return found


def env_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    assert isinstance(env, dict), "environment must be a mapping (KEY: value), not a list"
    return {str(k): str(v) for k, v in env.items()}


def interpolated(value: str) -> str:
    """``value`` with each ``${VAR...}`` replaced by ``__VAR__``, as compose would put in a value."""
    return VARIABLE.sub(lambda m: f"__{m.group(1)}__", value)


def command_words(service: dict[str, Any]) -> list[str]:
    """The service's command as words (compose's ``$$`` unescaped); the Dockerfile's CMD when it has none."""
    command = service.get("command")
    if command is None:
        return dockerfile_cmd()
    words = shlex.split(command) if isinstance(command, str) else [str(w) for w in command]
    return [w.replace("$$", "$") for w in words]  # compose's escape of a literal $


def dockerfile_cmd() -> list[str]:
    """The CMD of the aftercare image (exec form), what a service built from it runs without a command."""
    found = re.search(r"^CMD (\[.*\])\s*$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert found is not None, "the Dockerfile has no CMD in exec form"
    cmd = json.loads(found.group(1))
    assert isinstance(cmd, list)
    return [str(w) for w in cmd]


def command_steps(words: list[str]) -> list[list[str]]:
    """The commands a service runs: its words, or each ``&&``-joined command of ``sh -c "..."``."""
    if words[:2] != ["sh", "-c"]:
        return [words]
    assert len(words) == 3, f"sh -c takes one script: {words}"
    lexer = shlex.shlex(words[2], posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    steps: list[list[str]] = [[]]
    for token in lexer:
        if token == "&&":
            steps.append([])
        elif token and set(token) <= set(lexer.punctuation_chars):
            steps[-1].append(f"<shell operator {token}>")  # anything but && hides a failure or runs in background
        else:
            steps[-1].append(token)
    return steps


def command_problem(step: list[str]) -> str | None:
    """Why ``step`` is not an existing `aftercare` command or ``python -m`` of a runnable module (None: it is)."""
    if step[:1] == ["aftercare"]:
        return aftercare_problem(step[1:])
    if step[:2] == ["python", "-m"] and len(step) >= 3:
        return module_problem(step[2])
    return f"neither `aftercare ...` nor `python -m <module>`: {shlex.join(step)}"


def aftercare_problem(args: list[str]) -> str | None:
    """Resolve ``aftercare ARGS`` through the typer app's groups to a command, then parse its options."""
    import typer.main

    from aftercare.cli import app

    command: Any = typer.main.get_command(app)
    path = ["aftercare"]
    while hasattr(command, "commands"):  # a group: the next word names one of its commands
        if not args:
            return f"`{' '.join(path)}` is a group; it needs one of {sorted(command.commands)}"
        name, args = args[0], args[1:]
        if name not in command.commands:
            return f"`{' '.join(path)} {name}`: no such command (there are {sorted(command.commands)})"
        command = command.commands[name]
        path.append(name)
    try:
        command.make_context(" ".join(path), list(args))
    except Exception as exc:  # typer's usage errors: unknown option, missing value
        return f"`{' '.join([*path, *args])}`: {exc}"
    return None


def module_problem(module: str) -> str | None:
    """``python -m module`` runs something: the module exists and has an ``if __name__ == "__main__":`` block."""
    try:
        spec = importlib.util.find_spec(module)
    except ImportError as exc:
        return f"python -m {module}: {exc}"
    if spec is None or spec.origin is None:
        return f"python -m {module}: no such module"
    if spec.submodule_search_locations is not None:  # a package runs its __main__ module
        return None if importlib.util.find_spec(f"{module}.__main__") else f"python -m {module}: no __main__"
    tree = ast.parse(Path(spec.origin).read_text())
    for node in tree.body:
        if (
            isinstance(node, ast.If)
            and isinstance(node.test, ast.Compare)
            and ast.unparse(node.test) in ('__name__ == "__main__"', "__name__ == '__main__'")
        ):
            return None
    return f'python -m {module}: the module has no `if __name__ == "__main__":` block, so it would do nothing'


def aftercare_subcommands(service: dict[str, Any]) -> list[str]:
    return [step[1] for step in command_steps(command_words(service)) if step[:1] == ["aftercare"] and len(step) > 1]


def test_services_and_images(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == {
        "mosquitto",
        "influxdb",
        "postgres",
        "grafana",
        "prometheus",
        "broker-init",
        "api",
        *INGESTS,
        *MONITORS,
    }
    assert services["mosquitto"]["image"] == "eclipse-mosquitto:2"
    assert services["influxdb"]["image"] == "influxdb:2.7"
    assert services["postgres"]["image"] == "postgres:16"
    assert services["grafana"]["image"].startswith("grafana/grafana:")
    assert services["prometheus"]["image"].startswith("prom/prometheus:")
    for name in AFTERCARE_SERVICES:
        assert services[name]["build"] == {"context": ".", "dockerfile": "Dockerfile"}, name
        assert services[name]["image"].startswith("aftercare:"), name


def test_dockerfile_installs_the_package_on_python_311_slim() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\s*$", dockerfile, re.MULTILINE)
    # exact versions with hashes, then the project alone (requirements/README.md)
    assert re.search(r"^RUN pip install --require-hashes -r requirements/production\.lock$", dockerfile, re.MULTILINE)
    assert re.search(r"^RUN pip install --no-deps \.", dockerfile, re.MULTILINE)
    assert re.search(r"^USER aftercare$", dockerfile, re.MULTILINE)
    # every package pyproject.toml ships is copied into the build
    pyproject = (ROOT / "pyproject.toml").read_text()
    include = re.search(r"include = \[([^\]]*)\]", pyproject)
    assert include is not None
    for package in re.findall(r'"(\w+)\*"', include.group(1)):
        assert f"COPY {package} ./{package}" in dockerfile, package


def test_aftercare_services_run_existing_commands(services: dict[str, dict[str, Any]]) -> None:
    built = [name for name, service in services.items() if "build" in service]  # the aftercare image
    assert sorted(built) == sorted(AFTERCARE_SERVICES)
    for name in built:
        steps = command_steps(command_words(services[name]))
        for step in steps:
            problem = command_problem(step)
            assert problem is None, f"{name}: {problem}"
    expected = {
        "broker-init": ["migrate", "broker"],
        "api": ["api"],
        **{name: ["monitor"] for name in MONITORS},
        **{name: ["ingest"] for name in INGESTS},
    }
    for name, commands in expected.items():
        assert aftercare_subcommands(services[name]) == commands, name
    assert command_steps(command_words(services["broker-init"]))[1] == ["aftercare", "broker", "init"]


@pytest.mark.parametrize(
    ("words", "problem"),
    [
        (["aftercare", "ingset"], "no such command"),
        (["aftercare", "simulate"], "is a group"),
        (["aftercare", "simulate", "trucks"], "no such command"),
        (["aftercare", "ingest", "--workers", "3"], "No such option"),
        (["python", "-m", "store.no_such_module"], "no such module"),
        (["python", "-m", "nowhere.at_all"], "python -m nowhere.at_all"),
        (["python", "-m", "ingest.counters"], "no `if __name__"),
        (["uvicorn", "api.app:app"], "neither"),
        (["sh", "-c", "aftercare migrate; aftercare broker init"], "shell operator ;"),
        (["sh", "-c", "aftercare migrate && aftercare migrat"], "no such command"),
    ],
)
def test_the_command_check_refuses_what_does_not_exist(words: list[str], problem: str) -> None:
    problems = [p for p in map(command_problem, command_steps(words)) if p is not None]
    assert problems, f"{words} passed the check"
    assert problem in problems[-1], problems


@pytest.mark.parametrize(
    "words",
    [
        ["aftercare", "simulate", "wearables", "--count", "3"],
        ["sh", "-c", "aftercare migrate && aftercare broker init"],
        ["python", "-m", "aftercare.cli", "broker", "sync"],
        ["python", "-m", "aftercare.cli", "ingest"],
    ],
)
def test_the_command_check_accepts_existing_commands(words: list[str]) -> None:
    assert [command_problem(step) for step in command_steps(words)] == [None] * len(command_steps(words))


def test_production_mode_everywhere(services: dict[str, dict[str, Any]]) -> None:
    for name in AFTERCARE_SERVICES:
        env = env_of(services[name])
        assert env["AFTERCARE_MODE"] == "production", name
        for required in (
            "AFTERCARE_STATE_URL",
            "AFTERCARE_TIMESERIES_URL",
            "AFTERCARE_MQTT_URL",
            "AFTERCARE_ADMIN_TOKEN",
            "AFTERCARE_SPOT_CHECK_SEED",
        ):
            assert env.get(required), f"{name} lacks {required} (production refuses to start without it)"
        assert env["AFTERCARE_TIMESERIES_URL"].startswith("influxdb2://influxdb:8086/")
        assert env["AFTERCARE_STATE_URL"].startswith("postgresql://aftercare:")
        assert urlsplit(interpolated(env["AFTERCARE_MQTT_URL"])).hostname == "mosquitto"


def cert_dir_of(service: dict[str, Any]) -> Path:
    """Where ``./deploy/certs`` (made by `aftercare certs dev` or holding real certificates) is mounted, read-only."""
    for volume in service.get("volumes", []):
        source, target, *options = volume.split(":")
        if source == "./deploy/certs":
            assert options == ["ro"], f"the certificates are mounted read-only: {volume}"
            return Path(target)
    raise AssertionError(f"./deploy/certs is not mounted: {service.get('volumes')}")


def test_every_mqtt_client_speaks_tls_to_the_broker(services: dict[str, dict[str, Any]]) -> None:
    for name in AFTERCARE_SERVICES:
        env = env_of(services[name])
        url = urlsplit(interpolated(env["AFTERCARE_MQTT_URL"]))
        assert (url.scheme, url.port) == ("mqtts", 8883), f"{name}: {env['AFTERCARE_MQTT_URL']}"
        assert Path(env["AFTERCARE_MQTT_CA_FILE"]) == cert_dir_of(services[name]) / "ca.pem", name


def test_the_api_serves_https(services: dict[str, dict[str, Any]]) -> None:
    env = env_of(services["api"])
    certs = cert_dir_of(services["api"])
    assert Path(env["AFTERCARE_API_TLS_CERT_FILE"]) == certs / "server.pem"
    assert Path(env["AFTERCARE_API_TLS_KEY_FILE"]) == certs / "server-key.pem"
    assert env["AFTERCARE_API_PORT"] == "8443"


def published_ports(service: dict[str, Any]) -> list[tuple[str | None, str, str]]:
    """(host address or None for every interface, host port, container port) of each ``ports`` entry."""
    found = []
    for entry in service.get("ports", []):
        assert isinstance(entry, str), f"use the short syntax for ports: {entry!r}"
        parts = entry.split(":")
        address = parts[0] if len(parts) == 3 else None
        found.append((address, parts[-2], parts[-1].split("/")[0]))
    return found


# Reachable from other machines: only these, and each speaks TLS (mosquitto.conf's listener, the API's certificate).
TLS_PORTS = {("mosquitto", "8883"), ("api", "8443")}


def test_only_tls_ports_are_published_beyond_loopback(services: dict[str, dict[str, Any]]) -> None:
    outside = set()
    for name, service in services.items():
        for address, host_port, container_port in published_ports(service):
            if address == "127.0.0.1":
                continue  # this host only (operators' tools), like InfluxDB
            assert (name, container_port) in TLS_PORTS, f"{name} publishes {host_port} in clear beyond loopback"
            assert host_port == container_port, name
            outside.add((name, container_port))
    assert outside == TLS_PORTS
    assert "expose" not in services["mosquitto"], "no other broker port either"


def test_ingest_scales_out_with_a_shared_subscription(services: dict[str, dict[str, Any]]) -> None:
    ids = set()
    for name in INGESTS:
        env = env_of(services[name])
        assert env["AFTERCARE_MQTT_SHARED_GROUP"] == "ingest"
        assert urlsplit(interpolated(env["AFTERCARE_MQTT_URL"])).username == "aftercare-ingest"
        ids.add(env["AFTERCARE_MQTT_CLIENT_ID"])
    # a fixed client id per member: its persistent session survives restarts and recreated containers
    # (a renamed member would leave the messages queued to its old session behind)
    assert ids == {"aftercare-ingest-1", "aftercare-ingest-2", "aftercare-ingest-3"}


def test_healthchecks(services: dict[str, dict[str, Any]]) -> None:
    def test_of(name: str) -> str:
        check = services[name]["healthcheck"]["test"]
        assert check[0] in ("CMD", "CMD-SHELL"), name
        return " ".join(check[1:])

    assert test_of("postgres").startswith("pg_isready")
    assert test_of("influxdb").startswith("influx ping")
    assert "mosquitto_sub" in test_of("mosquitto")
    assert "aftercare-monitor" in test_of("mosquitto")
    # over TLS, verifying the certificate: healthy also means the certificate and key are loaded
    broker_certs = cert_dir_of(services["mosquitto"])
    assert f"--cafile {broker_certs / 'ca.pem'}" in test_of("mosquitto")
    assert "-p 8883" in test_of("mosquitto")
    assert "https://localhost:8443/healthz" in test_of("api")
    assert str(cert_dir_of(services["api"]) / "ca.pem") in test_of("api")
    # ingest and monitor: their own health server (aftercare/health_server.py) on the port their settings name
    for names, variable in ((INGESTS, "AFTERCARE_INGEST_HEALTH_PORT"), (MONITORS, "AFTERCARE_MONITOR_HEALTH_PORT")):
        for name in names:
            env = env_of(services[name])
            assert env["AFTERCARE_HEALTH_HOST"] == "0.0.0.0", name
            assert f"http://127.0.0.1:{env[variable]}/readyz" in test_of(name), name
            assert services[name]["healthcheck"]["test"][1:3] == ["python", "-c"], name
    assert "/-/ready" in test_of("prometheus")


def test_depends_on_waits_for_health(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        depends = service.get("depends_on") or {}
        assert isinstance(depends, dict), f"{name}: depends_on must name a condition for each service"
        for dependency, spec in depends.items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            condition = spec["condition"]
            if dependency == "broker-init":
                assert condition == "service_completed_successfully", name
            else:
                assert condition == "service_healthy", f"{name} -> {dependency}"
                assert "healthcheck" in services[dependency], f"{dependency} has no healthcheck to wait for"
    for name in ("api", *INGESTS, *MONITORS):
        assert set(services[name]["depends_on"]) == {"postgres", "influxdb", "mosquitto"}, name
    assert set(services["mosquitto"]["depends_on"]) == {"broker-init"}
    assert set(services["broker-init"]["depends_on"]) == {"postgres"}


def test_volumes(compose: dict[str, Any], services: dict[str, dict[str, Any]]) -> None:
    declared = set(compose["volumes"])
    mounts: dict[str, dict[str, str]] = {}
    for name, service in services.items():
        mounts[name] = {}
        for volume in service.get("volumes", []):
            source, target = volume.split(":")[:2]
            mounts[name][source] = target
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in declared, f"{name} mounts undeclared volume {source}"
    assert mounts["postgres"]["postgres-data"] == "/var/lib/postgresql/data"
    assert mounts["influxdb"]["influxdb-data"] == "/var/lib/influxdb2"
    assert mounts["mosquitto"]["mosquitto-data"] == "/mosquitto/data"
    # photos are written by ingest and read by the api and the monitors
    for name in ("api", *INGESTS, *MONITORS):
        assert mounts[name]["aftercare-data"] == env_of(services[name])["AFTERCARE_DATA_DIR"]


def mosquitto_options() -> dict[str, list[str]]:
    """Each option of deploy/mosquitto/mosquitto.conf with the values of all its lines."""
    options: dict[str, list[str]] = {}
    for line in (ROOT / "deploy/mosquitto/mosquitto.conf").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.strip().partition(" ")
            options.setdefault(name, []).append(value.strip())
    return options


def test_no_service_shares_the_brokers_pid_namespace(services: dict[str, dict[str, Any]]) -> None:
    # A service in Mosquitto's pid namespace dies with it (and could signal it): accounts go through the
    # dynamic security plugin's MQTT API instead, so nothing signals the broker.
    for name, service in services.items():
        assert "pid" not in service, f"{name} shares a pid namespace: {service['pid']}"
    for name in AFTERCARE_SERVICES:
        env = env_of(services[name])
        assert not [k for k in env if k.startswith("AFTERCARE_MOSQUITTO_")], f"{name}: broker-file settings left"


def test_mosquitto_authenticates_through_the_dynamic_security_plugin(services: dict[str, dict[str, Any]]) -> None:
    options = mosquitto_options()
    assert options["allow_anonymous"] == ["false"]
    assert options["persistence"] == ["true"]
    assert options["listener"] == ["8883"]  # the one listener, TLS only
    certs = cert_dir_of(services["mosquitto"])
    assert [Path(v) for v in options["cafile"]] == [certs / "ca.pem"]
    assert [Path(v) for v in options["certfile"]] == [certs / "server.pem"]
    assert [Path(v) for v in options["keyfile"]] == [certs / "server-key.pem"]
    assert options["tls_version"] == ["tlsv1.2"]  # the oldest accepted
    assert options["plugin"] == ["/usr/lib/mosquitto_dynamic_security.so"]  # where eclipse-mosquitto:2 has it
    assert not {"password_file", "acl_file", "pid_file"} & set(options)
    # broker-init writes the plugin's file into the volume Mosquitto reads it from; the api never mounts it
    config_file = Path(options["plugin_opt_config_file"][0])
    mosquitto_mounts = dict(v.split(":")[:2] for v in services["mosquitto"]["volumes"])
    init_mounts = dict(v.split(":")[:2] for v in services["broker-init"]["volumes"])
    volume = next(source for source, target in mosquitto_mounts.items() if config_file.parent == Path(target))
    env = env_of(services["broker-init"])
    assert Path(env["AFTERCARE_BROKER_DYNSEC_FILE"]) == Path(init_mounts[volume]) / config_file.name
    assert volume not in [v.split(":")[0] for v in services["api"].get("volumes", [])]
    for name in ("broker-init", "api"):
        assert env_of(services[name])["AFTERCARE_BROKER_ADMIN_PASSWORD"].startswith("${BROKER_ADMIN_PASSWORD:?")


def test_no_secret_is_committed(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for key, value in env_of(service).items():
            if SECRET_KEY.search(key):
                assert VARIABLE.fullmatch(value), f"{name}: {key} must come from .env, not {value!r}"
            if "://" in value:
                password = urlsplit(interpolated(value)).password
                assert password is None or re.fullmatch(r"__[A-Z0-9_]+__", password), (
                    f"{name}: {key} has a literal password"
                )
    env_example = (ROOT / ".env.example").read_text()
    for line in env_example.splitlines():
        if line and not line.startswith("#"):
            key, value = line.split("=", 1)
            if SECRET_KEY.search(key):
                assert value == "", f".env.example: {key} must be left empty (compose refuses to start until set)"


def test_every_variable_is_documented_and_secrets_are_required() -> None:
    text = COMPOSE.read_text()
    documented = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    for variable, operator in VARIABLE.findall(text):
        assert variable in documented, f"${{{variable}}} is not in .env.example"
        if SECRET_KEY.search(variable):
            assert operator == ":?", f"${{{variable}}} must be required with :? (no default secret)"


def test_grafana_provisioning_and_dashboards(services: dict[str, dict[str, Any]]) -> None:
    provisioning = ROOT / "deploy/grafana/provisioning"
    datasources = yaml.safe_load((provisioning / "datasources/influxdb.yml").read_text())["datasources"]
    influx = next(d for d in datasources if d["type"] == "influxdb")
    prometheus = yaml.safe_load((provisioning / "datasources/prometheus.yml").read_text())["datasources"][0]
    assert (prometheus["type"], prometheus["url"]) == ("prometheus", "http://prometheus:9090")
    assert influx["url"] == "http://influxdb:8086"
    assert influx["jsonData"]["version"] == "Flux"
    assert influx["secureJsonData"]["token"] == "$INFLUXDB_TOKEN"
    grafana_env = env_of(services["grafana"])
    for value in (
        influx["secureJsonData"]["token"],
        influx["jsonData"]["organization"],
        influx["jsonData"]["defaultBucket"],
    ):
        assert value.removeprefix("$") in grafana_env

    providers = yaml.safe_load((provisioning / "dashboards/aftercare.yml").read_text())["providers"]
    mounted = dict(v.split(":")[:2] for v in services["grafana"]["volumes"])
    assert mounted["./dashboards/grafana"] == providers[0]["options"]["path"]

    dashboards = sorted((ROOT / "dashboards/grafana").glob("*.json"))
    assert dashboards
    queries: list[str] = []
    expressions: list[str] = []
    for path in dashboards:
        board = json.loads(path.read_text())
        assert board["uid"]
        assert board["title"]
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                uid = target["datasource"]["uid"]
                assert uid in (influx["uid"], prometheus["uid"]), f"{path.name}: {panel['title']}"
                if uid == influx["uid"]:
                    queries.append(target["query"])
                else:
                    expressions.append(target["expr"])
    assert any('r._measurement == "heart_rate"' in q for q in queries)
    assert any("fn: count" in q for q in queries)  # the ingestion rate
    assert any("aftercare_monitor_lag_seconds" in e for e in expressions)  # the platform-health dashboard
    home = grafana_env["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (ROOT / "dashboards/grafana" / Path(home).name).exists()


def test_prometheus_scrapes_the_api_and_every_ingest_and_monitor(services: dict[str, dict[str, Any]]) -> None:
    mounted = dict(v.split(":")[:2] for v in services["prometheus"]["volumes"])
    assert mounted["./deploy/prometheus"] == "/etc/prometheus"
    assert "--config.file=/etc/prometheus/prometheus.yml" in services["prometheus"]["command"]
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    for rules in config["rule_files"]:
        assert (ROOT / "deploy/prometheus" / Path(rules).relative_to("/etc/prometheus")).exists(), rules
    targets = {
        job["job_name"]: {t for c in job["static_configs"] for t in c["targets"]} for job in config["scrape_configs"]
    }
    assert targets["aftercare-api"] == {f"api:{env_of(services['api'])['AFTERCARE_API_PORT']}"}
    api_job = next(job for job in config["scrape_configs"] if job["job_name"] == "aftercare-api")
    assert api_job["scheme"] == "https"  # the API serves HTTPS only
    assert Path(api_job["tls_config"]["ca_file"]) == cert_dir_of(services["prometheus"]) / "ca.pem"
    assert targets["aftercare-ingest"] == {
        f"{name}:{env_of(services[name])['AFTERCARE_INGEST_HEALTH_PORT']}" for name in INGESTS
    }
    assert targets["aftercare-monitor"] == {
        f"{name}:{env_of(services[name])['AFTERCARE_MONITOR_HEALTH_PORT']}" for name in MONITORS
    }
    assert services["grafana"]["depends_on"]["prometheus"] == {"condition": "service_healthy"}
