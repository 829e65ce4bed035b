//! Collectors (see issue "Collectors for TCGplayer, TCGCSV, eBay and FX rates, and the market simulator").
