"""Image augmentation: random rotation, zoom, translation and flips while training.

The random layers wrap the model only for ``fit``; the model that is evaluated, exported and
served is the inner one, so predictions never pass through them. Keras turns them off outside
training, so validation and epoch 0 see the images as they are.
"""

from __future__ import annotations

import keras

from training.option_specs import AugmentationSpec

FILL = "constant"  # new pixels are black, the background of mnist and most of asl


def augmentation_layers(spec: AugmentationSpec, seed: int) -> list[keras.layers.Layer]:
    layers: list[keras.layers.Layer] = []
    if spec.flip != "none":
        layers.append(keras.layers.RandomFlip(spec.flip, seed=seed))
    if spec.rotation:
        layers.append(keras.layers.RandomRotation(spec.rotation / 360, fill_mode=FILL, seed=seed))
    if spec.zoom:
        layers.append(keras.layers.RandomZoom(spec.zoom, fill_mode=FILL, seed=seed))
    if spec.translation:
        layers.append(
            keras.layers.RandomTranslation(
                spec.translation, spec.translation, fill_mode=FILL, seed=seed
            )
        )
    return layers


def with_augmentation(model: keras.Model, spec: AugmentationSpec, seed: int) -> keras.Model:
    """A model to fit: the random layers, then ``model`` (whose weights it shares)."""
    return keras.Sequential(
        [keras.Input(shape=model.input_shape[1:]), *augmentation_layers(spec, seed), model],
        name="descent_augmented",
    )
