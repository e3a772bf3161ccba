"""`python -m memento_servers.search`: the same as the `memento-search` command."""

from memento_servers.search.server import main

if __name__ == "__main__":
    main()
