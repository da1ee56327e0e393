"""The citizen web chat page: static files served by aiohttp, talking to Rasa over Socket.IO."""
