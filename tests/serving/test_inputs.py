"""Request instances become the exact batch training used, or a clear refusal."""

import numpy as np
import pytest

from serving.inputs import InputError, pixels_to_batch
from training.preprocessing import scale_pixels

SHAPE = (28, 28, 1)


def test_nested_and_flat_instances_give_the_training_preprocessing():
    image = np.arange(784, dtype=np.int64).reshape(28, 28) % 256
    nested = pixels_to_batch([image.tolist()], SHAPE)
    flat = pixels_to_batch([image.ravel().tolist()], SHAPE)
    expected = scale_pixels(image[None], SHAPE)
    assert nested.shape == (1, 28, 28, 1)
    np.testing.assert_array_equal(nested, expected)
    np.testing.assert_array_equal(flat, expected)


@pytest.mark.parametrize(
    ("instances", "message"),
    [
        ([], "empty"),
        ([[1, 2, 3]], "28×28"),
        ([[[0] * 27] * 28], "28×28"),
        ([[0] * 784, [0] * 10], "ragged"),
        ([["a"] * 784], "not numbers"),
        ([[float("nan")] * 784], "NaN"),
        ([[256] * 784], "0 to 255"),
        ([[-1] * 784], "0 to 255"),
    ],
)
def test_bad_instances_are_refused_with_what_was_expected(instances, message):
    with pytest.raises(InputError, match=message):
        pixels_to_batch(instances, SHAPE)
