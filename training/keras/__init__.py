"""The Keras half of training: everything here imports TensorFlow/Keras. Nothing outside
training/ and workers/ may import it (an import-linter contract)."""
