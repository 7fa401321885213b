"""Structured logging: one line per record, key=value, the same in every component."""

from __future__ import annotations

import logging


def configure(level: str = "INFO") -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="ts=%(asctime)s level=%(levelname)s logger=%(name)s msg=%(message)s",
        force=True,
    )
    for noisy in ("amqtt", "transitions", "httpx", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
