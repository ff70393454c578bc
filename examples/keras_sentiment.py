"""Five-class review sentiment with Keras: two models, two ways to get `from_logits` wrong."""
import keras
import numpy as np
from keras import layers

VOCAB, CLASSES = 20000, 5

reviews = np.load("reviews.npz")
x_train, y_train = reviews["x_train"], reviews["y_train"]  # y: star rating 0..4 as integers
x_val, y_val = reviews["x_val"], reviews["y_val"]

# Model 1 ends in softmax, yet the loss is told it receives logits.
classifier = keras.Sequential([
    layers.Embedding(VOCAB, 128),
    layers.GlobalAveragePooling1D(),
    layers.Dense(64, activation="relu"),
    layers.Dense(CLASSES, activation="softmax"),
])
classifier.compile(
    optimizer="adam",
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"],
)
classifier.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=5, batch_size=256)

# Model 2 outputs raw scores, but the string loss expects probabilities.
scorer = keras.Sequential([
    layers.Embedding(VOCAB, 128),
    layers.Bidirectional(layers.LSTM(64)),
    layers.Dense(CLASSES),
])
scorer.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
scorer.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=5, batch_size=256)
