"""Hessian-vector product vs gradient, for an MLP loss: the cost of second order.

    python benchmarks/mlp_hvp.py [--repeats 7]

srcgrad's hvp is forward mode over the generated gradient code
(forward-over-reverse), so one product should cost a small multiple of one
gradient (the target is 4x at most). One process, BLAS pinned to one thread,
the contenders interleaved; prints median times and the ratio hvp / grad.
autograd's hessian_vector_product is timed too when it is installed (it is
not a dependency).
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402

import numpy as np  # noqa: E402

import srcgrad  # noqa: E402
from mlp_grad import SIZES, interleaved_medians  # noqa: E402 - the gradient benchmark's


def loss(W1, b1, W2, b2, x, labels):
    h = np.tanh(x @ W1 + b1)
    logits = h @ W2 + b2
    shifted = logits - srcgrad.stop_gradient(np.max(logits, axis=1, keepdims=True))
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(np.sum(labels * log_probs, axis=1))




def problem(batch, inputs, hidden, classes, seed=0):
    rng = np.random.default_rng(seed)
    params = (rng.normal(0, inputs ** -0.5, (inputs, hidden)), np.zeros(hidden),
              rng.normal(0, hidden ** -0.5, (hidden, classes)), np.zeros(classes))
    x = rng.normal(size=(batch, inputs))
    labels = np.eye(classes)[rng.integers(0, classes, batch)]
    vectors = tuple(rng.normal(size=p.shape) for p in params)
    return params, x, labels, vectors


def contenders(params, x, labels, vectors):
    argnums = (0, 1, 2, 3)
    grad = srcgrad.grad(loss, argnums=argnums)
    zeros = (np.zeros_like(x), np.zeros_like(labels))
    found = {
        "srcgrad grad": lambda: grad(*params, x, labels),
        "srcgrad hvp": lambda: srcgrad.hvp(loss, (*params, x, labels), (*vectors, *zeros),
                                           argnums=argnums),
    }
    try:
        import autograd
        import autograd.numpy as anp

        def autograd_loss(flat):
            W1, b1, W2, b2 = unflatten(flat)
            h = anp.tanh(x @ W1 + b1)
            logits = h @ W2 + b2
            shifted = logits - autograd.tracer.getval(anp.max(logits, axis=1, keepdims=True))
            log_probs = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
            return -anp.mean(anp.sum(labels * log_probs, axis=1))

        sizes = [p.size for p in params]

        def unflatten(flat):
            parts, start = [], 0
            for p, n in zip(params, sizes):
                parts.append(flat[start:start + n].reshape(p.shape))
                start += n
            return parts

        flat = np.concatenate([p.ravel() for p in params])
        v = np.concatenate([u.ravel() for u in vectors])
        a_grad = autograd.grad(autograd_loss)
        a_hvp = autograd.hessian_vector_product(autograd_loss)
        found["autograd grad"] = lambda: a_grad(flat)
        found["autograd hvp"] = lambda: a_hvp(flat, v)
    except ImportError:
        pass
    return found


def check(params, x, labels, vectors, eps=1e-6):
    """The product against central differences of the gradient."""
    grad = srcgrad.grad(loss, argnums=(0, 1, 2, 3))
    zeros = (np.zeros_like(x), np.zeros_like(labels))
    hv = srcgrad.hvp(loss, (*params, x, labels), (*vectors, *zeros), argnums=(0, 1, 2, 3))
    plus = grad(*[p + eps * v for p, v in zip(params, vectors)], x, labels)
    minus = grad(*[p - eps * v for p, v in zip(params, vectors)], x, labels)
    for h, p, m in zip(hv, plus, minus):
        np.testing.assert_allclose(h, (p - m) / (2 * eps), rtol=1e-4, atol=1e-7)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    options = parser.parse_args()
    print(f"numpy {np.__version__}, srcgrad {srcgrad.__version__}, BLAS threads pinned to 1")
    header = f"{'size':8} {'contender':16} {'median time':>12} {'vs its grad':>12}"
    print(header)
    print("-" * len(header))
    for size, dims in SIZES.items():
        problem_args = problem(*dims)
        check(*problem_args)
        fns = contenders(*problem_args)
        medians = interleaved_medians(fns, (), fns["srcgrad grad"], options.repeats)
        for name, t in medians.items():
            tool = name.split()[0]
            ratio = t / medians[f"{tool} grad"]
            print(f"{size:8} {name:16} {t * 1e6:10.1f}us {ratio:11.2f}x")


if __name__ == "__main__":
    main()
