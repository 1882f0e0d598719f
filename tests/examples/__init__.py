"""The example bridges of examples/bridges/ end to end through the hub.

Each bridge's folder is a set of top-level modules, as pytest imports them when it collects
the bridge's own tests; the same folders are put on the import path here."""

import sys
from pathlib import Path

_BRIDGES = Path(__file__).resolve().parents[2] / "examples" / "bridges"
sys.path.extend(str(folder) for folder in sorted(_BRIDGES.iterdir()) if folder.is_dir())
