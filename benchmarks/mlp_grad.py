"""Generated gradient vs a hand-written NumPy backward pass, for an MLP loss.

    python benchmarks/mlp_grad.py [--repeats 7]

One process, BLAS pinned to one thread, the contenders interleaved; prints
the median time per call and the ratio to the hand-written pass. autograd
and JAX are timed too when they are installed (they are not dependencies).
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import srcgrad  # noqa: E402


def loss(params, x, labels):
    W1, b1 = params["W1"], params["b1"]
    W2, b2 = params["W2"], params["b2"]
    h = np.maximum(x @ W1 + b1, 0.0)
    logits = h @ W2 + b2
    shifted = logits - srcgrad.stop_gradient(np.max(logits, axis=1, keepdims=True))
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(np.sum(labels * log_probs, axis=1))


def hand_value_and_grad(params, x, labels):
    """What a careful person writes: forward, then the fused softmax backward."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    z = x @ W1 + b1
    h = np.maximum(z, 0.0)
    logits = h @ W2 + b2
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    s = e.sum(axis=1, keepdims=True)
    value = -np.mean(np.sum(labels * (shifted - np.log(s)), axis=1))
    dlogits = (e / s - labels) / x.shape[0]
    dh = dlogits @ W2.T
    dz = dh * (z > 0)
    return value, {"W1": x.T @ dz, "b1": dz.sum(axis=0), "W2": h.T @ dlogits,
                   "b2": dlogits.sum(axis=0)}


SIZES = {  # name: (batch, inputs, hidden, classes)
    "small": (32, 64, 32, 10),
    "medium": (128, 784, 256, 10),
    "large": (512, 784, 1024, 10),
}


def problem(batch, inputs, hidden, classes, seed=0):
    rng = np.random.default_rng(seed)
    params = {"W1": rng.normal(0, inputs ** -0.5, (inputs, hidden)), "b1": np.zeros(hidden),
              "W2": rng.normal(0, hidden ** -0.5, (hidden, classes)), "b2": np.zeros(classes)}
    x = rng.normal(size=(batch, inputs))
    labels = np.eye(classes)[rng.integers(0, classes, batch)]
    return params, x, labels


def contenders():
    found = {"hand-written NumPy": hand_value_and_grad,
             "srcgrad": srcgrad.value_and_grad(loss)}
    try:
        import autograd
        import autograd.numpy as anp

        def autograd_loss(params, x, labels):
            h = anp.maximum(x @ params["W1"] + params["b1"], 0.0)
            logits = h @ params["W2"] + params["b2"]
            shifted = logits - autograd.tracer.getval(anp.max(logits, axis=1, keepdims=True))
            log_probs = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
            return -anp.mean(anp.sum(labels * log_probs, axis=1))
        found["autograd"] = autograd.value_and_grad(autograd_loss)
    except ImportError:
        pass
    try:
        import jax
        import jax.numpy as jnp

        def jax_loss(params, x, labels):
            h = jnp.maximum(x @ params["W1"] + params["b1"], 0.0)
            logits = h @ params["W2"] + params["b2"]
            return -jnp.mean(jnp.sum(labels * jax.nn.log_softmax(logits), axis=1))
        jax.config.update("jax_enable_x64", True)
        jitted = jax.jit(jax.value_and_grad(jax_loss))
        found["jax (jit)"] = lambda *a: jax.block_until_ready(jitted(*a))
    except ImportError:
        pass
    return found


def time_calls(fn, args, number):
    start = time.perf_counter()
    for _ in range(number):
        fn(*args)
    return (time.perf_counter() - start) / number


def interleaved_medians(fns, args, reference, repeats):
    """Median seconds per call of each contender, timed in turns after a warm-up call, with
    enough calls per sample for `reference` to take about 50 ms."""
    for fn in fns.values():             # warm up: compile, caches
        fn(*args)
    number = max(1, int(0.05 / max(time_calls(reference, args, 3), 1e-6)))
    samples = {name: [] for name in fns}
    for _ in range(repeats):            # interleaved
        for name, fn in fns.items():
            samples[name].append(time_calls(fn, args, number))
    return {name: statistics.median(times) for name, times in samples.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    options = parser.parse_args()
    fns = contenders()
    print(f"numpy {np.__version__}, srcgrad {srcgrad.__version__}, BLAS threads pinned to 1")
    header = f"{'size':8} {'contender':20} {'median time':>12} {'vs hand-written':>16}"
    print(header)
    print("-" * len(header))
    for size, dims in SIZES.items():
        args = problem(*dims)
        reference_value, reference = hand_value_and_grad(*args)
        value, grads = fns["srcgrad"](*args)
        assert abs(value - reference_value) < 1e-10
        for k in grads:
            np.testing.assert_allclose(grads[k], reference[k], rtol=1e-8, atol=1e-12)
        medians = interleaved_medians(fns, args, hand_value_and_grad, options.repeats)
        base = medians["hand-written NumPy"]
        for name, t in medians.items():
            print(f"{size:8} {name:20} {t * 1e6:10.1f}us {t / base:15.2f}x")


if __name__ == "__main__":
    main()
