"""Activations: an account connecting an integration, and the credentials that keeps."""
