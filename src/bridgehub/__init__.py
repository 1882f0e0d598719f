"""bridgehub: a self-hosted integrations hub for contact centers."""

from importlib.metadata import version

__version__ = version("bridgehub")
