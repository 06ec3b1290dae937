# Importing the Celery app when Django starts makes it the current app, so tasks
# defined with @shared_task bind to it.
from demo_project.celery import app as celery_app

__all__ = ("celery_app",)
