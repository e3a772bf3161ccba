"""`python -m memento_servers.documents`: the same as the `memento-documents` command."""

from memento_servers.documents.server import main

if __name__ == "__main__":
    main()
