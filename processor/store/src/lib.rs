//! Tick store (see issue "Tick store: the embedded SQLite default and QuestDB, behind one contract").
