-- EWS store, version 4: sharing alerts between partner nodes.

-- Standing agreements: a partner receives AMBER / AMBER+STRICT alerts on items under
-- hs_prefix ('' = all items) up to tlp_max even when an alert does not name it.
CREATE TABLE partner_agreements (
    partner   VARCHAR NOT NULL,
    hs_prefix VARCHAR NOT NULL,
    tlp_max   VARCHAR NOT NULL,
    note      VARCHAR NOT NULL,
    added_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (partner, hs_prefix)
);

-- Nonces of accepted messages and signed requests, per sender: a second use is a replay.
-- Rows can be dropped once expires_at has passed (the time window refuses those anyway).
CREATE TABLE federation_nonces (
    sender     VARCHAR NOT NULL,
    nonce      VARCHAR NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    seen_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (sender, nonce)
);

-- This node's feed: its own alert versions in the order it learnt of them. The cursor a
-- partner pulls with is a seq; seq never changes once given.
CREATE TABLE federation_feed (
    seq      BIGINT PRIMARY KEY,
    alert_id VARCHAR NOT NULL,
    version  INTEGER NOT NULL,
    added_at TIMESTAMP NOT NULL,
    UNIQUE (alert_id, version)
);

-- Push delivery, one row per (partner, alert version) the sharing rule allows.
-- status: pending | delivered. Failed attempts stay pending with a later next_attempt.
CREATE TABLE federation_outbox (
    partner      VARCHAR NOT NULL,
    alert_id     VARCHAR NOT NULL,
    version      INTEGER NOT NULL,
    status       VARCHAR NOT NULL,
    attempts     INTEGER NOT NULL,
    next_attempt TIMESTAMP NOT NULL,
    last_error   VARCHAR,
    created_at   TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP,
    PRIMARY KEY (partner, alert_id, version)
);

-- How far this node has read each partner's feed.
CREATE TABLE federation_cursors (
    partner   VARCHAR PRIMARY KEY,
    cursor    VARCHAR NOT NULL,
    pulled_at TIMESTAMP NOT NULL
);
