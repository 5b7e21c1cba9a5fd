"""Resolving a spec against its data set: every refusal names the field and a fix; legal but
bad choices come back as warnings; what is derived is written out."""

import pytest

from training.data_info import DataInfo, builtin_info
from training.limits import DEFAULT_LIMITS, Limits
from training.problems import SpecError
from training.resolve import resolve
from training.spec import JobSpec

MNIST = builtin_info("mnist")
ASL = builtin_info("asl")
LINE = DataInfo(name="line", task="regression", input_shape=(1,), train_size=2, target_size=1)
FLAT = DataInfo(
    name="flowers",
    task="classification",
    input_shape=(784,),
    train_size=100,
    class_names=("iris", "rose", "tulip"),
)
PAIR = DataInfo(
    name="spam", task="classification", input_shape=(3,), train_size=50, class_names=("ham", "spam")
)
FLATTEN = {"type": "flatten"}


def dense(units, activation="linear", **fields):
    return {"type": "dense", "units": units, "activation": activation, **fields}


def conv(filters=4, kernel_size=3, **fields):
    return {"type": "conv2d", "filters": filters, "kernel_size": kernel_size, **fields}


def body(data=MNIST, layers=None, **overrides):
    spec = {
        "dataset": {"name": data.name},
        "model": {"layers": layers} if layers else {"preset": "dense"},
    }
    spec.update(overrides)
    return JobSpec.model_validate(spec)


def resolved(data=MNIST, layers=None, limits=DEFAULT_LIMITS, **overrides):
    return resolve(body(data, layers, **overrides), data, limits)


def refused(data=MNIST, layers=None, limits=DEFAULT_LIMITS, **overrides):
    with pytest.raises(SpecError) as caught:
        resolved(data, layers, limits, **overrides)
    return caught.value.problems


def softmax_out(units=10):
    return [FLATTEN, dense(units, "softmax")]


# (what is refused, data, layers, spec fields, the field named, a phrase of the message)
REFUSALS = [
    ("10 output units for asl", ASL, softmax_out(10), {}, "model.layers[1].units", "24 classes"),
    (
        "softmax on a binary task",
        MNIST,
        [FLATTEN, dense(1, "softmax")],
        {"dataset": {"name": "mnist", "positive_classes": ["7"]}},
        "model.layers[1].activation",
        "always outputs 1",
    ),
    (
        "binary_crossentropy on a linear output",
        PAIR,
        [dense(1)],
        {"loss": "binary_crossentropy"},
        "model.layers[0].activation",
        "probability of yes",
    ),
    (
        "cross-entropy without softmax",
        MNIST,
        [FLATTEN, dense(10, "relu")],
        {},
        "model.layers[1].activation",
        "sum to 1",
    ),
    (
        "a convolution after flatten",
        MNIST,
        [FLATTEN, conv(), dense(10, "softmax")],
        {},
        "model.layers[1]",
        "needs an image",
    ),
    (
        "a convolution on flat rows",
        FLAT,
        [conv(), FLATTEN, dense(3, "softmax")],
        {},
        "model.layers[0]",
        "needs an image",
    ),
    (
        "an image shrunk below 1x1",
        MNIST,
        [conv(kernel_size=28), {"type": "max_pool2d"}, FLATTEN, dense(10, "softmax")],
        {},
        "model.layers[1].pool_size",
        "below 1x1",
    ),
    (
        "strides that leave nothing",
        MNIST,
        [conv(kernel_size=29, padding="valid"), FLATTEN, dense(10, "softmax")],
        {},
        "model.layers[0].kernel_size",
        "below 1x1",
    ),
    ("dense on an image", MNIST, [dense(10, "softmax")], {}, "model.layers", "shape [28, 28, 10]"),
    (
        "an output layer that is not dense",
        MNIST,
        [FLATTEN, dense(10, "softmax"), {"type": "dropout", "rate": 0.5}],
        {},
        "model.layers[2]",
        "must be dense",
    ),
    (
        "a reshape to the wrong size",
        FLAT,
        [{"type": "reshape", "target_shape": [27, 27, 1]}, FLATTEN, dense(3, "softmax")],
        {},
        "model.layers[0].target_shape",
        "784 values",
    ),
    (
        "cross-entropy on a regression data set",
        LINE,
        [dense(1)],
        {"loss": "categorical_crossentropy"},
        "loss",
        "does not fit a regression task",
    ),
    (
        "softmax on a regression output",
        LINE,
        [dense(1, "softmax")],
        {},
        "model.layers[0].activation",
        "always outputs 1",
    ),
    ("regression on classes", MNIST, None, {"task": "regression"}, "task", "holds classes"),
    ("classification on numbers", LINE, [dense(1)], {"task": "binary"}, "task", "regression data"),
    (
        "a binary task without its positive classes",
        MNIST,
        None,
        {"loss": "binary_crossentropy"},
        "dataset.positive_classes",
        "needs the classes that count as yes",
    ),
    (
        "an unknown positive class",
        MNIST,
        None,
        {"dataset": {"name": "mnist", "positive_classes": ["A"]}},
        "dataset.positive_classes",
        "'A' is not among the classes",
    ),
    (
        "every class positive",
        PAIR,
        None,
        {"dataset": {"name": "spam", "positive_classes": ["ham", "spam"]}},
        "dataset.positive_classes",
        "leave at least one",
    ),
    (
        "accuracy of a regression",
        LINE,
        [dense(1)],
        {"metrics": ["accuracy"]},
        "metrics",
        "accuracy counts right classes",
    ),
    (
        "mse against class indices",
        MNIST,
        None,
        {"loss": "sparse_categorical_crossentropy", "metrics": ["mse"]},
        "metrics",
        "class indices",
    ),
    (
        "the test split of a data set without one",
        LINE,
        [dense(1)],
        {"dataset": {"name": "line", "validation": "test"}},
        "dataset.validation",
        "no test split",
    ),
    (
        "a validation fraction that leaves nothing",
        LINE,
        [dense(1)],
        {"dataset": {"name": "line", "validation": 0.9}},
        "dataset.validation.fraction",
        "leaves nothing",
    ),
    (
        "early stopping on val_loss without validation",
        LINE,
        [dense(1)],
        {"early_stopping": {"monitor": "val_loss"}},
        "early_stopping.monitor",
        "no validation data",
    ),
    (
        "reduce_on_plateau with a schedule",
        MNIST,
        None,
        {
            "optimizer": {
                "learning_rate": {
                    "schedule": "cosine_decay",
                    "initial_learning_rate": 0.01,
                    "decay_steps": 100,
                }
            },
            "reduce_on_plateau": {},
        },
        "reduce_on_plateau",
        "cosine_decay schedule",
    ),
    (
        "augmentation of flat rows",
        FLAT,
        [dense(3, "softmax")],
        {"augmentation": {"zoom": 0.1}},
        "augmentation",
        "rows have shape [784]",
    ),
]


@pytest.mark.parametrize(
    ("data", "layers", "overrides", "field", "phrase"),
    [case[1:] for case in REFUSALS],
    ids=[case[0] for case in REFUSALS],
)
def test_a_spec_that_cannot_train_is_refused_naming_the_field_and_a_fix(
    data, layers, overrides, field, phrase
):
    problems = refused(data, layers, **overrides)
    assert [p.field for p in problems][:1] == [field]
    assert phrase in problems[0].message
    assert problems[0].fix


CAPS = Limits(max_layers=3, max_params=1_000, max_epochs=10, max_batch_size=64)


@pytest.mark.parametrize(
    ("overrides", "field", "phrase"),
    [
        ({"epochs": 11}, "epochs", "cap of 10"),
        ({"batch_size": 65}, "batch_size", "cap of 64"),
        ({}, "model.layers", "7,850 parameters, above this service's cap of 1,000"),
    ],
)
def test_caps_on_epochs_batch_size_and_parameters(overrides, field, phrase):
    problems = refused(MNIST, softmax_out(), CAPS, **overrides)
    assert problems[0].field == field
    assert phrase in problems[0].message
    assert problems[0].allowed


def test_cap_on_layers():
    layers = [FLATTEN, dense(4), dense(4), dense(10, "softmax")]
    problems = refused(MNIST, layers, CAPS)
    assert (problems[0].field, problems[0].found) == ("model.layers", 4)


def test_several_problems_are_reported_together():
    fields = {p.field for p in refused(ASL, softmax_out(10), CAPS, epochs=11)}
    assert {"epochs", "model.layers[1].units"} <= fields


# (what is warned about, data, layers, spec fields, the field named, a phrase of the message)
WARNINGS = [
    (
        "softmax trained with mse",
        MNIST,
        softmax_out(),
        {"loss": "mse"},
        "loss",
        "RMSE for probabilities?",
    ),
    (
        "many sigmoid layers",
        MNIST,
        [FLATTEN, *[dense(16, "sigmoid")] * 3, dense(10, "softmax")],
        {},
        "model.layers",
        "vanishing gradients",
    ),
    (
        "a learning rate above 1 for sgd",
        MNIST,
        None,
        {"optimizer": {"name": "sgd", "learning_rate": 2}},
        "optimizer.learning_rate",
        "diverges",
    ),
    (
        "a large rate for adam",
        MNIST,
        None,
        {"optimizer": {"name": "adam", "learning_rate": 0.5}},
        "optimizer.learning_rate",
        "1e-4 to 1e-2",
    ),
    (
        "stacked layers without a nonlinearity",
        MNIST,
        [FLATTEN, dense(32), dense(10, "softmax")],
        {},
        "model.layers",
        "one linear function",
    ),
    (
        "a bounded regression output",
        LINE,
        [dense(1, "sigmoid")],
        {},
        "model.layers[0].activation",
        "(0, 1)",
    ),
    (
        "mirrored digits",
        MNIST,
        None,
        {"augmentation": {"flip": "horizontal"}},
        "augmentation.flip",
        "mirrored",
    ),
]


@pytest.mark.parametrize(
    ("data", "layers", "overrides", "field", "phrase"),
    [case[1:] for case in WARNINGS],
    ids=[case[0] for case in WARNINGS],
)
def test_legal_but_bad_choices_are_accepted_with_a_warning(data, layers, overrides, field, phrase):
    warnings = resolved(data, layers, **overrides).warnings
    assert [w.field for w in warnings] == [field]
    assert phrase in warnings[0].message


def test_the_classic_lesson_and_the_simplest_model_have_no_warnings():
    assert resolved().warnings == []
    assert resolved(LINE, [dense(1)], optimizer={"name": "sgd"}).warnings == []


def test_the_dense_preset_has_the_lessons_parameter_count():
    summary = resolved().summary()
    assert [row["params"] for row in summary["layers"]] == [0, 401_920, 262_656, 5_130]
    assert summary["layers"][1]["weights"] == 784 * 512
    assert summary["layers"][1]["biases"] == 512
    assert summary["total_params"] == 669_706
    assert summary["input_shape"] == [28, 28, 1] and summary["output_shape"] == [10]


def test_y_equals_mx_plus_b_has_two_parameters():
    summary = resolved(LINE, [dense(1)], loss="mse", optimizer={"name": "sgd"}).summary()
    assert summary["layers"] == [
        {
            "index": 0,
            "type": "dense",
            "output_shape": [1],
            "weights": 1,
            "biases": 1,
            "params": 2,
            "trainable_params": 2,
        }
    ]
    assert (summary["task"], summary["label_encoding"]) == ("regression", "values")


def test_shapes_follow_strides_padding_and_pooling():
    layers = [
        conv(8, 3, strides=2, padding="same"),  # 14x14x8
        {"type": "batch_norm"},
        {"type": "avg_pool2d", "pool_size": 3, "strides": 2},  # 6x6x8
        {"type": "global_avg_pool2d"},  # 8
        {"type": "reshape", "target_shape": [2, -1]},  # 2x4
        FLATTEN,
        dense(10, "softmax", use_bias=False),
    ]
    rows = resolved(MNIST, layers).summary()["layers"]
    shapes = [row["output_shape"] for row in rows]
    assert shapes == [[14, 14, 8], [14, 14, 8], [6, 6, 8], [8], [2, 4], [8], [10]]
    assert (rows[1]["params"], rows[1]["trainable_params"]) == (32, 16)
    assert (rows[6]["weights"], rows[6]["biases"]) == (80, 0)


def test_derived_values_are_written_into_the_resolved_spec():
    spec = resolved(ASL).spec
    assert (spec.task, spec.loss, spec.metrics) == (
        "classification",
        "categorical_crossentropy",
        ["accuracy"],
    )
    assert spec.dataset.validation == "test"
    assert spec.model.preset is None and spec.model.layers[-1].units == 24
    assert JobSpec.model_validate(spec.model_dump(mode="json")) == spec


def test_a_binary_task_is_derived_from_positive_classes():
    result = resolved(dataset={"name": "mnist", "positive_classes": ["7"]})
    assert (result.targets.task, result.targets.loss) == ("binary", "binary_crossentropy")
    assert result.targets.class_names == ("not 7", "7")
    assert result.targets.label_encoding == "binary"
    last = result.spec.model.layers[-1]
    assert (last.units, last.activation) == (1, "sigmoid")


def test_a_two_class_data_set_is_binary_with_binary_crossentropy():
    result = resolved(PAIR, [dense(1, "sigmoid")], loss="binary_crossentropy")
    assert result.targets.class_names == ("ham", "spam")
    assert result.spec.dataset.positive_classes == ["spam"]


def test_label_encoding_follows_the_loss():
    def encoding(loss):
        return resolved(MNIST, softmax_out(), loss=loss).targets.label_encoding

    assert encoding("categorical_crossentropy") == "one_hot"
    assert encoding("sparse_categorical_crossentropy") == "integer"
    assert encoding("mse") == "one_hot"


def test_regression_defaults_to_mse_with_rmse_and_mae_as_metrics():
    result = resolved(LINE, [dense(1)])
    assert (result.targets.loss, result.targets.metrics) == ("mse", ("rmse", "mae"))
    assert result.spec.dataset.validation == "none"
