"""The spec's form: Keras' names and defaults; a refusal for anything misspelt or out of range."""

import subprocess
import sys

import pytest
from pydantic import ValidationError

from training.spec import JobSpec


def spec(**overrides):
    body = {"dataset": {"name": "mnist"}, "model": {"preset": "dense"}}
    body.update(overrides)
    return JobSpec.model_validate(body)


def refusal(**overrides) -> str:
    with pytest.raises(ValidationError) as caught:
        spec(**overrides)
    return str(caught.value)


def dense(**fields):
    return {"model": {"layers": [{"type": "flatten"}, {"type": "dense", "units": 10, **fields}]}}


def test_defaults_are_the_classic_lesson():
    job = spec()
    assert (job.optimizer.name, job.optimizer.learning_rate) == ("adam", 0.001)
    assert (job.epochs, job.batch_size, job.shuffle, job.seed) == (5, 32, True, 0)
    assert job.loss is None and job.task is None  # derived from the data set when resolved


def test_optimizer_defaults_are_keras_defaults():
    sgd = spec(optimizer={"name": "sgd"}).optimizer
    assert (sgd.learning_rate, sgd.momentum, sgd.nesterov) == (0.01, 0.0, False)
    adam = spec(optimizer={"learning_rate": 0.01}).optimizer  # no name: Adam, as before
    assert (adam.name, adam.beta_1, adam.beta_2, adam.epsilon) == ("adam", 0.9, 0.999, 1e-7)
    assert spec(optimizer={"name": "adamw"}).optimizer.weight_decay == 0.004
    assert spec(optimizer={"name": "rmsprop"}).optimizer.rho == 0.9


def test_an_optimizer_may_be_named_alone_as_in_keras():
    assert spec(optimizer="rmsprop").optimizer.name == "rmsprop"


def test_an_argument_of_another_optimizer_is_refused():
    assert "momentum" in refusal(optimizer={"name": "adam", "momentum": 0.9})


def test_learning_rate_is_a_number_or_a_schedule():
    rate = {"schedule": "exponential_decay", "initial_learning_rate": 0.1, "decay_steps": 10}
    assert "decay_rate" in refusal(optimizer={"name": "sgd", "learning_rate": rate})
    rate["decay_rate"] = 0.5
    assert (
        spec(optimizer={"name": "sgd", "learning_rate": rate}).optimizer.learning_rate.decay_steps
        == 10
    )


def test_piecewise_constant_needs_one_more_value_than_boundaries():
    rate = {"schedule": "piecewise_constant", "boundaries": [10, 20], "values": [0.1, 0.01]}
    assert "need 3 values" in refusal(optimizer={"learning_rate": rate})


def test_a_number_as_validation_is_a_fraction_of_train():
    assert spec(dataset={"name": "mnist", "validation": 0.2}).dataset.validation.fraction == 0.2
    assert spec(dataset={"name": "mnist", "validation": "none"}).dataset.validation == "none"


def test_positive_classes_may_be_numbers_or_names():
    job = spec(dataset={"name": "mnist", "positive_classes": [7, "1"]})
    assert job.dataset.positive_classes == ["7", "1"]


def test_initializers_take_a_name_or_an_object_with_arguments():
    layer = spec(
        **dense(kernel_initializer="he_normal", bias_initializer={"name": "constant", "value": 0.1})
    ).model.layers[1]
    assert layer.kernel_initializer == "he_normal"
    assert layer.bias_initializer.value == 0.1
    assert "'he_normal'" in refusal(**dense(kernel_initializer="he_random"))


def test_regularizers_take_factors_or_keras_names():
    layer = spec(**dense(kernel_regularizer="l2")).model.layers[1]
    assert (layer.kernel_regularizer.l1, layer.kernel_regularizer.l2) == (0.0, 0.01)
    assert "above 0" in refusal(**dense(kernel_regularizer={"l1": 0, "l2": 0}))


def test_leaky_relu_takes_a_negative_slope_and_nothing_else_does():
    assert spec(**dense(activation="leaky_relu")).model.layers[1].negative_slope == 0.2
    assert (
        spec(**dense(activation="leaky_relu", negative_slope=0.1)).model.layers[1].negative_slope
        == 0.1
    )
    assert 'only applies to "leaky_relu"' in refusal(**dense(activation="relu", negative_slope=0.1))


def test_kernel_size_and_strides_take_a_number_or_a_pair():
    conv = {"type": "conv2d", "filters": 4, "kernel_size": 3, "strides": [2, 1]}
    layer = spec(model={"layers": [conv]}).model.layers[0]
    assert (layer.kernel_size, layer.strides) == ((3, 3), (2, 1))


def test_label_encoding_is_refused_because_the_loss_decides_it():
    message = refusal(label_encoding="one_hot")
    assert "follows the loss" in message and "remove it" in message


def test_misspelt_field_is_refused_not_ignored():
    assert "epoch" in refusal(epoch=3)


def test_layers_and_preset_together_are_refused():
    message = refusal(model={"preset": "dense", "layers": [{"type": "flatten"}]})
    assert "exactly one of" in message


def test_an_unknown_layer_type_lists_the_known_ones():
    assert "'global_avg_pool2d'" in refusal(model={"layers": [{"type": "lstm"}]})


@pytest.mark.parametrize(
    "overrides",
    [
        {"epochs": 0},
        {"batch_size": 0},
        {"optimizer": {"name": "adam", "learning_rate": 0}},
        {"optimizer": {"name": "lbfgs"}},
        {"dataset": {"name": "mnist", "validation": {"fraction": 1.0}}},
        {"dataset": {"name": "mnist", "validation": "train"}},
        {"dataset": {"name": "mnist", "limit": 0}},
        {"metrics": ["accuracy", "accuracy"]},
        {"augmentation": {}},
        {"early_stopping": {"patience": -1}},
        {"reduce_on_plateau": {"factor": 1.5}},
        {"model": {"layers": [{"type": "reshape", "target_shape": [-1, -1]}]}},
    ],
)
def test_out_of_range_values_are_refused(overrides):
    with pytest.raises(ValidationError):
        spec(**overrides)


def test_spec_modules_import_no_tensorflow():
    modules = (
        "training.spec, training.resolve, training.builtin_datasets, training.preprocessing, "
        "training.layers.catalog"
    )
    code = f"import sys, {modules}; sys.exit('tensorflow' in sys.modules or 'keras' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
