"""Celery workers: thin tasks that load a job by id, call ``training`` and record the outcome."""
