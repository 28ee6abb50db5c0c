"""Create a user with a DRF token in a reference broker's database (run as a subprocess).

Usage: ``python -m tests.refbroker.tokens USERNAME [--can-create-topics]`` with the broker's
environment (see ``ReferenceBroker.env()``); prints the token key.
"""

from __future__ import annotations

import argparse


def create_user_token(username: str, can_create_topics: bool) -> str:
    """Get or create ``username`` and its token; optionally grant topic creation."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from rest_framework.authtoken.models import Token

    user, _ = get_user_model().objects.get_or_create(username=username)
    if can_create_topics:
        perm = Permission.objects.get(
            content_type__app_label="dasf_broker", codename="add_brokertopic"
        )
        user.user_permissions.add(perm)
    token, _ = Token.objects.get_or_create(user=user)
    return token.key


def main(argv: list[str] | None = None) -> None:
    """Print the token key of the requested user."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("username")
    parser.add_argument("--can-create-topics", action="store_true")
    args = parser.parse_args(argv)
    print(create_user_token(args.username, args.can_create_topics))


if __name__ == "__main__":
    main()
