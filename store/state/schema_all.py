"""Every table of the state store in one metadata (the schema modules register on the same Base)."""

from __future__ import annotations

import importlib
import pkgutil

import store.state
from store.state.schema import Base

# Schema modules beside schema.py (schema_repair.py, schema_cases.py, ...) add their tables to Base.
for _info in pkgutil.iter_modules(store.state.__path__):
    if _info.name.startswith("schema_") and _info.name != "schema_all":
        importlib.import_module(f"store.state.{_info.name}")

metadata = Base.metadata
