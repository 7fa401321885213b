"""How subjects are split between monitor workers: a stable hash of the subject id into a fixed number of
partitions. Ingestion stamps each inbox row with it; a worker handles the partitions it holds a lease on."""

from __future__ import annotations

import zlib

PARTITIONS = 64


def partition_of(subject: str) -> int:
    return zlib.crc32(subject.encode()) % PARTITIONS
