"""`python -m memento_servers.crawl`: the same as the `memento-crawl` command."""

from memento_servers.crawl.server import main

if __name__ == "__main__":
    main()
