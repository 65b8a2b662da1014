"""Errors a user can cause. Each carries a catalogue key, never a pre-rendered sentence."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base: `key` is an i18n catalogue key; `params` fill its placeholders."""

    key = "error.generic"

    def __init__(self, key: str | None = None, **params: Any) -> None:
        self.key = key or self.key
        self.params = params
        super().__init__(self.key)


class ValidationFailed(DomainError):
    """Bad input. `fields` maps a field name to the catalogue key of what is wrong with it."""

    key = "error.validation"

    def __init__(self, fields: dict[str, str], key: str | None = None, **params: Any) -> None:
        self.fields = fields
        super().__init__(key, **params)


class NotFound(DomainError):
    """Missing *or not yours*: out-of-scope records are reported exactly like missing ones."""

    key = "error.not_found"


class PermissionDenied(DomainError):
    key = "error.permission_denied"


class Conflict(DomainError):
    """Someone else changed the record first (optimistic concurrency)."""

    key = "error.conflict"


class AuthError(DomainError):
    key = "auth.invalid_credentials"
