"""Helpers every service shares: settings, logs, secrets, masking. Imports no project package."""
