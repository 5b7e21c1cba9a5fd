"""The scale a request's numbers are read on: the values say it when they can, a request says
it when they cannot, and nothing that fits neither or both is guessed."""

import numpy as np
import pytest

from core.settings import PROJECT_ROOT
from serving.errors import InputError
from serving.scales import read_scale

with np.load(PROJECT_ROOT / "data" / "mnist.npz") as data:
    DIGITS = data["x_test"][:20]  # uint8, 0-255


@pytest.mark.parametrize(
    ("array", "scale"),
    [
        (DIGITS, "pixels"),
        (DIGITS.astype(np.int64), "pixels"),
        (DIGITS.astype(np.float64), "pixels"),
        (DIGITS / 255.0, "unit"),
        ((DIGITS / 255.0).astype(np.float32), "unit"),
        (DIGITS * 0.5 + 0.25, "pixels"),  # 0-255 floats with fractions: above 1
        (np.zeros((2, 784)), "pixels"),  # blank: the same on either scale
        (np.zeros((2, 784), np.uint8), "pixels"),
        (np.full((1, 784), 0.5), "unit"),
        (np.full((1, 784), 255.0), "pixels"),
    ],
    ids=[
        "uint8",
        "int",
        "float 0-255",
        "float 0-1",
        "float32 0-1",
        "float 0-255 fractions",
        "zeros",
        "uint8 zeros",
        "grey 0-1",
        "white 0-255",
    ],
)
def test_auto_reads_the_scale_the_values_are_on(array: np.ndarray, scale: str):
    assert read_scale(array, "auto") == scale


def refusal(array: np.ndarray, requested: str = "auto") -> InputError:
    with pytest.raises(InputError) as caught:
        read_scale(array, requested)
    return caught.value


@pytest.mark.parametrize(
    "array",
    [(DIGITS > 127).astype(np.uint8), (DIGITS > 127).astype(np.float64)],
    ids=["int", "float"],
)
def test_values_of_only_0_and_1_are_refused_with_which_scale_to_send(array: np.ndarray):
    error = refusal(array)
    assert "every value is 0 or 1" in error.detail
    assert '"scale": "unit"' in error.fix and '"scale": "pixels"' in error.fix
    assert error.errors[0]["field"] == "scale"
    assert error.errors[0]["allowed"] == ["auto", "pixels", "unit"]


@pytest.mark.parametrize(
    "array",
    [(DIGITS / 255.0 - 0.1307) / 0.3081, DIGITS.astype(np.float64) * 2, -DIGITS.astype(float)],
    ids=["standardised", "above 255", "negative"],
)
def test_values_that_fit_neither_scale_are_refused_with_the_ranges_to_send(array: np.ndarray):
    error = refusal(array)
    assert "send pixel values from 0 to 255, or values from 0 to 1" in error.detail
    assert '"scale": "unit"' in error.fix and "do not standardise" in error.fix


def test_0_1_instances_among_0_255_ones_are_refused_and_named():
    mixed = DIGITS.astype(np.float64)
    mixed[[3, 7]] /= 255.0
    error = refusal(mixed)
    assert "instances 3, 7 hold values from 0 to 1" in error.detail
    assert '"scale": "unit"' in error.fix
    assert error.errors[0] == {
        "field": "instances",
        "message": error.detail,
        "found": [3, 7],
        "fix": error.fix,
    }


def test_a_named_scale_is_taken_as_asked_within_its_range():
    binary = (DIGITS > 127).astype(np.uint8)
    assert read_scale(binary, "unit") == "unit"
    assert read_scale(binary, "pixels") == "pixels"
    assert read_scale(DIGITS / 255.0, "pixels") == "pixels"  # asked for: a very dark image
    assert "look like 0-255 pixels" in refusal(DIGITS, "unit").detail
    assert "send pixel values from 0 to 255" in refusal(DIGITS * 2.0, "pixels").detail


def test_non_finite_values_are_refused_on_every_scale():
    array = np.full((1, 784), np.nan)
    for requested in ("auto", "pixels", "unit", "raw"):
        assert "NaN or infinite" in refusal(array, requested).detail


def test_features_of_an_uploaded_table_are_taken_as_they_are():
    assert read_scale(np.array([[-3.5, 1e6]]), "raw") == "raw"
