"""Create or reset the demo's superuser, so that /admin/ of a local demo can be opened."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    requires_system_checks: list[str] = []
    help = "Create the superuser 'demo' (or reset its password) and print the credentials. Local demos only."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="demo", help="user name of the superuser (default: demo)")
        parser.add_argument(
            "--password",
            default="",
            help="password to set; a new random one is made on every run when left out",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        # A fresh random password on every start, so a demo left running is not open to a known one.
        password: str = options["password"] or secrets.token_urlsafe(12)
        user_model = get_user_model()
        user, _ = user_model.objects.get_or_create(username=username)
        user.is_staff = True
        user.is_superuser = True
        user.is_active = True
        user.set_password(password)
        user.save()
        self.stdout.write(f"admin user {username!r} with password {password!r}")
