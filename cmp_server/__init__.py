"""Accord: a self-hosted cookie consent management platform.

This module imports nothing at load time: the offline verifier (`cmp_server.proof`,
`accord-verify`) must run where Flask and the app's settings are absent. `create_app` lives
in cmp_server/factory.py and is loaded on first use (`from cmp_server import create_app`).
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cmp_server.factory import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from cmp_server.factory import create_app

        return create_app
    raise AttributeError(f"module 'cmp_server' has no attribute {name!r}")
