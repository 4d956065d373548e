-- EWS store, version 6: API keys may expire (ews keys create NAME --expires 90d).
-- NULL: the key never expires (every key created before this version).
ALTER TABLE api_keys ADD COLUMN expires_at TIMESTAMP;
