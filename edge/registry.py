"""Self-registering backend plugins: one module per backend, import failures logged and skipped.

A backend module calls ``registry.register("name")`` on its factory at import time;
:meth:`Registry.load` imports every listed module and skips those whose native library is
missing (common on ARM boxes) with a warning, so the others remain usable.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


class BackendUnavailableError(LookupError):
    """The requested backend is not registered (unknown name, or its import failed)."""


class Registry(Generic[T]):
    """Named factories of one kind of backend."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._factories: dict[str, Callable[..., T]] = {}
        self.failed: dict[str, str] = {}

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator: register ``factory`` under ``name``."""

        def decorate(factory: Callable[..., T]) -> Callable[..., T]:
            self._factories[name] = factory
            return factory

        return decorate

    def load(self, modules: Iterable[str]) -> None:
        """Import backend modules; a failing import is logged and skipped."""
        for module in modules:
            try:
                importlib.import_module(module)
            except (ImportError, OSError) as exc:
                self.failed[module] = str(exc)
                log.warning("%s backend %s unavailable: %s", self.kind, module, exc)

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
