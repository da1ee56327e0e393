"""Custom Rasa input channels (they run inside the Rasa server)."""
