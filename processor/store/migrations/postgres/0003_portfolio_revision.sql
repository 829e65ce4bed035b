-- tcgtracker app store on PostgreSQL, migration 3: a portfolio's revision, as the SQLite
-- migration 0007 keeps it: a number the database raises with every write to the portfolio's
-- holdings and events (triggers, so every writer and every instance is counted), so a reader can
-- tell that a portfolio is unchanged by reading one row. The query API keys its cached value
-- histories by it.
ALTER TABLE portfolios ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION portfolio_raise_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE portfolios SET revision = revision + 1 WHERE portfolio_id = OLD.portfolio_id;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.portfolio_id IS DISTINCT FROM OLD.portfolio_id) THEN
        UPDATE portfolios SET revision = revision + 1 WHERE portfolio_id = NEW.portfolio_id;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER holdings_raise_revision AFTER INSERT OR UPDATE OR DELETE ON holdings
    FOR EACH ROW EXECUTE FUNCTION portfolio_raise_revision();
CREATE TRIGGER portfolio_events_raise_revision AFTER INSERT OR UPDATE OR DELETE ON portfolio_events
    FOR EACH ROW EXECUTE FUNCTION portfolio_raise_revision();
