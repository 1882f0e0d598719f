"""Database access: the embedded PostgreSQL, engines, sessions and migrations."""
