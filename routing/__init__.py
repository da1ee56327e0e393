"""Choosing the department responsible for a citizen's complaint, report or request."""
