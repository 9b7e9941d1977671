"""Logistic regression by Newton's method, with a Hessian srcgrad writes from the loss.

    python examples/newton.py

Fits in a few Newton steps, each solving H p = -g by conjugate gradients on
Hessian-vector products (forward mode over the generated gradient code, see
srcgrad.hvp), never forming H; then compares with the dense Hessian from
srcgrad.hessian.
"""

import numpy as np

import srcgrad


def loss(w, X, y):
    z = X @ w
    # log(1 + e^z) - y z, written so that it does not overflow
    return np.mean(np.logaddexp(0.0, z) - y * z) + 0.5e-2 * np.sum(w ** 2)


def conjugate_gradients(hvp, b, steps=50, tol=1e-10):
    x = np.zeros_like(b)
    r = b.copy()
    p = r.copy()
    rr = r @ r
    for _ in range(steps):
        Hp = hvp(p)
        alpha = rr / (p @ Hp)
        x += alpha * p
        r -= alpha * Hp
        rr, rr_old = r @ r, rr
        if rr < tol:
            break
        p = r + (rr / rr_old) * p
    return x


def main():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 10))
    w_true = rng.normal(size=10)
    y = (rng.uniform(size=500) < 1 / (1 + np.exp(-X @ w_true))).astype(float)
    grad = srcgrad.grad(loss)
    w = np.zeros(10)
    zeros = (np.zeros_like(X), np.zeros_like(y))
    for step in range(6):
        g = grad(w, X, y)
        step_w = conjugate_gradients(
            lambda v: srcgrad.hvp(loss, (w, X, y), (v, *zeros)), -g)
        w = w + step_w
        print(f"step {step}  loss {loss(w, X, y):.6f}  |gradient| {np.linalg.norm(g):.2e}")
    H = srcgrad.hessian(loss)(w, X, y)
    v = rng.normal(size=10)
    hv = srcgrad.hvp(loss, (w, X, y), (v, *zeros))
    print(f"dense Hessian {H.shape}, |H v - hvp(v)| = {np.linalg.norm(H @ v - hv):.1e}")
    return np.linalg.norm(grad(w, X, y)), np.linalg.norm(H @ v - hv)


if __name__ == "__main__":
    main()
