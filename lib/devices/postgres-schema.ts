/**
 * The PostgreSQL tables of the device source and the audit sink. `ensure…` runs these idempotently when a
 * pool first connects (an operator may also run them by hand; README "Running more than one").
 */

/** Device rows; every change notifies channel `lwm2m_devices` with the old and the new keys of the row. */
export const DEVICES_SCHEMA = `
CREATE TABLE IF NOT EXISTS lwm2m_devices (
  endpoint        text PRIMARY KEY,
  psk_identity    text UNIQUE,
  psk_key         bytea,
  imei            text,
  iccid           text,
  profile         text,
  template_values jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX IF NOT EXISTS lwm2m_devices_imei ON lwm2m_devices (imei);
CREATE INDEX IF NOT EXISTS lwm2m_devices_iccid ON lwm2m_devices (iccid);
CREATE OR REPLACE FUNCTION lwm2m_devices_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM pg_notify('lwm2m_devices', '{"all":true}');
    RETURN NULL;
  END IF;
  IF TG_OP <> 'INSERT' THEN
    PERFORM pg_notify('lwm2m_devices', json_build_object('endpoint', OLD.endpoint, 'identity', OLD.psk_identity, 'imei', OLD.imei, 'iccid', OLD.iccid)::text);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    PERFORM pg_notify('lwm2m_devices', json_build_object('endpoint', NEW.endpoint, 'identity', NEW.psk_identity, 'imei', NEW.imei, 'iccid', NEW.iccid)::text);
  END IF;
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS lwm2m_devices_notify ON lwm2m_devices;
CREATE TRIGGER lwm2m_devices_notify AFTER INSERT OR UPDATE OR DELETE ON lwm2m_devices
  FOR EACH ROW EXECUTE FUNCTION lwm2m_devices_notify();
DROP TRIGGER IF EXISTS lwm2m_devices_notify_truncate ON lwm2m_devices;
CREATE TRIGGER lwm2m_devices_notify_truncate AFTER TRUNCATE ON lwm2m_devices
  FOR EACH STATEMENT EXECUTE FUNCTION lwm2m_devices_notify();
`;

/**
 * One row per ended session or pack request. The session id is a random UUID made by the instance that
 * ran the session, so it is the key across instances; a batch retried after a lost answer inserts nothing
 * twice (ON CONFLICT DO NOTHING).
 */
export const AUDIT_SCHEMA = `
CREATE TABLE IF NOT EXISTS lwm2m_audit (
  session_id  text PRIMARY KEY,
  kind        text NOT NULL,
  endpoint    text NOT NULL,
  outcome     text,
  listener_id text,
  instance    text,
  peer        text,
  started_at  timestamptz,
  ended_at    timestamptz,
  record      jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS lwm2m_audit_endpoint ON lwm2m_audit (endpoint, ended_at);
CREATE INDEX IF NOT EXISTS lwm2m_audit_ended ON lwm2m_audit (ended_at);
`;
