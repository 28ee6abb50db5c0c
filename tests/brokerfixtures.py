"""Fixtures that start our broker (owned by the broker work; placeholder)."""
