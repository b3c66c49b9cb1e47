-- Input blobs whose last job or upload went away while the blob was freshly written:
-- a job being created at that moment may be about to use it, so the delete waits a
-- grace period and is decided again by the cron sweep.
CREATE TABLE blob_releases (
  r2_key TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL,
  check_after TEXT NOT NULL
);
CREATE INDEX blob_releases_due ON blob_releases(check_after);
