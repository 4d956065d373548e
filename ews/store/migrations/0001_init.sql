-- EWS store, version 1. Written in the SQL that DuckDB and PostgreSQL share, so the same
-- migrations serve the embedded default and a shared server. JSON lives in VARCHAR columns.

CREATE TABLE meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);

CREATE TABLE item_groups (
    id      VARCHAR PRIMARY KEY,
    sector  VARCHAR NOT NULL,
    names   VARCHAR NOT NULL,   -- JSON {name_key: name}
    aliases VARCHAR NOT NULL    -- JSON {name_key: [alias, ...]}
);

CREATE TABLE items (
    hs             VARCHAR PRIMARY KEY,
    group_id       VARCHAR NOT NULL,
    sector         VARCHAR NOT NULL,
    name_en        VARCHAR NOT NULL,
    name_ko        VARCHAR NOT NULL,
    name_ja        VARCHAR NOT NULL,
    name_zh_hans   VARCHAR NOT NULL,
    name_zh_hant   VARCHAR NOT NULL,
    name_vi        VARCHAR NOT NULL,
    aliases        VARCHAR NOT NULL,
    note           VARCHAR NOT NULL,
    hs_description VARCHAR NOT NULL
);

CREATE TABLE countries (
    iso2         VARCHAR PRIMARY KEY,
    iso3         VARCHAR NOT NULL UNIQUE,
    numeric_code VARCHAR NOT NULL,
    region       VARCHAR NOT NULL,
    subregion    VARCHAR NOT NULL,
    name_en      VARCHAR NOT NULL,
    name_ko      VARCHAR NOT NULL,
    name_ja      VARCHAR NOT NULL,
    name_zh_hans VARCHAR NOT NULL,
    name_zh_hant VARCHAR NOT NULL,
    name_vi      VARCHAR NOT NULL,
    aliases      VARCHAR NOT NULL
);

CREATE TABLE sources (
    id          VARCHAR PRIMARY KEY,
    name        VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,   -- prices | trade | news | notices
    format      VARCHAR NOT NULL,
    licence     VARCHAR NOT NULL,
    url         VARCHAR NOT NULL,
    description VARCHAR NOT NULL
);

-- One row per (file content, source) ingested: the idempotency ledger.
CREATE TABLE ingested_files (
    file_sha256    VARCHAR NOT NULL,
    source_id      VARCHAR NOT NULL,
    file_name      VARCHAR NOT NULL,
    bytes          BIGINT NOT NULL,
    rows_read      BIGINT NOT NULL,
    rows_new       BIGINT NOT NULL,
    rows_changed   BIGINT NOT NULL,
    rows_unchanged BIGINT NOT NULL,
    ingested_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (file_sha256, source_id)
);

CREATE TABLE documents (
    doc_id         VARCHAR PRIMARY KEY,
    source_id      VARCHAR NOT NULL,
    lang           VARCHAR,
    title          VARCHAR NOT NULL,
    body           VARCHAR NOT NULL,
    published      TIMESTAMP,
    link           VARCHAR,
    content_sha256 VARCHAR NOT NULL,
    file_name      VARCHAR NOT NULL,
    file_sha256    VARCHAR NOT NULL,
    row_no         BIGINT NOT NULL,
    ingested_at    TIMESTAMP NOT NULL
);

CREATE TABLE price_observations (
    source_id   VARCHAR NOT NULL,
    series_id   VARCHAR NOT NULL,
    freq        VARCHAR NOT NULL,
    period      DATE NOT NULL,
    series_name VARCHAR NOT NULL,
    hs          VARCHAR,
    value       DOUBLE NOT NULL,
    unit        VARCHAR NOT NULL,
    file_name   VARCHAR NOT NULL,
    file_sha256 VARCHAR NOT NULL,
    row_no      BIGINT NOT NULL,
    col         VARCHAR,
    ingested_at TIMESTAMP NOT NULL,
    PRIMARY KEY (source_id, series_id, freq, period)
);

CREATE TABLE trade_observations (
    source_id     VARCHAR NOT NULL,
    reporter      VARCHAR NOT NULL,
    partner       VARCHAR NOT NULL,
    flow          VARCHAR NOT NULL,
    freq          VARCHAR NOT NULL,
    period        DATE NOT NULL,
    product_key   VARCHAR NOT NULL,   -- hs code, or 'group:<id>' when the source reports a family
    hs            VARCHAR,
    item_group    VARCHAR,
    value_usd     DOUBLE NOT NULL,
    quantity      DOUBLE,
    quantity_unit VARCHAR,
    file_name     VARCHAR NOT NULL,
    file_sha256   VARCHAR NOT NULL,
    row_no        BIGINT NOT NULL,
    col           VARCHAR,
    ingested_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (source_id, reporter, partner, flow, freq, period, product_key)
);

CREATE TABLE events (
    event_id          VARCHAR PRIMARY KEY,
    doc_id            VARCHAR NOT NULL,
    source_id         VARCHAR NOT NULL,
    lang              VARCHAR NOT NULL,
    event_type        VARCHAR NOT NULL,
    country           VARCHAR,
    event_date        DATE NOT NULL,
    evidence          VARCHAR NOT NULL,
    confidence        DOUBLE NOT NULL,
    cluster_id        VARCHAR,
    extractor_version VARCHAR NOT NULL,
    created_at        TIMESTAMP NOT NULL
);

CREATE TABLE event_items (
    event_id VARCHAR NOT NULL,
    hs       VARCHAR NOT NULL,
    PRIMARY KEY (event_id, hs)
);

CREATE TABLE assessments (
    assessment_id  VARCHAR PRIMARY KEY,
    hs             VARCHAR NOT NULL,
    supplier       VARCHAR,
    importer       VARCHAR,
    as_of          DATE NOT NULL,
    score          DOUBLE NOT NULL,
    level          VARCHAR NOT NULL,
    explanation    VARCHAR NOT NULL,   -- JSON list of contributions with their evidence
    config_version VARCHAR NOT NULL,
    created_at     TIMESTAMP NOT NULL
);

CREATE TABLE alerts (
    alert_id    VARCHAR NOT NULL,
    version     INTEGER NOT NULL,
    hs          VARCHAR NOT NULL,
    supplier    VARCHAR,
    importer    VARCHAR,
    level       VARCHAR NOT NULL,
    msg_type    VARCHAR NOT NULL,   -- Alert | Update | Cancel (CAP 1.2)
    tlp         VARCHAR NOT NULL,
    refs        VARCHAR NOT NULL,   -- JSON list of earlier versions referenced
    summary     VARCHAR NOT NULL,
    evidence    VARCHAR NOT NULL,   -- JSON
    origin_node VARCHAR NOT NULL,
    sent        TIMESTAMP NOT NULL,
    PRIMARY KEY (alert_id, version)
);

CREATE TABLE partners (
    name       VARCHAR PRIMARY KEY,
    url        VARCHAR NOT NULL,
    public_key VARCHAR NOT NULL,
    tlp_max    VARCHAR NOT NULL,
    active     BOOLEAN NOT NULL,
    added_at   TIMESTAMP NOT NULL
);

-- Append-only, hash-chained: each row's hash covers the previous row's hash.
CREATE TABLE audit_log (
    seq       BIGINT PRIMARY KEY,
    ts        TIMESTAMP NOT NULL,
    actor     VARCHAR NOT NULL,
    action    VARCHAR NOT NULL,
    subject   VARCHAR NOT NULL,
    detail    VARCHAR NOT NULL,   -- JSON
    prev_hash VARCHAR NOT NULL,
    hash      VARCHAR NOT NULL
);
