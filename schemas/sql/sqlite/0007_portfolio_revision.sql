-- A portfolio's revision: a number the database raises with every write to the portfolio's
-- holdings and events (triggers, so every writer and every process is counted), so a reader can
-- tell that a portfolio is unchanged by reading one row instead of all its holdings and events.
-- The query API keys its cached value histories by it.
ALTER TABLE portfolios ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER holdings_raise_revision_on_insert AFTER INSERT ON holdings BEGIN
    UPDATE portfolios SET revision = revision + 1 WHERE portfolio_id = NEW.portfolio_id;
END;
CREATE TRIGGER holdings_raise_revision_on_update AFTER UPDATE ON holdings BEGIN
    UPDATE portfolios SET revision = revision + 1
    WHERE portfolio_id IN (OLD.portfolio_id, NEW.portfolio_id);
END;
CREATE TRIGGER holdings_raise_revision_on_delete AFTER DELETE ON holdings BEGIN
    UPDATE portfolios SET revision = revision + 1 WHERE portfolio_id = OLD.portfolio_id;
END;
CREATE TRIGGER portfolio_events_raise_revision_on_insert AFTER INSERT ON portfolio_events BEGIN
    UPDATE portfolios SET revision = revision + 1 WHERE portfolio_id = NEW.portfolio_id;
END;
CREATE TRIGGER portfolio_events_raise_revision_on_update AFTER UPDATE ON portfolio_events BEGIN
    UPDATE portfolios SET revision = revision + 1
    WHERE portfolio_id IN (OLD.portfolio_id, NEW.portfolio_id);
END;
CREATE TRIGGER portfolio_events_raise_revision_on_delete AFTER DELETE ON portfolio_events BEGIN
    UPDATE portfolios SET revision = revision + 1 WHERE portfolio_id = OLD.portfolio_id;
END;
