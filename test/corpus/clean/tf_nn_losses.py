"""Low-level TensorFlow: tf.nn losses on logits inside a custom training step."""
import tensorflow as tf

dense1 = tf.keras.layers.Dense(128, activation="relu")
dense2 = tf.keras.layers.Dense(10)
optimizer = tf.keras.optimizers.SGD(0.01)


@tf.function
def train_step(images, labels):
    with tf.GradientTape() as tape:
        logits = dense2(dense1(images))
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    variables = dense1.trainable_variables + dense2.trainable_variables
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    return loss


@tf.function
def multilabel_step(images, tags):
    with tf.GradientTape() as tape:
        logits = dense2(dense1(images))
        loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.cast(tags, tf.float32), logits=logits))
    variables = dense1.trainable_variables + dense2.trainable_variables
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    return loss


def predict(images):
    return tf.nn.softmax(dense2(dense1(images)), axis=-1)
