"""srcgrad: source-to-source automatic differentiation for Python and NumPy.

`srcgrad.grad(f)` reads the source of `f` and writes its derivative as new,
readable Python source, compiled from a real file.
"""

__version__ = "0.1.0"

from .api import grad, jvp, source, value_and_grad, vjp  # noqa: E402
from .check import check_grads  # noqa: E402
from .custom import custom_vjp  # noqa: E402
from .jacobian import hessian, hvp, jacfwd, jacrev  # noqa: E402
from .errors import (  # noqa: E402
    ArgnumsError, NoRuleError, NonScalarOutputError, ShapeMismatchError, SourceUnavailableError,
    SrcgradError, TemplateError, UnsupportedSyntaxError)
from .extend import adjoint, d, nondifferentiable, stop_gradient, tangent  # noqa: E402

__all__ = [
    "grad", "value_and_grad", "vjp", "jvp", "jacfwd", "jacrev", "hessian", "hvp", "source",
    "check_grads", "custom_vjp", "adjoint", "tangent", "d",
    "nondifferentiable", "stop_gradient", "SrcgradError", "SourceUnavailableError",
    "UnsupportedSyntaxError", "NoRuleError", "ArgnumsError", "NonScalarOutputError",
    "ShapeMismatchError", "TemplateError",
]
