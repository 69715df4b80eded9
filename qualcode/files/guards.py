"""Guards for reading files that users (or strangers) hand us.

Every ZIP-based input (docx, xlsx, qdpx) is checked here before any library
opens it: no entry may escape the archive (``../`` or absolute paths), and the
archive may not expand beyond sensible limits (zip bombs). XML from user files
is read from a defusedxml parse (see :func:`parse_xml`); the REFI schema check alone also
parses it with lxml set to resolve no entities and fetch nothing.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from ..errors import InputError

MAX_ENTRIES = 20_000
MAX_TOTAL_UNCOMPRESSED = 512 * 1024 * 1024   # 512 MiB in all
MAX_RATIO = 150                               # uncompressed / compressed, per large entry
RATIO_FLOOR = 2 * 1024 * 1024                 # entries smaller than this may compress as well as they like


def check_zip(path: str | Path, what: str = "file") -> None:
    """Raise InputError unless ``path`` is a ZIP archive that is safe to open."""
    path = Path(path)
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise InputError(f"is not a valid {what} (not a ZIP archive; is it damaged or renamed?)",
                         path=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or exc})", path=str(path)) from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ENTRIES:
            raise InputError(f"has {len(infos)} entries, more than a {what} ever needs; refusing to open it",
                             path=str(path))
        total = 0
        for info in infos:
            name = info.filename.replace("\\", "/")
            parts = [p for p in name.split("/") if p]
            if name.startswith("/") or ".." in parts or (parts and parts[0].endswith(":")):
                raise InputError(f"contains an entry with an unsafe path ('{info.filename}'); refusing to open it",
                                 path=str(path))
            total += info.file_size
            if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise InputError(
                    f"entry '{info.filename}' would expand {info.file_size // max(info.compress_size, 1)}-fold "
                    f"(a zip bomb?); refusing to open it", path=str(path))
        if total > MAX_TOTAL_UNCOMPRESSED:
            raise InputError(f"would expand to {total // (1024 * 1024)} MiB; refusing to open it", path=str(path))
        for info in infos:
            if info.filename.lower().endswith(XML_SUFFIXES) and _declares_dtd(zf, info):
                raise InputError(f"entry '{info.filename}' declares a DTD (XML entities or external references, "
                                 "as used in entity-expansion attacks); refusing to open it", path=str(path))


XML_SUFFIXES = (".xml", ".rels", ".qde", ".vml")
_DTD_MARKS = tuple(m.encode(enc) for m in ("<!DOCTYPE", "<!ENTITY") for enc in ("utf-8", "utf-16-le", "utf-16-be"))


def _declares_dtd(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """Whether an XML entry has a DTD in its prolog (Office and REFI files never need one).

    Only the first 64 KiB are read: a DTD must come before the root element."""
    try:
        with zf.open(info) as fh:
            head = fh.read(64 * 1024)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError, ValueError) as exc:
        raise InputError(f"entry '{info.filename}' cannot be unpacked ({type(exc).__name__}); "
                         "is the file damaged?", path=zf.filename) from None
    upper = head.upper()
    return any(m.upper() in upper for m in _DTD_MARKS)


def read_zip_member(zf: zipfile.ZipFile, name: str, limit: int = MAX_TOTAL_UNCOMPRESSED) -> bytes:
    """Read one member, stopping if it turns out larger than its header said (lying headers)."""
    with zf.open(name) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"entry '{name}' is larger than {limit // (1024 * 1024)} MiB; refusing to read it")
    return data


def parse_xml(data: bytes, path: str, what: str = "XML", *, local_names: bool = False):
    """Parse XML from a user file with defusedxml (no entities, no external references).

    With ``local_names`` every element and attribute gets its name without a namespace
    ('{urn:…}Code' -> 'Code'), as the parser meets it: for formats whose writers use several
    namespaces for the same elements (REFI-QDA)."""
    from xml.etree.ElementTree import ParseError, TreeBuilder   # TreeBuilder: the C one (defusedxml's
    #                                                            default target is the pure-Python one)
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import DefusedXMLParser

    target = _LocalNames() if local_names else TreeBuilder()
    parser = DefusedXMLParser(target=target, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    try:
        parser.feed(data)
        return parser.close()
    except DefusedXmlException as exc:
        raise InputError(f"{what} uses XML entities or external references ({type(exc).__name__}); "
                         "refusing to read it", path=path) from None
    except ParseError as exc:
        raise InputError(f"{what} is not well-formed XML ({exc})", path=path) from None


class _LocalNames:
    """A parser target that builds the tree with ElementTree's (C) TreeBuilder, giving it every
    element and attribute name without its namespace ('{urn:…}Code' -> 'Code'). Only the public
    target interface (start, end, data, close) is used; each distinct name is split once."""

    def __init__(self):
        from xml.etree.ElementTree import TreeBuilder

        self._tb = TreeBuilder()
        self.data = self._tb.data
        self.close = self._tb.close
        self._local: dict[str, str] = {}

    def _name(self, key: str) -> str:
        try:
            return self._local[key]
        except KeyError:
            name = self._local[key] = key.rsplit("}", 1)[-1]
            return name

    def start(self, tag, attrs):
        name = self._name
        return self._tb.start(name(tag), {name(k): v for k, v in attrs.items()} if attrs else attrs)

    def end(self, tag):
        return self._tb.end(self._name(tag))


def guard_archive(path: str | Path, what: str = "file") -> None:
    """Refuse hostile archives (unsafe paths, zip bombs, DTDs) before a library opens them.

    Unlike :func:`check_zip`, a file that is missing or not a ZIP archive at all passes
    silently, so the caller's reader reports it in its own words."""
    try:
        zipfile.ZipFile(path).close()
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    check_zip(path, what)
