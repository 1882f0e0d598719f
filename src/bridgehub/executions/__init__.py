"""Executions: actions run in external systems, by hand or by automations, with retries."""
