"""`python -m memento_memory`: the same as the `memento-memory` command (the case bank's MCP server)."""

from memento_memory.server import main

if __name__ == "__main__":
    main()
