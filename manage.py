#!/usr/bin/env python
"""Run Django management commands for the demo project."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo_project.settings")
    try:
        from django.core.management import execute_from_command_line
    except ImportError as error:
        raise ImportError(
            "Django is not importable. Run `make venv` and use .venv/bin/python, "
            "or activate the virtual environment first."
        ) from error
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
