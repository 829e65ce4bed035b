-- The fair value's confidence and the sources that agree with it, kept with the tick and with
-- the latest price of each (series, source, kind), so latest prices can serve them.
-- `agreeing`: source names joined by commas (`ebay_sold,tcgcsv,tcgplayer`), NULL when none.
ALTER TABLE ticks ADD COLUMN agreeing TEXT;
ALTER TABLE latest ADD COLUMN confidence INTEGER;
ALTER TABLE latest ADD COLUMN agreeing TEXT;
