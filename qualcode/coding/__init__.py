"""Coding: deductive rules (rules.py), manual coding (manual.py), learnt suggestions and discovery."""
