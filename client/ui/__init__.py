"""`memento ui`: the web app over the run folders and the case bank (see `server`)."""
