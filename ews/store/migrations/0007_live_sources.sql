-- EWS store, version 7: live sources polled by `ews run` (docs/live.md).

-- The sources a user polls: `ews sources add|remove`, or the shipped defaults.
CREATE TABLE live_sources (
    id            VARCHAR PRIMARY KEY,
    kind          VARCHAR NOT NULL,
    url           VARCHAR NOT NULL,
    lang          VARCHAR,
    country       VARCHAR,
    every_seconds INTEGER NOT NULL,
    enabled       BOOLEAN NOT NULL,
    official      BOOLEAN NOT NULL,
    params        VARCHAR NOT NULL,   -- JSON object, per kind (link_pattern, query, ...)
    why           VARCHAR,
    lag           VARCHAR,
    added_at      TIMESTAMP NOT NULL,
    added_by      VARCHAR NOT NULL
);

-- Where each source stands: its HTTP validators, its cursor, its health.
CREATE TABLE source_state (
    source_id        VARCHAR PRIMARY KEY,
    etag             VARCHAR,
    last_modified    VARCHAR,
    cursor           VARCHAR,           -- JSON, per kind (newest date, last file, ...)
    last_attempt     TIMESTAMP,
    last_success     TIMESTAMP,
    last_error       VARCHAR,
    last_error_at    TIMESTAMP,
    failures         INTEGER NOT NULL,  -- consecutive failed polls
    next_due         TIMESTAMP,
    items_total      BIGINT NOT NULL,   -- new items stored, ever
    items_last       INTEGER NOT NULL,  -- new items of the last successful poll
    newest_published TIMESTAMP,         -- newest publication date seen
    lag_seconds      DOUBLE             -- fetch time minus publication, newest new item
);

-- Keys a source has already handled (links followed, files read), so nothing is fetched twice.
CREATE TABLE source_seen (
    source_id VARCHAR NOT NULL,
    key       VARCHAR NOT NULL,
    seen_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (source_id, key)
);

-- One row per HTTP request of a poll; sha256 names the raw body kept in the raw folder.
CREATE TABLE fetch_log (
    source_id  VARCHAR NOT NULL,
    url        VARCHAR NOT NULL,
    fetched_at TIMESTAMP NOT NULL,
    status     INTEGER,
    outcome    VARCHAR NOT NULL,        -- ok | not_modified | error
    sha256     VARCHAR,
    bytes      BIGINT,
    elapsed_ms DOUBLE,
    error      VARCHAR
);

-- Daily vessel transits through a maritime chokepoint (IMF PortWatch).
CREATE TABLE transit_observations (
    source_id   VARCHAR NOT NULL,
    chokepoint  VARCHAR NOT NULL,       -- PortWatch id, e.g. chokepoint1
    name        VARCHAR NOT NULL,
    day         DATE NOT NULL,
    n_total     DOUBLE,
    n_tanker    DOUBLE,
    n_container DOUBLE,
    n_cargo     DOUBLE,
    capacity    DOUBLE,
    file_name   VARCHAR NOT NULL,
    file_sha256 VARCHAR NOT NULL,
    ingested_at TIMESTAMP NOT NULL,
    PRIMARY KEY (source_id, chokepoint, day)
);
