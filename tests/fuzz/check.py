"""Checks one random program: srcgrad's derivatives against central differences.

Outcomes:
    ok          the gradient (reverse mode) and the directional derivative (forward
                mode) both match along a random direction
    skipped     the program is not differentiable at the inputs: its path through
                ifs and loops changes within eps, its value is not finite, or central
                differences with different steps disagree among themselves
    refused     srcgrad refused the program with a SrcgradError (not a wrong answer)
A wrong derivative in either mode (or a wrong value from value_and_grad or jvp)
raises WrongGradient
with the program and the numbers.
"""

import hashlib
import importlib.util
import pathlib
import sys

import numpy as np

import srcgrad


class WrongGradient(AssertionError):
    pass


def load(source, folder):
    digest = hashlib.sha1(source.encode()).hexdigest()[:16]
    name = f"fuzz_{digest}"
    path = pathlib.Path(folder) / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module, str(path)


def _path(fun, args, file):
    """The lines `fun` runs in its file (the path through its branches and loops)."""
    lines = []

    def tracer(frame, event, arg):
        if frame.f_code.co_filename != file:
            return None
        if event == "line":
            lines.append((frame.f_code.co_name, frame.f_lineno))
        return tracer

    sys.settrace(tracer)
    try:
        value = fun(*args)
    finally:
        sys.settrace(None)
    return value, lines


def _moved(args, direction, step):
    return tuple(a + step * d for a, d in zip(args, direction))


def check(source, folder, seed=0, eps=1e-6, second_order=False):
    module, file = load(source, folder)
    fun = module.f
    rng = np.random.default_rng(seed)
    args = (rng.normal(size=4), rng.normal(size=4), float(rng.normal()))
    direction = (rng.normal(size=4), rng.normal(size=4), float(rng.normal()))
    with np.errstate(all="ignore"):
        value, path = _path(fun, args, file)
        if not np.isfinite(value) or abs(value) > 1e8:
            return "skipped: value not finite"
        values = {}
        for step in (eps, -eps, 10 * eps, -10 * eps):
            moved, moved_path = _path(fun, _moved(args, direction, step), file)
            if moved_path != path:
                return "skipped: path changes within eps"
            values[step] = moved
    try:
        computed, grads = srcgrad.value_and_grad(fun, argnums=(0, 1, 2))(*args)
        kept = [np.copy(d) for d in direction]
        forward_value, tangent = srcgrad.jvp(fun, args, direction)
        if not all(np.array_equal(a, b) for a, b in zip(kept, direction)):
            raise WrongGradient(f"jvp wrote into the tangents it was given, for seed {seed}, "
                                f"program:\n{source}")
    except srcgrad.SrcgradError as err:
        return "refused: " + str(err).splitlines()[0].split(": ", 1)[-1][:80]
    for mode, result in (("reverse", computed), ("forward", forward_value)):
        if not np.isclose(result, value, rtol=1e-12, atol=1e-12):
            raise WrongGradient(f"{mode} mode: value {result!r} vs the function's {value!r} "
                                f"for seed {seed}, program:\n{source}")
    numeric = (values[eps] - values[-eps]) / (2 * eps)
    coarse = (values[10 * eps] - values[-10 * eps]) / (20 * eps)
    reverse = sum(float(np.sum(g * d)) for g, d in zip(grads, direction))
    for mode, analytic in (("reverse", reverse), ("forward", float(tangent))):
        scale = max(abs(analytic), abs(numeric), 1.0)
        if abs(analytic - numeric) <= 1e-5 * scale:
            continue
        # judged on the differences alone: a wrong derivative must not widen the margin
        if abs(numeric - coarse) > 1e-4 * max(abs(numeric), abs(coarse), 1.0):
            return "skipped: central differences disagree with each other"
        raise WrongGradient(
            f"{mode} mode: srcgrad {analytic!r} vs central differences {numeric!r} "
            f"(eps={eps}) for seed {seed}, program:\n{source}")
    if second_order:
        return _check_second_order(fun, args, direction, rng, eps, seed, source)
    return "ok"


def _check_second_order(fun, args, direction, rng, eps, seed, source):
    """Forward over the generated gradient (a Hessian-vector product) against central
    differences of the gradient, contracted with a random cotangent."""
    grad = srcgrad.grad(fun, argnums=(0, 1, 2))
    u = (rng.normal(size=4), rng.normal(size=4), float(rng.normal()))
    try:
        _, hv = srcgrad.jvp(grad, args, direction)
    except srcgrad.SrcgradError as err:
        return "refused (second order): " + str(err).splitlines()[0].split(": ", 1)[-1][:60]
    with np.errstate(all="ignore"):
        at = {step: grad(*_moved(args, direction, step)) for step in (eps, -eps, 10 * eps,
                                                                     -10 * eps)}
    def contracted(gs):
        return sum(float(np.sum(a * b)) for a, b in zip(u, gs))
    analytic = contracted(hv)
    numeric = (contracted(at[eps]) - contracted(at[-eps])) / (2 * eps)
    coarse = (contracted(at[10 * eps]) - contracted(at[-10 * eps])) / (20 * eps)
    if abs(analytic - numeric) <= 1e-5 * max(abs(analytic), abs(numeric), 1.0):
        return "ok"
    if abs(numeric - coarse) > 1e-4 * max(abs(numeric), abs(coarse), 1.0):
        return "skipped: central differences of the gradient disagree with each other"
    raise WrongGradient(
        f"forward over reverse: srcgrad {analytic!r} vs central differences of the gradient "
        f"{numeric!r} (eps={eps}) for seed {seed}, program:\n{source}")
