"""Sharing alerts between partner nodes: identity, partners, feeds, delivery, audit."""
