"""Contacts: the store, phone numbers, synchronization and caller-ID lookup."""
