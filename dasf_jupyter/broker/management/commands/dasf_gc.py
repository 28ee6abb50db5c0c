"""``dasf_gc [--max-age-hours H] [--dry-run]``: delete response topics nobody used lately."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from dasf_jupyter.broker.models import stale_response_topics


class Command(BaseCommand):
    help = "Delete response topics unused for a while (callers create new ones on demand)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--max-age-hours", type=float, default=24.0)
        parser.add_argument("--dry-run", action="store_true", help="only list them")

    def handle(self, *args: Any, **options: Any) -> None:
        hours = options["max_age_hours"]
        if hours < 0:
            raise CommandError("--max-age-hours must not be negative")
        stale = stale_response_topics(hours * 3600)
        names = list(stale.values_list("name", flat=True))
        if not options["dry_run"]:
            stale.delete()
        verb = "would delete" if options["dry_run"] else "deleted"
        self.stdout.write(f"{verb} {len(names)} response topic(s)")
        for name in names:
            self.stdout.write(f"  {name}")
