"""Live sources: polled over HTTP by `ews run` (docs/live.md)."""
