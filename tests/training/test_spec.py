"""Spec validation: what can train is accepted, what cannot is refused with a fix."""

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


def test_defaults_are_the_classic_lesson():
    job = spec()
    assert (job.loss, job.optimizer.name, job.optimizer.learning_rate) == (
        "categorical_crossentropy",
        "adam",
        0.001,
    )
    assert (job.epochs, job.batch_size, job.dataset.validation) == (5, 32, "test")


def test_dense_preset_is_512_512_with_an_output_that_fits_the_dataset():
    layers = spec(dataset={"name": "asl"}, model={"preset": "dense", "activation": "tanh"})
    units = [(layer.type, getattr(layer, "units", None)) for layer in layers.resolved_layers()]
    assert units == [("flatten", None), ("dense", 512), ("dense", 512), ("dense", 24)]
    hidden = layers.resolved_layers()[1]
    assert hidden.activation == "tanh"
    assert layers.resolved_layers()[-1].activation == "softmax"


def test_cnn_preset_ends_in_one_unit_per_class():
    assert spec(model={"preset": "cnn"}).resolved_layers()[-1].units == 10


@pytest.mark.parametrize(
    ("loss", "encoding"),
    [
        ("categorical_crossentropy", "one_hot"),
        ("mse", "one_hot"),
        ("sparse_categorical_crossentropy", "integer"),
    ],
)
def test_label_encoding_follows_the_loss(loss, encoding):
    assert spec(loss=loss).label_encoding == encoding


def test_unknown_dataset_names_the_allowed_ones():
    assert "'mnist' or 'asl'" in refusal(dataset={"name": "cifar"})


def test_misspelt_field_is_refused_not_ignored():
    assert "epoch" in refusal(epoch=3)


def test_layers_and_preset_together_are_refused():
    message = refusal(model={"preset": "dense", "layers": [{"type": "flatten"}]})
    assert "exactly one of" in message


def test_dense_on_an_image_without_flatten_says_to_add_flatten():
    layers = [{"type": "dense", "units": 10, "activation": "softmax"}]
    assert "add a flatten layer" in refusal(model={"layers": layers})


def test_convolution_after_flatten_is_refused():
    layers = [
        {"type": "flatten"},
        {"type": "conv2d", "filters": 4, "kernel_size": 3},
        {"type": "dense", "units": 10, "activation": "softmax"},
    ]
    assert "layers[1] (conv2d)" in refusal(model={"layers": layers})


def test_output_units_must_match_the_classes():
    layers = [{"type": "flatten"}, {"type": "dense", "units": 7, "activation": "softmax"}]
    assert "10 units" in refusal(model={"layers": layers})


def test_crossentropy_needs_softmax_on_the_output():
    layers = [{"type": "flatten"}, {"type": "dense", "units": 10, "activation": "relu"}]
    assert '"softmax"' in refusal(model={"layers": layers})


def test_mse_accepts_any_output_activation():
    layers = [{"type": "flatten"}, {"type": "dense", "units": 10, "activation": "sigmoid"}]
    assert spec(loss="mse", model={"layers": layers}).loss == "mse"


def test_image_shrunk_below_one_pixel_is_refused():
    layers = [
        {"type": "conv2d", "filters": 4, "kernel_size": 28},
        {"type": "max_pool2d", "pool_size": 2},
        {"type": "flatten"},
        {"type": "dense", "units": 10, "activation": "softmax"},
    ]
    assert "below 1x1" in refusal(model={"layers": layers})


@pytest.mark.parametrize(
    "overrides",
    [
        {"epochs": 0},
        {"batch_size": 0},
        {"optimizer": {"name": "adam", "learning_rate": 0}},
        {"optimizer": {"name": "lbfgs"}},
        {"dataset": {"name": "mnist", "validation": {"fraction": 1.0}}},
        {"dataset": {"name": "mnist", "limit": 0}},
    ],
)
def test_out_of_range_values_are_refused(overrides):
    with pytest.raises(ValidationError):
        spec(**overrides)


def test_spec_module_imports_no_tensorflow():
    import subprocess
    import sys

    code = "import sys, training.spec; sys.exit('tensorflow' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
