"""Photo bytes on disk, content-addressed by SHA-256 (so writing the same photo twice is harmless)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from store.private_files import private_dir, write_private


class PhotoFiles:
    """Photos under ``root``: folders 0700, files 0600 from their creation (they show claimants' cars)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, data: bytes, content_type: str) -> tuple[str, str]:
        """Write the photo durably; return (sha256 hex, path relative to root)."""
        digest = hashlib.sha256(data).hexdigest()
        ext = ".png" if content_type == "image/png" else ".jpg"
        rel = f"{digest[:2]}/{digest}{ext}"
        path = self.root / rel
        if not path.exists():
            private_dir(self.root)
            write_private(path, data)  # 0600 from creation, its folders 0700
        return digest, rel

    def read(self, rel: str) -> bytes:
        return (self.root / rel).read_bytes()
