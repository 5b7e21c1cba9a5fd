from pathlib import Path

from core.settings import Settings
from serving.cards import make_card


def card(dataset: str, scaling: str = "divide_by_255"):
    return make_card(
        id="m",
        task="classification",
        class_names=["a", "b"],
        input_shape=[28, 28, 1],
        dataset=dataset,
        scaling=scaling,
        onnx_path=Path("m.onnx"),
        owner="local",
        settings=Settings(max_image_pixels=1_000, max_request_pixels=5_000),
    )


def test_a_model_of_a_dark_background_data_set_inverts_light_images():
    assert card("mnist").input.background == "dark"


def test_a_model_of_an_uploaded_data_set_takes_images_as_they_are():
    assert card("my-uploaded-photos").input.background == "any"


def test_a_model_of_unscaled_features_takes_no_image_files():
    assert card("my-table", scaling="none").input.images is False


def test_the_card_carries_the_servers_image_limits():
    model_input = card("mnist").input
    assert (model_input.max_image_pixels, model_input.max_request_pixels) == (1_000, 5_000)
    assert model_input.input_shape == (28, 28, 1)
