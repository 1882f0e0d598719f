"""Automations: "when a call is missed, then create a ticket", run from contact-center events."""
