-- Owners, API keys, uploads, the job index and webhook deliveries.
-- Job state itself lives in one Durable Object per job; `jobs` mirrors it for listing.
CREATE TABLE owners (
  id TEXT PRIMARY KEY,
  created_at TEXT NOT NULL,
  webhook_secret TEXT NOT NULL,
  webhook_secret_prev TEXT,
  webhook_secret_prev_until TEXT
);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL REFERENCES owners(id),
  name TEXT NOT NULL,
  prefix TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  scopes TEXT NOT NULL,
  created_at TEXT NOT NULL,
  revoked_at TEXT
);
CREATE INDEX api_keys_owner ON api_keys(owner_id, created_at);

CREATE TABLE uploads (
  id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL,
  content_type TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  status TEXT NOT NULL,
  r2_key TEXT NOT NULL,
  sha256 TEXT,
  width INTEGER,
  height INTEGER,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE INDEX uploads_expiry ON uploads(expires_at);

CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL,
  model TEXT NOT NULL,
  status TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX jobs_owner_created ON jobs(owner_id, created_at DESC, id DESC);
CREATE INDEX jobs_owner_updated ON jobs(owner_id, updated_at, id);

CREATE TABLE webhook_deliveries (
  id TEXT PRIMARY KEY,
  job_id TEXT NOT NULL,
  owner_id TEXT NOT NULL,
  type TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  url TEXT NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_status_code INTEGER,
  last_error TEXT,
  next_attempt_at TEXT,
  created_at TEXT NOT NULL,
  delivered_at TEXT
);
CREATE INDEX webhook_deliveries_job ON webhook_deliveries(job_id, sequence);
