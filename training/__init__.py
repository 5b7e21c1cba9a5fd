"""The ML core. Importing this package (or ``training.spec``) never imports TensorFlow."""
