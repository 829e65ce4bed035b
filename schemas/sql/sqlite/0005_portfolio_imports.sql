-- Which holdings each CSV import created (`POST /v1/portfolios/{id}/import`), so that the import
-- can be undone as a whole (`DELETE /v1/portfolios/{id}/imports/{import_id}`): one row per
-- (import, holding). Undoing deletes the holdings, their events and these rows; deleting the
-- portfolio deletes its rows too. An import that created nothing has no rows. `IF NOT EXISTS`: a
-- file set back to an older version (as tests/rollups.rs does) applies it again.
CREATE TABLE IF NOT EXISTS portfolio_imports (
    import_id    TEXT NOT NULL,
    portfolio_id TEXT NOT NULL,
    holding_id   TEXT NOT NULL,
    PRIMARY KEY (import_id, holding_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS portfolio_imports_portfolio ON portfolio_imports (portfolio_id, import_id);
