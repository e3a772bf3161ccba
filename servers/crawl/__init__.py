"""memento-crawl: web pages to clean, paginated markdown (server in `server.py`, the work in its sibling modules)."""
