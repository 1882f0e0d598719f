"""Sync runs: synchronizing an activation's contacts (paged, from a checkpoint) and agents
(the whole roster) from its bridge, on a schedule and on request; resumed when they die."""
