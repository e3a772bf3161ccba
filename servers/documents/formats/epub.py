"""EPUB to markdown: a metadata header, then one page per spine chapter."""

from __future__ import annotations

import io
import posixpath
import zipfile

from lxml import etree

from memento_servers.documents.context import Context
from memento_servers.documents.errors import CorruptDocument, EncryptedDocument
from memento_servers.documents.formats.html import html_to_markdown
from memento_servers.documents.formats.text import decode_text
from memento_servers.documents.model import Document, PageBuilder

NS = {
    "c": "urn:oasis:names:tc:opendocument:xmlns:container",
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
}
FIELDS = (("title", "Title"), ("creator", "Authors"), ("language", "Language"), ("publisher", "Publisher"),
          ("date", "Date"), ("description", "Description"), ("identifier", "Identifier"))
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, recover=True)


def _xml(archive: zipfile.ZipFile, name: str) -> etree._Element:
    try:
        return etree.fromstring(archive.read(name), PARSER)
    except KeyError as exc:
        raise CorruptDocument(f"the EPUB lacks {name}") from exc


def convert(data: bytes, context: Context) -> Document:
    archive = zipfile.ZipFile(io.BytesIO(data))
    if "META-INF/encryption.xml" in archive.namelist():
        raise EncryptedDocument("the EPUB is DRM-protected (META-INF/encryption.xml); it cannot be read")
    opf_path = _xml(archive, "META-INF/container.xml").find(".//c:rootfile", NS).get("full-path")
    opf = _xml(archive, opf_path)
    metadata: dict[str, str] = {}
    for tag, _ in FIELDS:
        values = [" ".join((e.text or "").split()) for e in opf.findall(f".//dc:{tag}", NS) if (e.text or "").strip()]
        if values:
            metadata[tag] = ", ".join(values)
    manifest = {item.get("id"): item.get("href") for item in opf.findall(".//opf:manifest/opf:item", NS)}
    base = posixpath.dirname(opf_path)
    chapters = [manifest[ref.get("idref")] for ref in opf.findall(".//opf:spine/opf:itemref", NS) if ref.get("idref") in manifest]
    builder = PageBuilder()
    header = "\n".join(f"**{label}:** {metadata[tag]}" for tag, label in FIELDS if tag in metadata)
    builder.add(1, header or "(no metadata)", label="metadata")
    warnings = []
    for number, href in enumerate(chapters, start=2):
        if number - 1 > context.limits.max_pages:
            warnings.append(f"only the first {context.limits.max_pages} chapters were converted (page limit)")
            break
        name = posixpath.normpath(posixpath.join(base, href))
        try:
            html = decode_text(archive.read(name))
        except KeyError:
            warnings.append(f"chapter {href} is missing from the archive")
            continue
        markdown, title, problems = html_to_markdown(html, context.keep_data_uris)
        warnings.extend(f"{href}: {problem}" for problem in problems)
        builder.add(number, markdown, label=title or href)
    return Document(markdown=builder.markdown, format="epub", title=metadata.get("title"), metadata=metadata,
                    pages=builder.pages, warnings=warnings)
