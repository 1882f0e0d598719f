"""One module per area of the UI, each with a `router`; all are mounted under /ui."""
