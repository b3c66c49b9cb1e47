-- Every webhook secret retired by a rotation keeps signing beside the current one for its
-- own 24 hours (owners.webhook_secret_prev held only one: a second rotation dropped the
-- first at once). The previous secret still in its overlap moves here.
CREATE TABLE retired_webhook_secrets (
  owner_id TEXT NOT NULL,
  secret TEXT NOT NULL,
  valid_until TEXT NOT NULL,
  PRIMARY KEY (owner_id, secret)
);
INSERT INTO retired_webhook_secrets (owner_id, secret, valid_until)
  SELECT id, webhook_secret_prev, webhook_secret_prev_until FROM owners
  WHERE webhook_secret_prev IS NOT NULL AND webhook_secret_prev_until IS NOT NULL;
