"""The names generated code uses for objects that rules refer to.

A rule says `numpy.full_like`; in the user's generated code that reads
`np.full_like` when the user's module calls numpy `np`. Runtime helpers
(`unbroadcast`) are imported by the generated file's header. A name the user's
function already uses for something else gets a fresh alias.
"""

from __future__ import annotations

import types

import gast

from . import annotations as anno
from . import syntax
from .walk import statements


class Imports:
    def __init__(self, scope, namer, used_names):
        self.scope = scope
        self.namer = namer
        self.used_names = sorted(used_names)   # names the user's function refers to
        self.names = {}                        # id(obj) -> name in generated code
        self.sources = {}                      # name -> (module, attribute or None)
        self.objects = {}                      # name -> object, for names from headers

    def ref(self, ident, obj):
        """An expression naming `obj` (called `ident` in the rule file) in generated code."""
        key = id(obj)
        if key not in self.names:
            self.names[key] = self._bind(ident, obj)
        return syntax.name(self.names[key])

    def _user_alias(self, obj):
        for name in self.used_names:
            if self.scope.lookup(name) is obj:
                return name
        for name in sorted(self.scope.globals):
            if self.scope.globals[name] is obj and not name.startswith("_") \
                    and name not in self.namer.taken:
                self.namer.reserve(name)
                return name
        return None

    def _bind(self, ident, obj):
        if isinstance(obj, types.ModuleType):
            alias = self._user_alias(obj)
            if alias:
                return alias
            name = self._fresh(ident)
            self.sources[name] = (obj.__name__, None)
        else:
            module = getattr(obj, "__module__", None)
            if module == "builtins":
                return ident
            if ident in self.used_names and self.scope.lookup(ident) is obj:
                return ident        # the function already calls it by this name
            name = self._fresh(ident)
            self.sources[name] = (module, getattr(obj, "__name__", ident))
        self.objects[name] = obj
        return name

    def resolve(self, node):
        """The object a callee expression in generated code names: a name this module
        imports, one of the user's, or an attribute of a module."""
        if isinstance(node, gast.Name):
            if node.id in self.objects:
                return self.objects[node.id]
            return self.scope.lookup(node.id)
        if isinstance(node, gast.Attribute):
            base = self.resolve(node.value)
            return getattr(base, node.attr, None) if isinstance(base, types.ModuleType) else None
        return None

    def _fresh(self, ident):
        return self.namer.fresh(ident)


def bind_runtime_references(body, imports):
    """Names srcgrad put in the primal code for its own helpers (`own`) get imported."""
    for stmt in statements(body):
        for node in gast.walk(stmt):
            obj = anno.get(node, "object") if isinstance(node, gast.Name) else None
            if obj is not None:
                node.id = imports.ref(node.id, obj).id
