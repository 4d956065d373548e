-- EWS store, version 5: API keys for the HTTP API (ews/api).
-- Only the SHA-256 of a key's token is kept: the token itself is shown once, at creation.
-- A revoked key keeps its row (revoked_at set) so audit records can still name it.
CREATE TABLE api_keys (
    key_id          VARCHAR PRIMARY KEY,
    name            VARCHAR NOT NULL,
    key_hash        VARCHAR NOT NULL,   -- hex SHA-256 of the whole token
    scopes          VARCHAR NOT NULL,   -- JSON list: read, write, admin, partner
    rate_per_minute INTEGER NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    revoked_at      TIMESTAMP
);
