-- Run once by the postgres image on a new cluster: pgvector in Conclave's database (the Knowledge module).
CREATE EXTENSION IF NOT EXISTS vector;
