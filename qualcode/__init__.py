"""qualcode: thematic analysis of focus-group transcripts (Braun & Clarke's six steps).

Command line: ``qualcode --help``. Library: ``from qualcode import Project``.
"""

__version__ = "0.1.0"

__all__ = ["Project", "__version__"]


def __getattr__(name):  # lazy, so 'import qualcode' stays fast
    if name == "Project":
        from .api import Project
        return Project
    raise AttributeError(name)
