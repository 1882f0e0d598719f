"""Demo pieces: a local OAuth 2.0 provider and a demo helpdesk bridge."""
