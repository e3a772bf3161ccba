"""One module per family of formats; each exposes `convert(data, context) -> Document`."""
