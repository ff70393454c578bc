"""IMDB review polarity: one sigmoid unit and binary cross-entropy on its probability."""
import keras
from keras import layers

(x_train, y_train), (x_test, y_test) = keras.datasets.imdb.load_data(num_words=10000)
x_train = keras.utils.pad_sequences(x_train, maxlen=200)
x_test = keras.utils.pad_sequences(x_test, maxlen=200)

model = keras.Sequential([
    layers.Embedding(10000, 32),
    layers.GlobalAveragePooling1D(),
    layers.Dense(16, activation="relu"),
    layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=4, batch_size=512, validation_data=(x_test, y_test))

logit_model = keras.Sequential([
    layers.Embedding(10000, 32),
    layers.GlobalAveragePooling1D(),
    layers.Dense(1),
])
logit_model.compile(optimizer="adam", loss=keras.losses.BinaryCrossentropy(from_logits=True))
logit_model.fit(x_train, y_train, epochs=4, batch_size=512)
