"""A small MLP on MNIST-like data with JAX and optax."""
import jax
import jax.numpy as jnp
import optax


def init_params(key, sizes=(784, 256, 10)):
    keys = jax.random.split(key, len(sizes) - 1)
    return [
        (jax.random.normal(k, (m, n)) * jnp.sqrt(2.0 / m), jnp.zeros(n))
        for k, m, n in zip(keys, sizes[:-1], sizes[1:])
    ]


def predict(params, x):
    for w, b in params[:-1]:
        x = jax.nn.relu(x @ w + b)
    w, b = params[-1]
    return jax.nn.softmax(x @ w + b)


def loss_fn(params, images, labels):
    probabilities = predict(params, images)
    return optax.softmax_cross_entropy_with_integer_labels(probabilities, labels).mean()


optimizer = optax.adam(1e-3)


@jax.jit
def train_step(params, opt_state, images, labels):
    loss, grads = jax.value_and_grad(loss_fn)(params, images, labels)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss
