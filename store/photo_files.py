"""Photo bytes on disk, content-addressed by SHA-256 (so writing the same photo twice is harmless)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


class PhotoFiles:
    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, data: bytes, content_type: str) -> tuple[str, str]:
        """Write the photo durably; return (sha256 hex, path relative to root)."""
        digest = hashlib.sha256(data).hexdigest()
        ext = ".png" if content_type == "image/png" else ".jpg"
        rel = f"{digest[:2]}/{digest}{ext}"
        path = self.root / rel
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        return digest, rel

    def read(self, rel: str) -> bytes:
        return (self.root / rel).read_bytes()
