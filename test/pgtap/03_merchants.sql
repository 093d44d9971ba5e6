-- Merchants: create_merchant, set_notify_url and rotate_signing_secret.  The
-- signing secret is random, shown once and stored only encrypted; notify_url
-- is an http(s) URL without user-info of at most 2048 characters.
BEGIN;
CREATE EXTENSION IF NOT EXISTS paycore CASCADE;

\ir helpers.psql

CREATE FUNCTION pg_temp.decrypt(b bytea) RETURNS text
LANGUAGE sql AS $$ SELECT pgp_sym_decrypt(b, current_setting('paycore.encryption_key')) $$;

SELECT plan(79);

-- ---------------------------------------------------------------------------
-- create_merchant returns (merchant_id, signing_secret) once.
CREATE TEMP TABLE m1 AS SELECT * FROM paycore.create_merchant('Shop One', 'https://shop.example.com/notify');
CREATE TEMP TABLE m2 AS SELECT * FROM paycore.create_merchant('Shop Two', 'http://shop2.example.com/cb');

SELECT is((SELECT count(*) FROM m1), 1::bigint, 'create_merchant returns one row');
SELECT results_eq($$SELECT id, name, notify_url FROM paycore.merchants WHERE id = (SELECT merchant_id FROM m1)$$,
    $$SELECT (SELECT merchant_id FROM m1), 'Shop One'::text, 'https://shop.example.com/notify'::text$$,
    'merchant_id is the new row, with the name and notify_url given');
SELECT matches((SELECT signing_secret FROM m1), '^whsec_[0-9a-f]{64}$',
    'the secret is whsec_ and 64 hex digits (32 random bytes)');
SELECT matches((SELECT signing_secret FROM m2), '^whsec_[0-9a-f]{64}$', 'the second secret has the same form');
SELECT isnt((SELECT signing_secret FROM m1), (SELECT signing_secret FROM m2), 'two merchants get different secrets');
SELECT isnt((SELECT merchant_id FROM m1), (SELECT merchant_id FROM m2), 'two merchants get different ids');
SELECT is((SELECT count(DISTINCT signing_secret)
             FROM generate_series(1, 20) g, paycore.create_merchant('Batch ' || g, 'https://batch.example/cb') m),
    20::bigint, '20 more merchants get 20 different secrets');

-- Stored only encrypted.
SELECT is((SELECT pg_temp.decrypt(signing_secret_encrypted) FROM paycore.merchants WHERE id = (SELECT merchant_id FROM m1)),
    (SELECT signing_secret FROM m1), 'signing_secret_encrypted decrypts with the server key to the secret');
SELECT is((SELECT pg_temp.decrypt(signing_secret_encrypted) FROM paycore.merchants WHERE id = (SELECT merchant_id FROM m2)),
    (SELECT signing_secret FROM m2), 'so does the second merchant''s');
SELECT is(pg_temp.rows_containing((SELECT signing_secret FROM m1)), 0::bigint,
    'the secret is in no column of any paycore table');
SELECT is(pg_temp.rows_containing(substr((SELECT signing_secret FROM m1), 7)), 0::bigint,
    'nor its hex digits without the prefix');
SELECT is((SELECT position(convert_to((SELECT signing_secret FROM m1), 'UTF8') IN signing_secret_encrypted)
             FROM paycore.merchants WHERE id = (SELECT merchant_id FROM m1)),
    0, 'signing_secret_encrypted does not hold the secret as bytes');
SELECT ok((SELECT previous_secret_encrypted IS NULL AND secret_rotated_at IS NULL
             FROM paycore.merchants WHERE id = (SELECT merchant_id FROM m1)),
    'a new merchant has no previous secret and no rotation time');

-- ---------------------------------------------------------------------------
-- Merchant name: 1..128 characters, not blank.
SELECT lives_ok($$SELECT paycore.create_merchant('A', 'https://a.example/')$$, 'name of 1 character is accepted');
SELECT lives_ok($$SELECT paycore.create_merchant(repeat('x', 128), 'https://a.example/')$$, 'name of 128 characters is accepted');
SELECT lives_ok($$SELECT paycore.create_merchant(repeat('商', 128), 'https://a.example/')$$,
    'name of 128 three-byte characters is accepted');
SELECT lives_ok($$SELECT paycore.create_merchant('张三的店 - Shop #1', 'https://a.example/')$$,
    'name with CJK, digits and punctuation is accepted');
SELECT throws_ok($$SELECT paycore.create_merchant('', 'https://badname.example/')$$,
    '22023', 'invalid name', 'empty name is 22023');
SELECT throws_ok($$SELECT paycore.create_merchant('   ', 'https://badname.example/')$$,
    '22023', 'invalid name', 'blank name is 22023');
SELECT throws_ok($$SELECT paycore.create_merchant(repeat('x', 129), 'https://badname.example/')$$,
    '22023', 'invalid name', 'name of 129 characters is 22023');
SELECT throws_ok($$SELECT paycore.create_merchant(repeat('商', 129), 'https://badname.example/')$$,
    '22023', 'invalid name', 'name of 129 three-byte characters is 22023');
SELECT throws_ok($$SELECT paycore.create_merchant(NULL, 'https://badname.example/')$$,
    '22004', NULL, 'NULL name is 22004');
SELECT is((SELECT count(*) FROM paycore.merchants WHERE notify_url = 'https://badname.example/'), 0::bigint,
    'no row was written for any rejected name');

-- ---------------------------------------------------------------------------
-- notify_url: http or https, no user-info, at most 2048 characters.
SELECT lives_ok($$SELECT paycore.create_merchant('Url', 'http://example.com/cb')$$, 'http URL is accepted');
SELECT lives_ok($$SELECT paycore.create_merchant('Url', 'https://example.com:8443/pay/notify?x=1&y=2')$$,
    'https URL with port and query is accepted');
SELECT lives_ok($$SELECT paycore.create_merchant('Url', 'http://127.0.0.1:8080/cb')$$, 'IPv4 host is accepted');
SELECT lives_ok($$SELECT paycore.create_merchant('Url', 'https://[::1]/cb')$$, 'IPv6 host is accepted');
SELECT lives_ok($$SELECT paycore.create_merchant('Url', 'HTTPS://EXAMPLE.COM/CB')$$,
    'the scheme is case-insensitive (HTTPS://)');
SELECT lives_ok($$SELECT paycore.create_merchant('Url', 'https://example.com/' || repeat('a', 2028))$$,
    'URL of 2048 characters is accepted');
SELECT lives_ok($$SELECT paycore.create_merchant('Url', 'https://example.com/' || repeat('é', 10))$$,
    'URL with non-ASCII characters in the path is accepted');
-- characters, not bytes: this one is 2048 characters and 4076 bytes
SELECT lives_ok($$SELECT paycore.create_merchant('Url', 'https://example.com/' || repeat('é', 2028))$$,
    'URL of 2048 two-byte characters is accepted');
SELECT is((SELECT notify_url FROM paycore.merchants WHERE name = 'Url' AND notify_url LIKE 'https://example.com:8443%'),
    'https://example.com:8443/pay/notify?x=1&y=2', 'notify_url is stored as given');

SELECT throws_ok($$SELECT paycore.create_merchant('Bad URL', 'https://example.com/' || repeat('a', 2029))$$,
    '22023', 'invalid notify_url', 'URL of 2049 characters is 22023');
SELECT throws_ok($$SELECT paycore.create_merchant('Bad URL', 'ftp://example.com/cb')$$,
    '22023', 'invalid notify_url', 'ftp:// is 22023');
SELECT throws_ok($$SELECT paycore.create_merchant('Bad URL', 'javascript:alert(1)')$$,
    '22023', 'invalid notify_url', 'javascript: is 22023');
SELECT throws_ok($$SELECT paycore.create_merchant('Bad URL', 'file:///etc/passwd')$$,
    '22023', 'invalid notify_url', 'file:// is 22023');
SELECT throws_ok($$SELECT paycore.create_merchant('Bad URL', 'mailto:ops@example.com')$$,
    '22023', 'invalid notify_url', 'mailto: is 22023');
SELECT throws_ok($$SELECT paycore.create_merchant('Bad URL', 'data:text/html,hello')$$,
    '22023', 'invalid notify_url', 'data: is 22023');
SELECT throws_ok($$SELECT paycore.create_merchant('Bad URL', '/pay/notify')$$,
    '22023', 'invalid notify_url', 'a relative URL is 22023');
SELECT throws_ok($$SELECT paycore.create_merchant('Bad URL', '//example.com/cb')$$,
    '22023', 'invalid notify_url', 'a scheme-relative URL is 22023');
SELECT throws_ok($$SELECT paycore.create_merchant('Bad URL', 'example.com/cb')$$,
    '22023', 'invalid notify_url', 'a URL without a scheme is 22023');
SELECT throws_ok($$SELECT paycore.create_merchant('Bad URL', 'http://user:pw@example.com/')$$,
    '22023', 'invalid notify_url', 'user and password in the URL are 22023');
SELECT throws_ok($$SELECT paycore.create_merchant('Bad URL', 'http://user@example.com/')$$,
    '22023', 'invalid notify_url', 'a user in the URL is 22023');
SELECT throws_ok($$SELECT paycore.create_merchant('Bad URL', 'https://:pw@example.com/')$$,
    '22023', 'invalid notify_url', 'a password alone in the URL is 22023');
SELECT throws_ok($$SELECT paycore.create_merchant('Bad URL', 'http://')$$,
    '22023', 'invalid notify_url', 'a URL without a host is 22023');
SELECT throws_ok($$SELECT paycore.create_merchant('Bad URL', '')$$,
    '22023', 'invalid notify_url', 'an empty URL is 22023');
SELECT throws_ok($$SELECT paycore.create_merchant('Bad URL', NULL)$$,
    '22004', NULL, 'a NULL notify_url is 22004');
SELECT is((SELECT count(*) FROM paycore.merchants WHERE name = 'Bad URL'), 0::bigint,
    'no row was written for any rejected notify_url');

-- ---------------------------------------------------------------------------
-- set_notify_url
SELECT lives_ok(format('SELECT paycore.set_notify_url(%s, %L)', (SELECT merchant_id FROM m1), 'https://new.example.com/v2/notify'),
    'set_notify_url to a valid URL');
SELECT is((SELECT notify_url FROM paycore.merchants WHERE id = (SELECT merchant_id FROM m1)),
    'https://new.example.com/v2/notify', 'notify_url changed');
SELECT is((SELECT notify_url FROM paycore.merchants WHERE id = (SELECT merchant_id FROM m2)),
    'http://shop2.example.com/cb', 'the other merchant''s notify_url did not change');
SELECT throws_ok(format('SELECT paycore.set_notify_url(%s, %L)', (SELECT merchant_id FROM m1), 'ftp://new.example.com/'),
    '22023', 'invalid notify_url', 'set_notify_url to ftp:// is 22023');
SELECT throws_ok(format('SELECT paycore.set_notify_url(%s, %L)', (SELECT merchant_id FROM m1), 'http://u:p@new.example.com/'),
    '22023', 'invalid notify_url', 'set_notify_url with user-info is 22023');
SELECT throws_ok(format('SELECT paycore.set_notify_url(%s, %L)', (SELECT merchant_id FROM m1), 'https://example.com/' || repeat('a', 2029)),
    '22023', 'invalid notify_url', 'set_notify_url to 2049 characters is 22023');
SELECT throws_ok(format('SELECT paycore.set_notify_url(%s, NULL)', (SELECT merchant_id FROM m1)),
    '22004', NULL, 'set_notify_url to NULL is 22004');
SELECT is((SELECT notify_url FROM paycore.merchants WHERE id = (SELECT merchant_id FROM m1)),
    'https://new.example.com/v2/notify', 'the rejected URLs left notify_url unchanged');
SELECT throws_ok($$SELECT paycore.set_notify_url((SELECT max(id) + 1000 FROM paycore.merchants), 'https://x.example/')$$,
    'P0002', NULL, 'set_notify_url of an unknown merchant is P0002');
SELECT throws_ok($$SELECT paycore.set_notify_url(NULL, 'https://x.example/')$$,
    '22004', NULL, 'set_notify_url of a NULL merchant_id is 22004');
SELECT is((SELECT count(*) FROM paycore.merchants WHERE notify_url = 'https://x.example/'), 0::bigint,
    'no merchant got the URL meant for an unknown one');

-- ---------------------------------------------------------------------------
-- rotate_signing_secret: a new secret, the old one kept as previous.
CREATE TEMP TABLE r1 AS SELECT paycore.rotate_signing_secret((SELECT merchant_id FROM m1)) AS secret;
SELECT matches((SELECT secret FROM r1), '^whsec_[0-9a-f]{64}$', 'the rotated secret has the whsec_ form');
SELECT isnt((SELECT secret FROM r1), (SELECT signing_secret FROM m1), 'the rotated secret is new');
SELECT is((SELECT pg_temp.decrypt(signing_secret_encrypted) FROM paycore.merchants WHERE id = (SELECT merchant_id FROM m1)),
    (SELECT secret FROM r1), 'signing_secret_encrypted now decrypts to the new secret');
SELECT is((SELECT pg_temp.decrypt(previous_secret_encrypted) FROM paycore.merchants WHERE id = (SELECT merchant_id FROM m1)),
    (SELECT signing_secret FROM m1), 'previous_secret_encrypted decrypts to the old secret');
SELECT is((SELECT secret_rotated_at FROM paycore.merchants WHERE id = (SELECT merchant_id FROM m1)),
    now(), 'secret_rotated_at is set to the time of the rotation');
SELECT is(pg_temp.rows_containing((SELECT secret FROM r1)), 0::bigint, 'the new secret is in no column in clear');
SELECT is(pg_temp.rows_containing((SELECT signing_secret FROM m1)), 0::bigint, 'nor is the old one');
SELECT ok((SELECT previous_secret_encrypted IS NULL AND secret_rotated_at IS NULL
             FROM paycore.merchants WHERE id = (SELECT merchant_id FROM m2)),
    'the other merchant was not rotated');
SELECT is((SELECT pg_temp.decrypt(signing_secret_encrypted) FROM paycore.merchants WHERE id = (SELECT merchant_id FROM m2)),
    (SELECT signing_secret FROM m2), 'the other merchant keeps its secret');

CREATE TEMP TABLE r2 AS SELECT paycore.rotate_signing_secret((SELECT merchant_id FROM m1)) AS secret;
SELECT isnt((SELECT secret FROM r2), (SELECT secret FROM r1), 'a second rotation gives another secret');
SELECT is((SELECT pg_temp.decrypt(signing_secret_encrypted) FROM paycore.merchants WHERE id = (SELECT merchant_id FROM m1)),
    (SELECT secret FROM r2), 'after the second rotation the current secret is the newest');
SELECT is((SELECT pg_temp.decrypt(previous_secret_encrypted) FROM paycore.merchants WHERE id = (SELECT merchant_id FROM m1)),
    (SELECT secret FROM r1), 'and the previous one is the first rotated secret');

SELECT throws_ok($$SELECT paycore.rotate_signing_secret((SELECT max(id) + 1000 FROM paycore.merchants))$$,
    'P0002', NULL, 'rotate_signing_secret of an unknown merchant is P0002');
SELECT throws_ok($$SELECT paycore.rotate_signing_secret(NULL)$$,
    '22004', NULL, 'rotate_signing_secret of NULL is 22004');

-- ---------------------------------------------------------------------------
-- Without the server key no secret can be stored: a clear error, no change.
SET paycore.encryption_key = '';
SELECT throws_ok($$SELECT paycore.create_merchant('No Key', 'https://nokey.example/')$$,
    '55000', NULL, 'with paycore.encryption_key empty create_merchant is 55000');
SELECT throws_like($$SELECT paycore.create_merchant('No Key', 'https://nokey.example/')$$,
    '%paycore.encryption_key%', 'the error names paycore.encryption_key');
SELECT throws_ok(format('SELECT paycore.rotate_signing_secret(%s)', (SELECT merchant_id FROM m2)),
    '55000', NULL, 'with paycore.encryption_key empty rotate_signing_secret is 55000');
RESET paycore.encryption_key;
SELECT is((SELECT count(*) FROM paycore.merchants WHERE name = 'No Key'), 0::bigint, 'no merchant was written without the key');
SELECT is((SELECT pg_temp.decrypt(signing_secret_encrypted) FROM paycore.merchants WHERE id = (SELECT merchant_id FROM m2)),
    (SELECT signing_secret FROM m2), 'the failed rotation left the secret as it was');
SELECT ok((SELECT previous_secret_encrypted IS NULL AND secret_rotated_at IS NULL
             FROM paycore.merchants WHERE id = (SELECT merchant_id FROM m2)),
    'the failed rotation recorded nothing');

SELECT * FROM finish();
ROLLBACK;
