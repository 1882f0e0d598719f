"""What `bridgehub bridge-config` does: load a bridge by `module:attribute`, as uvicorn
does, and write or print its catalog documents."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

from bridgehub.sdk.app import Bridge


class BridgeNotFound(LookupError):
    """`module:attribute` does not name a `Bridge`; the message says why."""


def load_bridge(target: str) -> Bridge:
    """The `Bridge` named `module:attribute` (the attribute may be dotted), importing the
    module from the working folder first, as `uvicorn module:app` does."""
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise BridgeNotFound(f'"{target}" must be written module:attribute, e.g. desk:bridge.')
    if "" not in sys.path:
        sys.path.insert(0, "")
    try:
        found: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is not None and module_name.startswith(error.name):
            raise BridgeNotFound(f'No module named "{module_name}".') from None
        raise
    for part in attribute.split("."):
        if not hasattr(found, part):
            raise BridgeNotFound(f'"{module_name}" has no attribute "{attribute}".')
        found = getattr(found, part)
    if not isinstance(found, Bridge):
        raise BridgeNotFound(f'"{target}" is a {type(found).__name__}, not a bridgehub.sdk.Bridge.')
    return found


def configuration_files(bridge: Bridge, base_url: str) -> dict[str, dict[str, Any]]:
    """The bridge's catalog documents by file name, named as `bridgehub catalog load` and
    the example catalog expect: `NAME.integration.json`, `NAME.ACTION.action.json`."""
    files = {f"{bridge.name}.integration.json": bridge.integration_configuration(base_url)}
    for action in bridge.action_configurations(base_url):
        files[f"{bridge.name}.{action['name']}.action.json"] = action
    return files


def write_configuration_files(bridge: Bridge, base_url: str, folder: Path) -> list[Path]:
    """Write the bridge's catalog documents into `folder` (made if needed); answers the
    paths written. Nothing is written when a document is invalid."""
    files = configuration_files(bridge, base_url)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, document in files.items():
        path = folder / name
        path.write_text(dumps(document), encoding="utf-8")
        written.append(path)
    return written


def dumps(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
