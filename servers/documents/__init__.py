"""memento-documents: any file an agent meets, as paginated markdown.

    convert.py     the plain API (convert_bytes, convert_file) that other servers import
    detect.py      format detection; formats/ one converter per family of formats
    sources.py     root confinement and URL sources; worker.py killable conversion processes (crawl's too)
    service.py     sources + cache + workers; server.py the MCP tools
"""
