from __future__ import annotations

import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_models_and_migrations_agree() -> None:
    output = io.StringIO()
    try:
        call_command("makemigrations", "longcallbacks", "--check", "--dry-run", stdout=output)
    except SystemExit:
        pytest.fail(f"models differ from migrations (run makemigrations longcallbacks):\n{output.getvalue()}")
