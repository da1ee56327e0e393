"""The launchers of the processes that have no package of their own: `python -m
services.rasa_server` (Rasa 3.6, in the Rasa environment), `python -m services.action_server`
(rasa_sdk, in the app environment) and `python -m services.balancer` (production mode's built-in
load balancer). The web chat, staff and speech services start from their own packages
(`python -m webchat` …); `stack/` starts and supervises them all."""
