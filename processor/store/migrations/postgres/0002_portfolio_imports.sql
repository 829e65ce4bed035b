-- tcgtracker app store on PostgreSQL, migration 2: which holdings each CSV import created, as the
-- SQLite migration 0005 keeps it, so that an import can be undone as a whole. One row per
-- (import, holding); undoing deletes the holdings, their events and these rows; deleting the
-- portfolio deletes its rows too.
CREATE TABLE portfolio_imports (
    import_id    TEXT COLLATE "C" NOT NULL,
    portfolio_id TEXT COLLATE "C" NOT NULL,
    holding_id   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (import_id, holding_id)
);
CREATE INDEX portfolio_imports_portfolio ON portfolio_imports (portfolio_id, import_id);
