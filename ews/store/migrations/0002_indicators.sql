-- EWS store, version 2: stored indicator results with their provenance.
-- A run is one computation of one kind of indicator; its id is a hash of the kind, the
-- parameters and the input files, so the same inputs and parameters give the same run and
-- re-running replaces its rows instead of piling up copies.

CREATE TABLE indicator_runs (
    run_id       VARCHAR PRIMARY KEY,
    kind         VARCHAR NOT NULL,   -- dependence | trade | prices
    params       VARCHAR NOT NULL,   -- JSON: detector or criteria parameters, filters
    inputs       VARCHAR NOT NULL,   -- JSON list: {source_id, file_name, file_sha256, rows}
    warnings     VARCHAR NOT NULL,   -- JSON list of strings: what was left out and why
    engine       VARCHAR NOT NULL,   -- duckdb | pyspark
    code_version VARCHAR NOT NULL,
    summary      VARCHAR NOT NULL,   -- JSON: counts (series, periods scored, flags, gaps)
    created_at   TIMESTAMP NOT NULL
);

CREATE TABLE dependence_results (
    run_id                   VARCHAR NOT NULL,
    importer                 VARCHAR NOT NULL,
    product_key              VARCHAR NOT NULL,
    year                     INTEGER NOT NULL,
    import_value             DOUBLE NOT NULL,
    import_quantity          DOUBLE,
    n_suppliers              INTEGER NOT NULL,
    top_supplier             VARCHAR NOT NULL,
    top_share                DOUBLE NOT NULL,
    hhi                      DOUBLE NOT NULL,
    world_export_hhi         DOUBLE,
    export_value             DOUBLE NOT NULL,
    import_export_ratio      DOUBLE,
    crit_import_hhi          BOOLEAN NOT NULL,
    crit_world_export_hhi    BOOLEAN NOT NULL,
    crit_import_export_ratio BOOLEAN NOT NULL,
    criteria_met             BOOLEAN NOT NULL,
    years_met                INTEGER NOT NULL,
    dependent                BOOLEAN NOT NULL,
    korea_rule               BOOLEAN NOT NULL,
    months                   INTEGER NOT NULL,   -- months covered (12 for annual data)
    basis                    VARCHAR NOT NULL,   -- reported | mirror | mixed
    PRIMARY KEY (run_id, importer, product_key, year)
);

CREATE TABLE anomalies (
    run_id     VARCHAR NOT NULL,
    series_key VARCHAR NOT NULL,
    period     DATE NOT NULL,
    method     VARCHAR NOT NULL,
    kind       VARCHAR NOT NULL,
    value      DOUBLE NOT NULL,
    baseline   DOUBLE,
    score      DOUBLE NOT NULL,
    threshold  DOUBLE NOT NULL,
    parameters VARCHAR NOT NULL,   -- JSON
    details    VARCHAR NOT NULL,   -- JSON: component scores and features
    PRIMARY KEY (run_id, series_key, period, method)
);
