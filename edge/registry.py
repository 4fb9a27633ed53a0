"""Self-registering backend plugins: one module per backend, import failures logged and skipped.

A backend module calls ``registry.register("name")`` on its factory at import time;
:meth:`Registry.load` imports every listed module and skips those whose native library is
missing (common on ARM boxes: no ``libzbar0``, no wheel for the platform) with a warning,
so the others remain usable. Face backends, QR decoders and health-code verifiers each
have one registry of this kind.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


class BackendUnavailableError(LookupError, ValueError):
    """The requested backend is not registered (unknown name, or its import failed).

    A ``LookupError`` and, for callers that validate names, a ``ValueError``.
    """


class Registry(Generic[T]):
    """Named factories of one kind of backend."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._factories: dict[str, Callable[..., T]] = {}
        self.failed: dict[str, str] = {}
        """Modules whose last import failed, with the error."""

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator: register ``factory`` (usually a class) under ``name``."""

        def decorate(factory: Callable[..., T]) -> Callable[..., T]:
            self._factories[name] = factory
            return factory

        return decorate

    def load(self, modules: Iterable[str]) -> list[str]:
        """Import backend modules; the ones that imported. A failing import is skipped.

        The failure is logged as a warning (no traceback: a missing native library is an
        expected condition on some boxes) and kept in :attr:`failed`.
        """
        loaded = []
        for module in modules:
            try:
                importlib.import_module(module)
            except (ImportError, OSError) as exc:
                self.failed[module] = f"{type(exc).__name__}: {exc}"
                log.warning(
                    "%s backend module %s is unavailable, skipping it (%s)",
                    self.kind,
                    module,
                    self.failed[module],
                )
                continue
            self.failed.pop(module, None)
            loaded.append(module)
        return loaded

    def factories(self, modules: Iterable[str] | None = None) -> dict[str, Callable[..., T]]:
        """Registered factories by name; with ``modules``, only those defined in them."""
        if modules is None:
            return dict(self._factories)
        wanted = set(modules)
        return {
            name: factory
            for name, factory in self._factories.items()
            if getattr(factory, "__module__", None) in wanted
        }

    def available(self) -> list[str]:
        """Names of the registered backends."""
        return sorted(self._factories)

    def create(self, name: str, *args: object, **kwargs: object) -> T:
        """Build the backend registered as ``name``."""
        try:
            factory = self._factories[name]
        except KeyError:
            known = ", ".join(self.available()) or "none"
            raise BackendUnavailableError(
                f"no {self.kind} backend {name!r} (available: {known})"
            ) from None
        return factory(*args, **kwargs)
