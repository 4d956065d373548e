"""The HTTP API: read access to items, alerts, events and assessments, by API key."""
