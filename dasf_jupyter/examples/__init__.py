"""Example backend modules used by the demo, the notebooks and the tests."""
