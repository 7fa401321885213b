"""requirements/*.lock pin every dependency of pyproject.toml to one version with hashes; the production lock has
no development broker; `make lock` runs the commands the locks' headers record."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^ \\]+)", re.MULTILINE)
NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lock: str) -> dict[str, str]:
    text = (ROOT / "requirements" / lock).read_text()
    return {normal(name): version for name, version in PIN.findall(text)}


def requirement_names(requirements: list[str]) -> set[str]:
    names = set()
    for requirement in requirements:
        found = NAME.match(requirement)
        assert found is not None, requirement
        names.add(normal(found.group(1)))
    return names


PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


@pytest.mark.parametrize(
    ("lock", "extras"), [("production.lock", ()), ("test.lock", ("test", "embedded"))], ids=["production", "test"]
)
def test_every_dependency_is_pinned_with_hashes(lock: str, extras: tuple[str, ...]) -> None:
    pinned = pins(lock)
    wanted = requirement_names(PROJECT["dependencies"])
    for extra in extras:
        wanted |= requirement_names(PROJECT["optional-dependencies"][extra])
    assert wanted - set(pinned) == set()
    text = (ROOT / "requirements" / lock).read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])  # one block per pinned package
    unhashed = [block.split(" ")[0] for block in blocks if "==" in block and "--hash=sha256:" not in block]
    assert unhashed == []


def test_the_production_lock_has_no_development_broker_and_agrees_with_the_test_lock() -> None:
    production, test = pins("production.lock"), pins("test.lock")
    assert "amqtt" not in production
    assert "amqtt" not in requirement_names(PROJECT["dependencies"])
    assert "amqtt" in test
    assert {name: test.get(name) for name in production} == production  # tests run the production versions


def test_make_lock_runs_the_commands_the_headers_record() -> None:
    makefile = (ROOT / "Makefile").read_text()
    for lock in ("production.lock", "test.lock"):
        header = (ROOT / "requirements" / lock).read_text().splitlines()[1]
        command = header.removeprefix("#").strip()
        assert command.startswith("uv pip compile pyproject.toml"), header
        assert f"$(LOCK_TOOLS)/bin/{command}" in makefile, command


def test_setup_installs_the_test_lock_and_the_project_without_dependencies() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install --quiet --require-hashes -r $(TEST_LOCK)" in makefile
    assert "pip install --quiet --no-deps -e ." in makefile
    assert "TEST_LOCK := requirements/test.lock" in makefile
