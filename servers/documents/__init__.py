"""memento-documents: any file an agent meets, as paginated markdown.

    convert.py     the plain API (convert_bytes, convert_file) that other servers import
    detect.py      format detection; formats/ one converter per family of formats
    sources.py     root confinement and URL sources; operations.py what the killable workers (memento_core.workers) run
    service.py     sources + cache + workers; server.py the MCP tools
"""
