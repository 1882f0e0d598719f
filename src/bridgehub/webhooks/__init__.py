"""Outbound webhooks: an account's subscriptions to events, and their deliveries signed per
the Standard Webhooks specification."""
