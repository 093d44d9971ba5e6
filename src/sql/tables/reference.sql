-- Reference data.  Rows shipped by the extension are marked builtin.  pg_dump
-- carries every row, so that a DBA's change to a built-in row (a payment
-- method switched off) survives a restore; see _restore_builtin below.
CREATE TABLE paycore.currencies (
    code        text PRIMARY KEY CHECK (code ~ '^[A-Z]{3}$'),
    minor_unit  smallint NOT NULL CHECK (minor_unit BETWEEN 0 AND 4),
    name        text NOT NULL,
    builtin     boolean NOT NULL DEFAULT false
);

INSERT INTO paycore.currencies (code, minor_unit, name, builtin) VALUES
    ('CNY', 2, 'Chinese yuan', true),
    ('USD', 2, 'US dollar', true),
    ('EUR', 2, 'Euro', true),
    ('GBP', 2, 'Pound sterling', true),
    ('HKD', 2, 'Hong Kong dollar', true),
    ('SGD', 2, 'Singapore dollar', true),
    ('AUD', 2, 'Australian dollar', true),
    ('CAD', 2, 'Canadian dollar', true),
    ('CHF', 2, 'Swiss franc', true),
    ('TWD', 2, 'New Taiwan dollar', true),
    ('JPY', 0, 'Japanese yen', true),
    ('KRW', 0, 'South Korean won', true),
    ('KWD', 3, 'Kuwaiti dinar', true),
    ('BHD', 3, 'Bahraini dinar', true);

SELECT pg_catalog.pg_extension_config_dump('paycore.currencies', '');

CREATE TABLE paycore.payment_methods (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{0,31}$'),
    description text NOT NULL,
    enabled     boolean NOT NULL DEFAULT true,
    builtin     boolean NOT NULL DEFAULT false
);

INSERT INTO paycore.payment_methods (code, description, builtin) VALUES
    ('card', 'Bank card', true),
    ('alipay', 'Alipay', true),
    ('wechat_pay', 'WeChat Pay', true),
    ('bank_transfer', 'Bank transfer', true);

SELECT pg_catalog.pg_extension_config_dump('paycore.payment_methods', '');

-- A restore meets the built-in rows that CREATE EXTENSION has just seeded: a
-- built-in row arriving again overwrites its seeded twin instead of failing
-- on the primary key.
CREATE FUNCTION paycore._restore_builtin() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_set text;
BEGIN
    IF NOT NEW.builtin THEN
        RETURN NEW;
    END IF;
    SELECT string_agg(format('%I = n.%I', a.attname, a.attname), ', ') INTO v_set
      FROM pg_attribute a
     WHERE a.attrelid = TG_RELID AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> 'code';
    EXECUTE format('UPDATE %s t SET %s FROM (SELECT ($1::%s).*) n WHERE t.code = n.code AND t.builtin',
                   TG_RELID::regclass, v_set, TG_RELID::regclass)
        USING NEW;
    IF FOUND THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER currencies_restore_builtin BEFORE INSERT ON paycore.currencies
    FOR EACH ROW EXECUTE FUNCTION paycore._restore_builtin();
CREATE TRIGGER payment_methods_restore_builtin BEFORE INSERT ON paycore.payment_methods
    FOR EACH ROW EXECUTE FUNCTION paycore._restore_builtin();
