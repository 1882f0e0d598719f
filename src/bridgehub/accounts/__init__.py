"""Who may call the hub: the admin key (and, per account, account keys)."""
