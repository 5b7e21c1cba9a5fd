"""Realistic bodies for the OpenAPI schema: the README's MNIST dense job as it is sent, checked,
trained and served. Built from the spec itself, so an example cannot drift from the schema
(tests/api/test_schema_types.py validates each against its model)."""

from typing import Any

from training.spec import JobSpec

# The README's first job: a dense network on MNIST.
MNIST_DENSE: dict[str, Any] = {
    "name": "mnist-dense",
    "dataset": {"name": "mnist", "validation": "test"},
    "model": {
        "layers": [
            {"type": "flatten"},
            {"type": "dense", "units": 512, "activation": "relu"},
            {"type": "dense", "units": 512, "activation": "relu"},
            {"type": "dense", "units": 10, "activation": "softmax"},
        ]
    },
    "loss": "categorical_crossentropy",
    "optimizer": {"name": "adam", "learning_rate": 0.001},
    "epochs": 5,
    "batch_size": 32,
    "seed": 0,
}

JOB_ID = "3f2c9a7e5b1d4c8e9f0a1b2c3d4e5f60"
BATCH_ID = "8d1e4b7a2c5f4e9b8a7d6c5b4a3f2e1d"
CREATED = "2026-01-05T09:30:00Z"
STARTED = "2026-01-05T09:30:02Z"
FINISHED = "2026-01-05T09:31:10Z"
DIGITS = [str(digit) for digit in range(10)]

# What the server writes out: every default and derived value (task, metrics) filled in.
RESOLVED_SPEC: dict[str, Any] = {
    **JobSpec.model_validate(MNIST_DENSE).model_dump(mode="json"),
    "task": "classification",
    "metrics": ["accuracy"],
}

MODEL_SUMMARY: dict[str, Any] = {
    "dataset": "mnist",
    "task": "classification",
    "label_encoding": "one_hot",
    "class_names": DIGITS,
    "input_shape": [28, 28, 1],
    "output_shape": [10],
    "layers": [
        {"index": 0, "type": "flatten", "output_shape": [784], "weights": 0, "biases": 0,
         "params": 0, "trainable_params": 0},
        {"index": 1, "type": "dense", "output_shape": [512], "weights": 401408, "biases": 512,
         "params": 401920, "trainable_params": 401920},
        {"index": 2, "type": "dense", "output_shape": [512], "weights": 262144, "biases": 512,
         "params": 262656, "trainable_params": 262656},
        {"index": 3, "type": "dense", "output_shape": [10], "weights": 5120, "biases": 10,
         "params": 5130, "trainable_params": 5130},
    ],
    "total_params": 669706,
    "trainable_params": 669706,
    "non_trainable_params": 0,
}  # fmt: skip

SPEC_CHECK: dict[str, Any] = {"spec": RESOLVED_SPEC, "summary": MODEL_SUMMARY, "warnings": []}

FINAL_METRICS = {"loss": 0.071, "accuracy": 0.978, "val_loss": 0.083, "val_accuracy": 0.975}

JOB: dict[str, Any] = {
    "id": JOB_ID,
    "name": "mnist-dense",
    "kind": "train",
    "status": "succeeded",
    "spec": RESOLVED_SPEC,
    "summary": MODEL_SUMMARY,
    "warnings": [],
    "error": None,
    "final_metrics": FINAL_METRICS,
    "model_id": JOB_ID,
    "best_epoch": 5,
    "attempts": 1,
    "checkpoint_epoch": None,
    "overfitting_since": None,
    "batch_id": None,
    "queue": "any",
    "queue_position": None,
    "worker": "celery@trainer-1",
    "host": "trainer-1",
    "device": "cpu",
    "created_at": CREATED,
    "updated_at": FINISHED,
    "started_at": STARTED,
    "finished_at": FINISHED,
    "transitions": [
        {"status": "queued", "at": CREATED},
        {"status": "running", "at": STARTED},
        {"status": "succeeded", "at": FINISHED},
    ],
}


def _epoch(epoch: int, loss: float, accuracy: float, val_loss: float, val_accuracy: float):
    return {
        "epoch": epoch,
        "loss": loss,
        "accuracy": accuracy,
        "val_loss": val_loss,
        "val_accuracy": val_accuracy,
        "learning_rate": 0.001,
        "seconds": 0.0 if epoch == 0 else 13.2,
        "metrics": {},
        "best_epoch": epoch,
        "overfitting_since": None,
        "health": [
            {"index": 1, "layer": "dense_1", "type": "dense", "activation": "relu",
             "weight_norm": 27.1, "gradient_norm": 0.41 / (1 + epoch),
             "update_ratio": None if epoch == 0 else 0.08, "dead_fraction": 0.0,
             "saturated_fraction": None},
            {"index": 2, "layer": "dense_2", "type": "dense", "activation": "softmax",
             "weight_norm": 4.3, "gradient_norm": 0.93 / (1 + epoch),
             "update_ratio": None if epoch == 0 else 0.21, "dead_fraction": None,
             "saturated_fraction": None},
        ],
    }  # fmt: skip


HISTORY: dict[str, Any] = {
    "job_id": JOB_ID,
    "status": "running",
    "best_epoch": 2,
    "overfitting_since": None,
    "epochs": [
        _epoch(0, 2.31, 0.094, 2.30, 0.098),
        _epoch(1, 0.221, 0.934, 0.118, 0.963),
        _epoch(2, 0.094, 0.971, 0.092, 0.971),
    ],
    "verdict": {
        "outcome": "in_progress",
        "success": False,
        "summary": "Still training; nothing is wrong so far.",
    },
    "diagnoses": [],
}

LR_FIND_REQUEST: dict[str, Any] = {
    "spec": MNIST_DENSE,
    "min_learning_rate": 1e-7,
    "max_learning_rate": 10.0,
    "steps": 200,
    "keep_model": False,
}

LR_FIND: dict[str, Any] = {
    "id": JOB_ID,
    "status": "succeeded",
    "min_learning_rate": 1e-7,
    "max_learning_rate": 10.0,
    "steps": 200,
    "keep_model": False,
    "curve": [
        {"learning_rate": 1e-7, "loss": 2.31, "raw_loss": 2.31},
        {"learning_rate": 1e-4, "loss": 2.05, "raw_loss": 1.98},
        {"learning_rate": 1e-2, "loss": 0.61, "raw_loss": 0.52},
        {"learning_rate": 0.3, "loss": 9.4, "raw_loss": 14.2},
    ],
    "suggested_learning_rate": 0.0012,
    "reason": "a tenth of 0.012, where the batch losses were lowest",
    "min_loss_learning_rate": 0.012,
    "steepest_learning_rate": 0.0009,
    "steps_run": 171,
    "warnings": [],
    "error": None,
    "model_id": None,
}

EVALUATION: dict[str, Any] = {
    "job_id": JOB_ID,
    "epoch": 5,
    "split": "validation",
    "rows": 4,
    "task": "classification",
    "class_names": ["0", "1"],
    "accuracy": 0.75,
    "confusion": [[2, 0], [1, 1]],
    "per_class": [
        {"class": "0", "precision": 0.667, "recall": 1.0, "f1": 0.8, "support": 2},
        {"class": "1", "precision": 1.0, "recall": 0.5, "f1": 0.667, "support": 2},
    ],
    "misclassified": [
        {"index": 0, "row": 3, "true": "1", "predicted": "0", "confidence": 0.93,
         "image": f"/v1/jobs/{JOB_ID}/evaluation/misclassified/0.png"},
    ],
    "residuals": None,
}  # fmt: skip

MODEL: dict[str, Any] = {
    "id": JOB_ID,
    "job": {"id": JOB_ID, "name": "mnist-dense"},
    "dataset": "mnist",
    "task": "classification",
    "class_names": DIGITS,
    "input_shape": [28, 28, 1],
    "scaling": "divide_by_255",
    "metrics": FINAL_METRICS,
    "export_check": {"max_abs_diff": 2.4e-07, "samples": 32},
    "created_at": FINISHED,
}

DATASET: dict[str, Any] = {
    "name": "mnist",
    "title": "MNIST handwritten digits",
    "input_shape": [28, 28, 1],
    "num_classes": 10,
    "class_names": DIGITS,
    "train_size": 60000,
    "test_size": 10000,
    "source": "LeCun, Cortes and Burges, THE MNIST DATABASE of handwritten digits",
    "id": None,
    "builtin": True,
    "task": "classification",
    "target_size": 0,
    "feature_names": None,
    "created_at": None,
}

BATCH_CREATE: dict[str, Any] = {
    "name": "optimizers",
    "base": {
        "dataset": {"name": "mnist", "limit": 2000},
        "model": {"preset": "dense"},
        "epochs": 3,
    },
    "vary": {
        "optimizer.name": ["sgd", "adagrad", "rmsprop", "adam"],
        "optimizer.learning_rate": [0.1, 0.01, 0.001],
    },
    "seeds": [0],
    "max_parallel": 2,
}

_SGD_ID, _ADAM_ID = "6aba14648e154cc280fb26292118be7d", "003f5082ce86491f8c316f02a4dcd130"
_SGD = {"optimizer.name": "sgd", "optimizer.learning_rate": 0.1}
_ADAM = {"optimizer.name": "adam", "optimizer.learning_rate": 0.001}

BATCH: dict[str, Any] = {
    "id": BATCH_ID,
    "name": "optimizers",
    "status": "running",
    "size": 2,
    "max_parallel": 2,
    "created_at": CREATED,
    "cancelled_at": None,
    "counts": {"queued": 0, "running": 1, "cancelling": 0, "succeeded": 1, "failed": 0,
               "cancelled": 0},
    "metric": "val_loss",
    "goal": "min",
    "leaderboard": [
        {"rank": 1, "job_id": _ADAM_ID, "name": "optimizer.name=adam", "status": "succeeded",
         "varied": _ADAM, "value": 0.121, "epoch": 3},
        {"rank": 2, "job_id": _SGD_ID, "name": "optimizer.name=sgd", "status": "running",
         "varied": _SGD, "value": 0.187, "epoch": 2},
    ],
    "jobs": [
        {"id": _SGD_ID, "name": "optimizer.name=sgd", "index": 0, "status": "running",
         "varied": _SGD, "epochs": 3, "epochs_done": 2, "final_metrics": None, "error": None},
        {"id": _ADAM_ID, "name": "optimizer.name=adam", "index": 1, "status": "succeeded",
         "varied": _ADAM, "epochs": 3, "epochs_done": 3,
         "final_metrics": {"loss": 0.098, "accuracy": 0.97, "val_loss": 0.121,
                           "val_accuracy": 0.964},
         "error": None},
    ],
    "curves": {
        "metric": "val_loss",
        "epochs": [0, 1, 2, 3],
        "series": [
            {"job_id": _SGD_ID, "name": "optimizer.name=sgd", "values": [2.3, 0.31, 0.187, None]},
            {"job_id": _ADAM_ID, "name": "optimizer.name=adam", "values": [2.3, 0.2, 0.14, 0.121]},
        ],
    },
}  # fmt: skip

# Each component's examples by its name in the OpenAPI document (JobSpec as sent, and as the
# server writes it out); api/schema_components.py puts them there.
EXAMPLES: dict[str, list[dict[str, Any]]] = {
    "JobSpec-Input": [MNIST_DENSE],
    "JobSpec-Output": [RESOLVED_SPEC],
    "SpecCheck": [SPEC_CHECK],
    "JobPublic": [JOB],
    "History": [HISTORY],
    "LrFindRequest": [LR_FIND_REQUEST],
    "LrFind": [LR_FIND],
    "Evaluation": [EVALUATION],
    "ModelPublic": [MODEL],
    "DatasetPublic": [DATASET],
    "BatchCreate": [BATCH_CREATE],
    "BatchPublic": [BATCH],
}
