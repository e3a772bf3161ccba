"""Errors of document conversion. Plain exceptions (no MCP); the runtime reports them as tool errors.

    MementoError (memento_core)
    └── DocumentError            the document cannot be converted; the message says why and what to try
        ├── SourceRefused        a path outside the allowed roots, a missing file, a refused URL scheme
        ├── BadPageSelection     a `pages` argument that does not parse
        ├── UnsupportedFormat    the type is not one this package reads (never sent anywhere else)
        ├── LimitExceeded        a configured limit (size, pages, members, ratio, time) was hit
        ├── EncryptedDocument    password-protected
        └── CorruptDocument      truncated or malformed
"""

from __future__ import annotations

from memento_core.errors import MementoError


class DocumentError(MementoError):
    """A document could not be converted; the message is meant for the user or model."""


class SourceRefused(DocumentError):
    """The source cannot be read: outside the allowed roots, missing, or a refused scheme."""


class BadPageSelection(DocumentError):
    """The `pages` argument cannot be parsed."""


class UnsupportedFormat(DocumentError):
    """The format is unknown or not supported."""


class LimitExceeded(DocumentError):
    """A configured limit was exceeded (file size, pages, archive members, uncompressed size, ratio, time)."""


class EncryptedDocument(DocumentError):
    """The document is password-protected."""


class CorruptDocument(DocumentError):
    """The document is truncated or malformed."""
