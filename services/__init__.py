"""The two Rasa processes' launchers: `python -m services.rasa_server` (Rasa 3.6, in the Rasa
environment) and `python -m services.action_server` (rasa_sdk, in the app environment). The
web chat, staff and speech services start from their own packages (`python -m webchat` …);
`stack/` starts and supervises them all."""
