-- Reference data.  Rows shipped by the extension are marked builtin so that
-- pg_dump carries only the rows a DBA added (CREATE EXTENSION re-creates the
-- rest).
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

SELECT pg_catalog.pg_extension_config_dump('paycore.currencies', 'WHERE NOT builtin');

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

SELECT pg_catalog.pg_extension_config_dump('paycore.payment_methods', 'WHERE NOT builtin');
