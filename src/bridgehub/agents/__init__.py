"""Agents: the people of each connected system, matched to the contact center's by email."""
