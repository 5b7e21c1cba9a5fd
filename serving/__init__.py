"""Prediction from exported ONNX models on ONNX Runtime. Never imports TensorFlow."""
