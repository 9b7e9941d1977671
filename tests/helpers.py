"""Checks shared by the tests: gradients against central differences, dtypes."""

import numpy as np

import srcgrad
from srcgrad import pytree
from srcgrad.generated import instance


def float_argnums(args):
    return tuple(i for i, a in enumerate(args)
                 if any(pytree.is_inexact(leaf) for leaf in pytree.leaves(a)))


def _directional_fd(fun, args, i, direction, eps=1e-6):
    def at(step):
        moved = list(args)
        values = [leaf + step * v if v is not None else leaf
                  for leaf, v in zip(pytree.leaves(args[i]),
                                     pytree.leaves_like(direction, args[i]))]
        moved[i] = pytree.rebuild(args[i], values)
        return float(fun(*moved))
    return (at(eps) - at(-eps)) / (2 * eps)


def assert_grad_matches_fd(fun, args, argnum, seed=1, rtol=1e-5, atol=1e-7):
    """grad(fun, argnum) against central differences along a random direction."""
    rng = np.random.default_rng(seed)
    leaves = pytree.leaves(args[argnum])
    direction = pytree.rebuild(args[argnum], [
        (rng.standard_normal(np.shape(leaf)) if not isinstance(leaf, float)
         else float(rng.standard_normal())) if pytree.is_inexact(leaf) else None
        for leaf in leaves])
    g = srcgrad.grad(fun, argnums=argnum)(*args)
    assert_same_containers(g, args[argnum])
    analytic = 0.0
    for gl, dl, leaf in zip(pytree.leaves_like(g, args[argnum]),
                            pytree.leaves_like(direction, args[argnum]), leaves):
        if dl is None:
            assert gl is None
            continue
        assert np.shape(gl) == np.shape(leaf)
        assert type(gl) is type(leaf) if isinstance(leaf, float) else gl.dtype == leaf.dtype
        analytic += float(np.sum(np.asarray(gl) * dl))
    numeric = _directional_fd(fun, args, argnum, direction)
    assert abs(analytic - numeric) <= atol + rtol * max(abs(analytic), abs(numeric)), \
        (fun.__name__, argnum, analytic, numeric)


def assert_same_containers(g, like):
    """g has like's dicts, lists, tuples and namedtuples (its leaves may be None)."""
    if isinstance(like, (dict, list, tuple)):
        assert type(g) is type(like), (type(g), type(like))
        if isinstance(like, dict):
            assert list(g) == list(like)
            for key in like:
                assert_same_containers(g[key], like[key])
        else:
            assert len(g) == len(like)
            for gi, li in zip(g, like):
                assert_same_containers(gi, li)


def raw_gradients(fun, args, argnums):
    """The generated function's own output, before srcgrad fills in and casts it."""
    generated = instance(fun, tuple(argnums))
    _, grads = generated.function()(*args)
    return grads if len(argnums) > 1 else (grads,)
