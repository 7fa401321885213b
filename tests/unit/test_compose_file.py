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
    assert set(services) == {"mosquitto", "influxdb", "postgres", "grafana", "broker-init", "api", *INGESTS, *MONITORS}
    assert services["mosquitto"]["image"] == "eclipse-mosquitto:2"
    assert services["influxdb"]["image"] == "influxdb:2.7"
    assert services["postgres"]["image"] == "postgres:16"
    assert services["grafana"]["image"].startswith("grafana/grafana:")
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
        "broker-init": ["migrate"],
        "api": ["api"],
        **{name: ["monitor"] for name in MONITORS},
        **{name: ["ingest"] for name in INGESTS},
    }
    for name, commands in expected.items():
        assert aftercare_subcommands(services[name]) == commands, name
    assert command_steps(command_words(services["broker-init"]))[1] == ["python", "-m", "store.broker_files"]


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
        (["sh", "-c", "aftercare migrate; python -m store.broker_files"], "shell operator ;"),
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
        ["sh", "-c", "aftercare migrate && python -m store.broker_files"],
        ["python", "-m", "aftercare.cli", "ingest"],
    ],
)
def test_the_command_check_accepts_existing_commands(words: list[str]) -> None:
    assert [command_problem(step) for step in command_steps(words)] == [None] * len(command_steps(words))


def test_broker_init_writes_the_broker_files_with_an_existing_module(services: dict[str, dict[str, Any]]) -> None:
    module = command_steps(command_words(services["broker-init"]))[1][2]
    assert callable(importlib.import_module(module).main)


def test_production_mode_everywhere(services: dict[str, dict[str, Any]]) -> None:
    for name in AFTERCARE_SERVICES:
        env = env_of(services[name])
        assert env["AFTERCARE_MODE"] == "production", name
        for required in (
            "AFTERCARE_STATE_URL",
            "AFTERCARE_TIMESERIES_URL",
            "AFTERCARE_MQTT_URL",
            "AFTERCARE_ADMIN_TOKEN",
        ):
            assert env.get(required), f"{name} lacks {required} (production refuses to start without it)"
        assert env["AFTERCARE_TIMESERIES_URL"].startswith("influxdb2://influxdb:8086/")
        assert env["AFTERCARE_STATE_URL"].startswith("postgresql://aftercare:")
        assert urlsplit(interpolated(env["AFTERCARE_MQTT_URL"])).hostname == "mosquitto"


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
    assert "http://127.0.0.1:8000/healthz" in test_of("api")


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


def test_broker_files_are_shared_between_the_api_and_mosquitto(services: dict[str, dict[str, Any]]) -> None:
    conf = (ROOT / "deploy/mosquitto/mosquitto.conf").read_text()
    options = dict(line.split(None, 1) for line in conf.splitlines() if line.strip() and not line.startswith("#"))
    broker_dir = dict(v.split(":")[:2] for v in services["mosquitto"]["volumes"])["broker-auth"]
    assert options["allow_anonymous"] == "false"
    assert options["persistence"] == "true"
    assert options["listener"] == "1883"
    for writer in ("broker-init", "api"):
        app_dir = dict(v.split(":")[:2] for v in services[writer]["volumes"])["broker-auth"]
        env = env_of(services[writer])
        for option, variable in (
            ("password_file", "AFTERCARE_MOSQUITTO_PASSWD_FILE"),
            ("acl_file", "AFTERCARE_MOSQUITTO_ACL_FILE"),
            ("pid_file", "AFTERCARE_MOSQUITTO_PID_FILE"),
        ):
            name = Path(options[option]).relative_to(broker_dir)
            assert Path(env[variable]) == Path(app_dir) / name, f"{writer}: {variable}"
    assert services["api"]["pid"] == "service:mosquitto"  # to send it SIGHUP


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
    for path in dashboards:
        board = json.loads(path.read_text())
        assert board["uid"]
        assert board["title"]
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                assert target["datasource"]["uid"] == influx["uid"], f"{path.name}: {panel['title']}"
                queries.append(target["query"])
    assert any('r._measurement == "heart_rate"' in q for q in queries)
    assert any("fn: count" in q for q in queries)  # the ingestion rate
    home = grafana_env["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (ROOT / "dashboards/grafana" / Path(home).name).exists()
