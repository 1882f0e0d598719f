"""Retention: what the hub keeps of its history, and the purge of what has expired."""
