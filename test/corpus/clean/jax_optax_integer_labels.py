"""A Flax-free JAX MLP: optax cross-entropy on logits with integer labels."""
import jax
import jax.numpy as jnp
import optax


def init(key, sizes=(784, 512, 10)):
    params = []
    for k, (m, n) in zip(jax.random.split(key, len(sizes) - 1), zip(sizes[:-1], sizes[1:])):
        params.append({"w": jax.random.normal(k, (m, n)) / jnp.sqrt(m), "b": jnp.zeros(n)})
    return params


def apply(params, x):
    for layer in params[:-1]:
        x = jax.nn.gelu(x @ layer["w"] + layer["b"])
    return x @ params[-1]["w"] + params[-1]["b"]


def loss_fn(params, images, labels):
    logits = apply(params, images)
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


def accuracy(params, images, labels):
    probabilities = jax.nn.softmax(apply(params, images))
    return jnp.mean(jnp.argmax(probabilities, axis=-1) == labels)


optimizer = optax.adamw(1e-3)


@jax.jit
def update(params, opt_state, images, labels):
    loss, grads = jax.value_and_grad(loss_fn)(params, images, labels)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss
