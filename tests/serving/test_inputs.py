"""Request instances become the exact batch training used, or a clear refusal."""

import base64
import io

import numpy as np
import pytest
from PIL import Image

from serving.inputs import (
    InputError,
    ModelInput,
    images_to_batch,
    instances_to_batch,
    npy_to_batch,
    pixels_to_batch,
)
from training.preprocessing import scale_pixels

SHAPE = (28, 28, 1)


def test_nested_and_flat_instances_give_the_training_preprocessing():
    image = np.arange(784, dtype=np.int64).reshape(28, 28) % 256
    nested = pixels_to_batch([image.tolist()], SHAPE).values
    flat = pixels_to_batch([image.ravel().tolist()], SHAPE).values
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
        ([[[0] * 4] * 196], "28×28"),  # 784 numbers, but not in rows of 28
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


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def png(pixels: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


IMAGES = (np.arange(3 * 784).reshape(3, 28, 28) * 7 % 256).astype(np.uint8)
EXPECTED = scale_pixels(IMAGES, SHAPE)
MODEL = ModelInput(SHAPE, background="dark")


def test_unit_scale_values_are_taken_as_already_scaled():
    batch = pixels_to_batch((IMAGES / 255.0).tolist(), SHAPE, scale="unit")
    np.testing.assert_allclose(batch.values, EXPECTED, atol=1e-7)
    assert batch.scale == "unit"


def test_an_npy_array_in_any_of_the_instance_shapes_gives_the_same_batch():
    shapes = (IMAGES, IMAGES.reshape(3, 784), IMAGES[..., None], IMAGES[:, None])
    for array in (*shapes, IMAGES.astype(np.float64), np.asfortranarray(IMAGES)):
        batch = npy_to_batch(npy(array), SHAPE, "auto")
        np.testing.assert_array_equal(batch.values, EXPECTED)
        assert batch.scale == "pixels"


@pytest.mark.parametrize(
    "array",
    [IMAGES[0], IMAGES[0].reshape(784), IMAGES[0][..., None]],
    ids=["28x28", "784", "28x28x1"],
)
def test_one_instance_without_the_instance_axis_is_refused_with_how_to_send_it(array):
    for send in (
        lambda: npy_to_batch(npy(array), SHAPE, "auto"),
        lambda: pixels_to_batch(array.tolist(), SHAPE),
    ):
        with pytest.raises(InputError, match="without the list of instances around it") as caught:
            send()
        assert caught.value.fix.startswith('send a list of instances, {"instances": [instance]}')
        assert "x[None]" in caught.value.fix


def test_b64_images_and_pixel_rows_mix_in_one_request():
    instances = [{"b64": png(IMAGES[0])}, IMAGES[1].tolist(), {"b64": png(IMAGES[2])}]
    batch = instances_to_batch(instances, MODEL, "auto")
    np.testing.assert_array_equal(batch.values, EXPECTED)
    assert batch.scale == "pixels"


def test_pixel_rows_among_b64_images_are_read_on_one_scale_together():
    unit = (IMAGES / 255.0).tolist()
    instances = [{"b64": png(IMAGES[0])}, unit[1], unit[2]]
    batch = instances_to_batch(instances, MODEL, "auto")
    np.testing.assert_allclose(batch.values, EXPECTED, atol=1e-7)
    assert batch.scale == "unit"
    mixed = [{"b64": png(IMAGES[0])}, IMAGES[1].tolist(), unit[2]]
    with pytest.raises(InputError, match=r"instances 2 hold values from 0 to 1"):
        instances_to_batch(mixed, MODEL, "auto")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not numpy", "not an .npy file"),
        (npy(IMAGES)[:-10], "truncated"),
        (npy(np.array(["a"] * 784).reshape(1, 784)), "send integers or floats"),
        (npy(np.zeros((2, 27, 27))), "28×28"),
        (npy(np.zeros((0, 784))), "empty"),
        (npy(np.full((1, 784), np.inf)), "NaN or infinite"),
        (npy(np.full((1, 784), 256.0)), "0 to 255"),
    ],
)
def test_a_bad_npy_body_is_refused_with_what_was_expected(data, message):
    with pytest.raises(InputError, match=message):
        npy_to_batch(data, SHAPE, "pixels")


def test_unit_scale_values_above_one_are_refused_with_a_hint():
    with pytest.raises(InputError, match='look like 0-255 pixels: leave out "scale"'):
        pixels_to_batch([[200] * 784], SHAPE, scale="unit")


@pytest.mark.parametrize(
    ("instance", "message"),
    [
        ({"b64": "%%%"}, r"instances\[1\]: b64 is not valid base64"),
        ({"b64": base64.b64encode(b"GIF89a-not-really").decode()}, "not a PNG, JPEG"),
        ({"image": "abc"}, r'must be \{"b64"'),
        ({"b64": 12}, r'must be \{"b64"'),
        ([0] * 10, r"instances\[1\]: instances have shape \[10\]"),
    ],
)
def test_a_bad_instance_among_good_ones_is_named_by_its_index(instance, message):
    with pytest.raises(InputError, match=message):
        instances_to_batch([{"b64": png(IMAGES[0])}, instance], MODEL, "pixels")


def test_uploaded_files_are_named_by_their_position_when_refused():
    with pytest.raises(InputError, match="file 2 of 2: the 5 bytes sent are not"):
        images_to_batch([base64.b64decode(png(IMAGES[0])), b"hello"], MODEL)
    with pytest.raises(InputError, match="no image files"):
        images_to_batch([], MODEL)


def test_image_files_are_read_as_pixels():
    files = [base64.b64decode(png(IMAGES[i])) for i in (0, 2)]  # dark borders: not inverted
    batch = images_to_batch(files, MODEL)
    np.testing.assert_array_equal(batch.values, EXPECTED[[0, 2]])
    assert batch.scale == "pixels"
