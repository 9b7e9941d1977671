"""Reverse-mode rules for srcgrad's own runtime helpers (see templates/forward/runtime.py).

Generated derivative code calls the helpers in srcgrad/runtime.py; a rule here
makes that code differentiable again in reverse mode. Same format as
operators.py in this folder.
"""

from srcgrad.extend import adjoint, d
from srcgrad.runtime import snapshot


@adjoint(snapshot)
def snapshot(y, x, index):
    d[x][index] = d[y]
