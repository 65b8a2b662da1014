"""The one gate every public event handler passes: session check, role check, registry.

Reflex turns every public State method into an event any browser can call with any
arguments. `@guarded(...)` wraps each one so that, on every call, the server-side session is
re-validated (idle and absolute timeouts included) and the actor's role is checked before the
body runs. `HANDLER_ROLES` records who may call what; a test fails if any public handler of any
State class is missing from it.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable
from typing import Any

from models import Role

# "StateClass.handler" -> roles allowed; an empty set means "anyone, signed in or not".
HANDLER_ROLES: dict[str, frozenset[Role]] = {}
PUBLIC = frozenset[Role]()
ALL_ROLES = frozenset(Role)


def guarded(
    *roles: Role, public: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a handler and, unless `public`, require a live session in one of `roles`."""
    if not roles and not public:
        raise ValueError("a guarded handler names its roles or says public=True")
    allowed = PUBLIC if public else frozenset(roles)

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        owner = fn.__qualname__
        HANDLER_ROLES[owner] = allowed

        @functools.wraps(fn)
        async def wrapper(self: Any, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            if not public:
                refusal = await self._authorise(allowed, owner)
                if refusal is not None:
                    yield refusal
                    return
            result = fn(self, *args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
            if inspect.isasyncgen(result):
                async for item in result:
                    yield item
            elif inspect.isgenerator(result):
                for item in result:
                    yield item
            elif result is not None:
                yield result

        return wrapper

    return decorate
