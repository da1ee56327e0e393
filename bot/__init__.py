"""Rasa training data, custom NLU components and the text helpers they share with the actions."""
