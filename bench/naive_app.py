"""The baseline bench/predict.py compares against: what a user would write first.

A FastAPI endpoint that loads the ``.keras`` file once and calls Keras ``model.predict`` on
every request. Run by bench/predict.py as ``uvicorn naive_app:app`` with NAIVE_MODEL set.
"""

import os

import keras
import numpy as np
from fastapi import FastAPI
from pydantic import BaseModel

model = keras.saving.load_model(os.environ["NAIVE_MODEL"])
app = FastAPI()


class PredictRequest(BaseModel):
    instances: list


@app.post("/predict")
def predict(request: PredictRequest) -> dict:
    x = np.asarray(request.instances, dtype="float32").reshape(-1, 28, 28, 1) / 255.0
    probabilities = model.predict(x, verbose=0)
    return {
        "predictions": [
            {"label": str(i), "class_index": int(i), "probabilities": row.tolist()}
            for i, row in zip(probabilities.argmax(axis=1), probabilities, strict=True)
        ]
    }
