"""`python -m memento_servers.code`: the same as the `memento-code` command."""

from memento_servers.code.server import main

if __name__ == "__main__":
    main()
