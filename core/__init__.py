"""The ground floor: settings and the domain error tree. Imports nothing of ours."""

__version__ = "0.1.0"
