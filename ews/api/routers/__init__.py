"""The API's routers, one per area, each thin over its stage's read side."""
