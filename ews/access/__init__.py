"""Who may read this node: API keys (hashed, scoped, revocable) and their rate limits.

Shared by the HTTP API and the dashboard, which check a key the same way."""
