"""Interactions: a contact's history, asked of every connected system at once."""
