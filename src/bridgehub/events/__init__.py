"""Events: what happened in an account, written in the transaction of the change that made it
happen (an outbox), for the webhooks domain to send on. Domains that emit events depend on
this low package only; nothing here knows who listens."""
