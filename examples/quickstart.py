"""Fit a small tanh network to a noisy sine with gradients written by srcgrad.

    python examples/quickstart.py

Prints the generated gradient source, checks it against finite differences,
then trains with plain gradient descent.
"""

import time

import numpy as np

import srcgrad


def predict(params, x):
    h = np.tanh(x @ params["W1"] + params["b1"])
    return h @ params["W2"] + params["b2"]


def loss(params, x, y):
    W1, b1 = params["W1"], params["b1"]
    W2, b2 = params["W2"], params["b2"]
    h = np.tanh(x @ W1 + b1)
    out = h @ W2 + b2
    return np.mean((out - y) ** 2)


def init(rng, hidden=32):
    return {"W1": rng.normal(0, 1.0, (1, hidden)), "b1": np.zeros(hidden),
            "W2": rng.normal(0, 1 / np.sqrt(hidden), (hidden, 1)), "b2": np.zeros(1)}


def main(steps=3000, lr=0.05):
    rng = np.random.default_rng(0)
    x = np.linspace(-3, 3, 200)[:, None]
    y = np.sin(x) + 0.1 * rng.normal(size=x.shape)
    params = init(rng)

    grad_loss = srcgrad.value_and_grad(loss)
    print(srcgrad.source(loss))
    srcgrad.check_grads(loss, (params, x, y))
    print("gradient checked against central differences: ok\n")

    start = time.perf_counter()
    for step in range(steps + 1):
        value, grads = grad_loss(params, x, y)
        for name in params:
            params[name] -= lr * grads[name]
        if step % 500 == 0:
            print(f"step {step:5d}  loss {value:.4f}")
    elapsed = time.perf_counter() - start
    final = loss(params, x, y)
    print(f"\ntrained {steps} steps in {elapsed:.2f}s; final loss {final:.4f} "
          f"(noise floor {0.1 ** 2:.4f})")
    return final


if __name__ == "__main__":
    main()
