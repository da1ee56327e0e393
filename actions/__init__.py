"""Custom actions served to Rasa over the action-server protocol (`rasa_sdk`)."""
