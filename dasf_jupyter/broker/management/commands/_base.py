"""Base classes of the broker's management commands: one place parses and dispatches."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.management.base import BaseCommand

from ._lookup import add_rights_arguments, get_topic, get_user, rights_from_options

Argument = tuple[tuple[str, ...], dict[str, Any]]
Method = TypeVar("Method", bound=Callable[..., None])


def arg(*names: str, **options: Any) -> Argument:
    """One ``add_argument(*names, **options)`` of an :func:`action`."""
    return names, options


def flag(name: str, help: str) -> Argument:
    """An on/off option of an :func:`action` (``store_true``)."""
    return arg(name, action="store_true", help=help)


def action(summary: str, *arguments: Argument) -> Callable[[Method], Method]:
    """Mark ``_<name>(self, options)`` of an :class:`ActionCommand` as the action ``<name>``."""

    def mark(method: Method) -> Method:
        method.action = (summary, arguments)  # type: ignore[attr-defined]
        return method

    return mark


class ActionCommand(BaseCommand):
    """A command whose first argument names an action; ``handle`` runs ``self._<action>``.

    The actions are the methods marked with :func:`action`, listed in the order they are
    defined.
    """

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        for name, method in vars(type(self)).items():
            if hasattr(method, "action"):
                summary, arguments = method.action
                sub = actions.add_parser(name.removeprefix("_"), help=summary)
                for names, options in arguments:
                    sub.add_argument(*names, **options)

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)


class RightsCommand(BaseCommand):
    """``USER TOPIC [--produce] [--consume] [--view]``: changes one user's rights on a topic."""

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("user")
        parser.add_argument("topic")
        add_rights_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        user, topic = get_user(options["user"]), get_topic(options["topic"])
        self.stdout.write(self.change(user, topic, rights_from_options(options)))

    def change(self, user: Any, topic: Any, rights: list[str]) -> str:
        """Apply the change; return the line to print."""
        raise NotImplementedError
