"""Sphinx configuration for the django-longcallbacks docs: Markdown pages through MyST.

autodoc imports the package, so Django is set up first with the test settings. The build
needs no network access, because intersphinx is left out and no inventories are fetched.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
django.setup()

import longcallbacks

project = "django-longcallbacks"
author = "django-longcallbacks contributors"
copyright = "2026, django-longcallbacks contributors"
release = longcallbacks.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# Anchors for headings down to level 3, so pages can link to "settings.md#celery".
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence", "deflist"]

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"show-inheritance": True}

html_theme = "furo"
html_title = f"django-longcallbacks {release}"
