"""The operator documentation stays true: every setting is in the reference, every route in the API doc."""

from __future__ import annotations

from pathlib import Path

from aftercare.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "operations.md").read_text()
    missing = [f"AFTERCARE_{name.upper()}" for name in Settings.model_fields
               if f"`AFTERCARE_{name.upper()}`" not in text]
    assert missing == []


def test_every_contract_topic_has_a_mosquitto_pub_example() -> None:
    commands = (DOCS / "device-contract.md").read_text().replace("\\\n", " ").splitlines()
    for leaf in ("telemetry", "beacon", "photo", "status"):
        assert any("mosquitto_pub" in line and f"/{leaf} " in line for line in commands), leaf
