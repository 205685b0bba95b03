-- 0001: models, their immutable versions, the live/previous pointers, and the append-only audit log.
--
-- Contract (packages/registry/src/registry.ts relies on it):
-- * Every change to a model or its versions locks the model row first (SELECT ... FOR UPDATE), so
--   changes to one model are serialized and version numbers are handed out without gaps or clashes.
-- * A version row never changes after it is written, except its state (trigger below).
-- * audit_events only ever grows (trigger below); it has no foreign key, so deleting a model keeps
--   its history.
-- Written for PostgreSQL 15 and later (real servers) and PGlite: no syntax newer than 15.

CREATE TABLE models (
  name             text PRIMARY KEY
                   CONSTRAINT models_name_rule CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$'),
  tenant           text NOT NULL DEFAULT 'default',
  platform         text,
  algorithm        text,
  description      text NOT NULL DEFAULT '',
  labels           jsonb NOT NULL DEFAULT '{}'::jsonb
                   CONSTRAINT models_labels_object CHECK (jsonb_typeof(labels) = 'object'),
  live_version     integer,
  previous_version integer,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT models_previous_not_live CHECK (previous_version IS DISTINCT FROM live_version OR live_version IS NULL)
);

CREATE INDEX models_tenant ON models (tenant, name);

CREATE TABLE model_versions (
  model            text NOT NULL REFERENCES models (name) ON DELETE CASCADE,
  version          integer NOT NULL CONSTRAINT model_versions_positive CHECK (version > 0),
  artifact_sha256  text NOT NULL CONSTRAINT model_versions_sha256 CHECK (artifact_sha256 ~ '^[0-9a-f]{64}$'),
  artifact_size    bigint NOT NULL CONSTRAINT model_versions_size CHECK (artifact_size >= 0),
  filename         text NOT NULL,
  format           text NOT NULL CONSTRAINT model_versions_format CHECK (format IN ('onnx-file', 'tar.gz')),
  signature        jsonb NOT NULL CONSTRAINT model_versions_signature_object CHECK (jsonb_typeof(signature) = 'object'),
  config           jsonb,
  created_by       text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  state            text NOT NULL DEFAULT 'registered'
                   CONSTRAINT model_versions_state CHECK (state IN ('registered', 'loading', 'ready', 'failed', 'retired')),
  state_reason     text NOT NULL DEFAULT '',
  state_changed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (model, version)
);

-- findVersionBySha: idempotent imports look a file up by content.
CREATE INDEX model_versions_sha256 ON model_versions (model, artifact_sha256);

-- The pointers name versions of the same model. NO ACTION (checked at the end of the statement) lets
-- DELETE FROM models cascade to the versions the row itself points at.
ALTER TABLE models
  ADD CONSTRAINT models_live_version_fk FOREIGN KEY (name, live_version) REFERENCES model_versions (model, version),
  ADD CONSTRAINT models_previous_version_fk FOREIGN KEY (name, previous_version) REFERENCES model_versions (model, version);

CREATE FUNCTION sibyl_model_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (NEW.model, NEW.version, NEW.artifact_sha256, NEW.artifact_size, NEW.filename, NEW.format,
      NEW.signature, NEW.config, NEW.created_by, NEW.created_at)
     IS DISTINCT FROM
     (OLD.model, OLD.version, OLD.artifact_sha256, OLD.artifact_size, OLD.filename, OLD.format,
      OLD.signature, OLD.config, OLD.created_by, OLD.created_at) THEN
    RAISE EXCEPTION 'model version %/% is immutable: only its state may change', OLD.model, OLD.version
      USING ERRCODE = 'restrict_violation';
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER model_versions_immutable BEFORE UPDATE ON model_versions
  FOR EACH ROW EXECUTE FUNCTION sibyl_model_versions_immutable();

CREATE TABLE audit_events (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  actor       text NOT NULL,
  model       text NOT NULL,
  action      text NOT NULL,
  from_value  text,
  to_value    text,
  detail      jsonb NOT NULL DEFAULT '{}'::jsonb
);

-- events(model, { before, limit }): newest first, paged by id.
CREATE INDEX audit_events_model_id ON audit_events (model, id DESC);

CREATE FUNCTION sibyl_audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only: % is refused', TG_OP
    USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION sibyl_audit_events_append_only();

CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION sibyl_audit_events_append_only();
