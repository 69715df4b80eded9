"""Command modules of this package, besides ``project`` (one per area).

Each named module, when imported, adds its commands to ``qualcode.cli.cli``.
"""

MODULES: list[str] = ['codebook', 'themes', 'reports', 'suggest', 'agreement', 'refi', 'privacy']
