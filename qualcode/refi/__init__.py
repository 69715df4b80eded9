"""REFI-QDA interoperability: reading (.qdpx, .qde, .qdc) and importing into a project.

* :mod:`.refi_read` turns a file into a plain model (:class:`RefiProject`), checking the
  archive, the XML (defusedxml, then the REFI schema) and placing every text selection.
* :mod:`.refi_import` writes that model into a project in one act.
* Export lives in :mod:`qualcode.refi.export`.
"""

from __future__ import annotations

QUALCODE_ORIGIN_PREFIX = "qualcode"
PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
GROUP_VARIABLE = "focus group"
