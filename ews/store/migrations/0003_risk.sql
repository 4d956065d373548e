-- Text stage: the lexicon terms that fired, for the glossed evidence (JSON list).
ALTER TABLE events ADD COLUMN matched VARCHAR;

-- Risk stage: assessments name their unit (family, supplier, importer) and keep the
-- structural figure used; alerts keep their full record as JSON for export and explain.
ALTER TABLE assessments ADD COLUMN item_group VARCHAR;
ALTER TABLE assessments ADD COLUMN structure VARCHAR;
ALTER TABLE alerts ADD COLUMN payload VARCHAR;
ALTER TABLE alerts ADD COLUMN item_group VARCHAR;
