-- Text stage: the country a measure is aimed at ("exports to the US", "한국에 대한 수출 규제"),
-- so a control aimed at one watching country reaches that country's view.
ALTER TABLE events ADD COLUMN target VARCHAR;
