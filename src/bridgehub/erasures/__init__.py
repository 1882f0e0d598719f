"""Erasure on request (GDPR art. 17): contacts removed, and kept out of later syncs."""
