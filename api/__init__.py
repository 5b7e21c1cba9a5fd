"""The HTTP API. This process never imports TensorFlow."""
