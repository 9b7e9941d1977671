"""Functions whose generated source is held in golden files next to this one."""
import numpy as np


def loss(W, b, x, y):
    h = np.tanh(x @ W + b)
    return np.mean((h - y) ** 2)


def mlp(params, x, labels):
    W1, b1 = params["W1"], params["b1"]
    W2, b2 = params["W2"], params["b2"]
    h = np.maximum(x @ W1 + b1, 0.0)
    logits = h @ W2 + b2
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(np.sum(labels * log_probs, axis=1))


def scalar(s, t):
    u = s * t + np.sin(s)
    return u ** 2 / t


def methods(A, x):
    centered = A - A.mean(axis=0)
    return (centered.T @ x).sum() + A.reshape(-1).max()
