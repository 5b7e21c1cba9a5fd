"""Descent: train Keras models from declarative job specs over REST, serve them back."""

__version__ = "0.1.0"
