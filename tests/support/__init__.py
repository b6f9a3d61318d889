"""Helpers shared by test packages (a Resonate server in a subprocess, ...)."""
