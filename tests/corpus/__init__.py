"""Small functions to differentiate, and the inputs their argument names pick.

Every function in `straight_line` and `control_flow` is differentiated with respect to each of
its floating-point arguments by the tests in test_corpus.py. An argument's
name chooses its value (see `INPUTS`), so adding a case is writing a
function.
"""

import collections

import numpy as np

Pair = collections.namedtuple("Pair", ["W", "b"])


def _normal(rng, *shape):
    return rng.standard_normal(shape)


def _positive(rng, *shape):
    return rng.uniform(0.5, 2.0, shape)


INPUTS = {
    # Python floats
    "s": lambda rng: float(rng.standard_normal()),
    "t": lambda rng: float(rng.uniform(0.5, 2.0)),          # positive
    # vectors
    "x": lambda rng: _normal(rng, 4),
    "y": lambda rng: _normal(rng, 4),
    "v": lambda rng: _normal(rng, 3),
    "p": lambda rng: _positive(rng, 4),                      # positive
    # matrices and tensors
    "A": lambda rng: _normal(rng, 3, 4),
    "B": lambda rng: _normal(rng, 3, 4),
    "M": lambda rng: _normal(rng, 4, 4),
    "P": lambda rng: _positive(rng, 3, 4),                   # positive
    "W": lambda rng: _normal(rng, 4, 3),
    "V": lambda rng: _normal(rng, 3, 2),
    "X": lambda rng: _normal(rng, 5, 4),
    "b": lambda rng: _normal(rng, 3),
    "T": lambda rng: _normal(rng, 2, 3, 4),
    "Y": lambda rng: np.eye(3)[rng.integers(0, 3, 5)],       # one-hot labels, 5 x 3
    # pytrees
    "params": lambda rng: {"W": _normal(rng, 4, 3), "b": _normal(rng, 3)},
    "layers": lambda rng: [{"W": _normal(rng, 4, 3), "b": _normal(rng, 3)},
                           {"W": _normal(rng, 3, 2), "b": _normal(rng, 2)}],
    "pair": lambda rng: (_normal(rng, 4), _normal(rng, 3, 4)),
    "named": lambda rng: Pair(W=_normal(rng, 4, 3), b=_normal(rng, 3)),
    "config": lambda rng: {"scale": float(rng.uniform(0.5, 2.0)), "steps": 3},
    # a recurrent network
    "Wh": lambda rng: 0.5 * _normal(rng, 3, 3),
    "Ux": lambda rng: 0.5 * _normal(rng, 3, 4),
    "bh": lambda rng: 0.1 * _normal(rng, 3),
    "xs": lambda rng: _normal(rng, 5, 4),
    # integers (held fixed)
    "n": lambda rng: 2,
}


def inputs_for(fun, seed=0, dtype=np.float64):
    """The arguments of `fun`, chosen by name, with float arrays cast to `dtype`."""
    rng = np.random.default_rng(seed)
    names = fun.__code__.co_varnames[:fun.__code__.co_argcount]
    return tuple(_cast(INPUTS[name](rng), dtype) for name in names)


def _cast(value, dtype):
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value.astype(dtype)
    if isinstance(value, dict):
        return {k: _cast(v, dtype) for k, v in value.items()}
    if isinstance(value, Pair):
        return Pair(*[_cast(v, dtype) for v in value])
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(v, dtype) for v in value)
    return value
