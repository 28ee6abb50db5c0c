"""Fixtures that start the reference broker dasf-broker-django (placeholder)."""
