-- paycore.register_user: every validation rule of issue 2, how the password
-- and the card are stored, and that neither ever appears in clear in a table
-- or in an error.
BEGIN;
CREATE EXTENSION IF NOT EXISTS paycore CASCADE;

\ir helpers.psql

-- The SQLSTATE, message, detail, hint and context of a failed
-- register_user, one per line (NULL if it succeeded): the tests look for the
-- card number and the password in all of them.
CREATE FUNCTION pg_temp.register_error(u text, p text, c text, n text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    st text; msg text; det text; hnt text; ctx text;
BEGIN
    PERFORM paycore.register_user(u, p, c, n);
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
        det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT, ctx = PG_EXCEPTION_CONTEXT;
    RETURN concat_ws(E'\n', st, msg, det, hnt, ctx);
END
$$;


SELECT plan(146);

-- ---------------------------------------------------------------------------
-- bcrypt at the default cost (10): done first, before this file lowers the
-- cost for speed.
SELECT is(current_setting('paycore.bcrypt_cost'), '10', 'paycore.bcrypt_cost defaults to 10');
SELECT lives_ok($$SELECT paycore.register_user('costten', 'Default-cost 10', '4111111111111111', 'Cost Ten')$$,
    'register at the default bcrypt cost');
SELECT matches((SELECT password_hash FROM paycore.users WHERE username = 'costten'), '^\$2a\$10\$',
    'default-cost hash is bcrypt $2a$ with cost 10');
SELECT is((SELECT length(password_hash) FROM paycore.users WHERE username = 'costten'), 60,
    'a bcrypt hash has 60 characters');
SELECT ok((SELECT crypt('Default-cost 10', password_hash) = password_hash FROM paycore.users WHERE username = 'costten'),
    'pgcrypto crypt(password, hash) reproduces the stored hash');

SET paycore.bcrypt_cost = 4;

-- ---------------------------------------------------------------------------
-- username: 3-32 characters, a letter first, then letters, digits, _ . -
SELECT lives_ok($$SELECT paycore.register_user('abc', 'passw0rd', '4111111111111111', 'Abc')$$,
    'username of 3 characters is accepted');
SELECT lives_ok($$SELECT paycore.register_user('a' || repeat('b', 31), 'passw0rd', '4111111111111111', 'Long')$$,
    'username of 32 characters is accepted');
SELECT lives_ok($$SELECT paycore.register_user('Bob_Smith', 'passw0rd', '4111111111111111', 'Bob')$$,
    'username with _ and capitals is accepted');
SELECT lives_ok($$SELECT paycore.register_user('j.doe', 'passw0rd', '4111111111111111', 'Jane')$$,
    'username with . is accepted');
SELECT lives_ok($$SELECT paycore.register_user('mary-jane', 'passw0rd', '4111111111111111', 'Mary')$$,
    'username with - is accepted');
SELECT lives_ok($$SELECT paycore.register_user('z9_.-x', 'passw0rd', '4111111111111111', 'Zed')$$,
    'username with digits and all three marks after the first letter is accepted');
SELECT is((SELECT count(*) FROM paycore.users
            WHERE username IN ('abc', 'a' || repeat('b', 31), 'Bob_Smith', 'j.doe', 'mary-jane', 'z9_.-x')),
    6::bigint, 'each accepted username has its row');

SELECT throws_ok($$SELECT paycore.register_user('ab', 'passw0rd', '4111111111111111', 'Ab')$$,
    '22023', 'invalid username', 'username of 2 characters is 22023');
SELECT throws_ok($$SELECT paycore.register_user('a' || repeat('b', 32), 'passw0rd', '4111111111111111', 'Ab')$$,
    '22023', 'invalid username', 'username of 33 characters is 22023');
SELECT throws_ok($$SELECT paycore.register_user('', 'passw0rd', '4111111111111111', 'Ab')$$,
    '22023', 'invalid username', 'empty username is 22023');
SELECT throws_ok($$SELECT paycore.register_user('1abc', 'passw0rd', '4111111111111111', 'Ab')$$,
    '22023', 'invalid username', 'username starting with a digit is 22023');
SELECT throws_ok($$SELECT paycore.register_user('_abc', 'passw0rd', '4111111111111111', 'Ab')$$,
    '22023', 'invalid username', 'username starting with _ is 22023');
SELECT throws_ok($$SELECT paycore.register_user('.abc', 'passw0rd', '4111111111111111', 'Ab')$$,
    '22023', 'invalid username', 'username starting with . is 22023');
SELECT throws_ok($$SELECT paycore.register_user('-abc', 'passw0rd', '4111111111111111', 'Ab')$$,
    '22023', 'invalid username', 'username starting with - is 22023');
SELECT throws_ok($$SELECT paycore.register_user(' abcd', 'passw0rd', '4111111111111111', 'Ab')$$,
    '22023', 'invalid username', 'username starting with a space is 22023');
SELECT throws_ok($$SELECT paycore.register_user('ab cd', 'passw0rd', '4111111111111111', 'Ab')$$,
    '22023', 'invalid username', 'username with a space is 22023');
SELECT throws_ok($$SELECT paycore.register_user('abcd ', 'passw0rd', '4111111111111111', 'Ab')$$,
    '22023', 'invalid username', 'username with a trailing space is 22023');
SELECT throws_ok($$SELECT paycore.register_user('ab@cd', 'passw0rd', '4111111111111111', 'Ab')$$,
    '22023', 'invalid username', 'username with @ is 22023');
SELECT throws_ok($$SELECT paycore.register_user('ab/cd', 'passw0rd', '4111111111111111', 'Ab')$$,
    '22023', 'invalid username', 'username with / is 22023');
SELECT throws_ok($$SELECT paycore.register_user('ab''cd', 'passw0rd', '4111111111111111', 'Ab')$$,
    '22023', 'invalid username', 'username with a quote is 22023');
SELECT throws_ok($$SELECT paycore.register_user(E'ab\tcd', 'passw0rd', '4111111111111111', 'Ab')$$,
    '22023', 'invalid username', 'username with a tab is 22023');
SELECT throws_ok($$SELECT paycore.register_user('ab+cd', 'passw0rd', '4111111111111111', 'Ab')$$,
    '22023', 'invalid username', 'username with + is 22023');
SELECT is((SELECT count(*) FROM paycore.users), 7::bigint,
    'no row was written for any rejected username');

-- Unique regardless of case.
SELECT lives_ok($$SELECT paycore.register_user('alice', 'passw0rd', '4111111111111111', 'Alice')$$,
    'alice registers');
SELECT throws_ok($$SELECT paycore.register_user('Alice', 'passw0rd', '4111111111111111', 'Alice')$$,
    '23505', NULL, 'Alice after alice is 23505');
SELECT throws_ok($$SELECT paycore.register_user('ALICE', 'other-passw0rd', '5555555555554444', 'Other')$$,
    '23505', NULL, 'ALICE after alice is 23505');
SELECT throws_ok($$SELECT paycore.register_user('alice', 'passw0rd', '4111111111111111', 'Alice')$$,
    '23505', NULL, 'alice again is 23505');
SELECT is((SELECT count(*) FROM paycore.users WHERE lower(username) = 'alice'), 1::bigint,
    'only the first alice was written');

-- ---------------------------------------------------------------------------
-- password: 8-128 characters, at least one letter and one digit
SELECT lives_ok($$SELECT paycore.register_user('pw8', 'abcdefg1', '4111111111111111', 'Pw')$$,
    'password of 8 characters is accepted');
SELECT lives_ok($$SELECT paycore.register_user('pw128', repeat('a', 127) || '1', '4111111111111111', 'Pw')$$,
    'password of 128 characters is accepted');
SELECT lives_ok($$SELECT paycore.register_user('pwdigitfirst', '1234567a', '4111111111111111', 'Pw')$$,
    'password of digits and one letter is accepted');
SELECT lives_ok($$SELECT paycore.register_user('pwspaces', 'correct horse 9', '4111111111111111', 'Pw')$$,
    'password with spaces is accepted');
-- Characters, not bytes: 8 Cyrillic+digit characters are 14 bytes, 128 are 255.
SELECT lives_ok($$SELECT paycore.register_user('pwcyr', 'пароль12', '4111111111111111', 'Pw')$$,
    'password of 8 non-ASCII characters (a Cyrillic letter counts as a letter) is accepted');
SELECT lives_ok($$SELECT paycore.register_user('pwcyr128', repeat('я', 127) || '1', '4111111111111111', 'Pw')$$,
    'password of 128 two-byte characters is accepted');
SELECT is((SELECT count(*) FROM paycore.users WHERE username IN ('pw8', 'pw128', 'pwdigitfirst', 'pwspaces', 'pwcyr', 'pwcyr128')),
    6::bigint, 'each accepted password has its row');
SELECT ok((SELECT crypt('пароль12', password_hash) = password_hash FROM paycore.users WHERE username = 'pwcyr'),
    'a non-ASCII password verifies against its hash');

SELECT throws_ok($$SELECT paycore.register_user('badpw1', 'abcdef1', '4111111111111111', 'Pw')$$,
    '22023', 'invalid password', 'password of 7 characters is 22023');
SELECT throws_ok($$SELECT paycore.register_user('badpw2', repeat('a', 128) || '1', '4111111111111111', 'Pw')$$,
    '22023', 'invalid password', 'password of 129 characters is 22023');
SELECT throws_ok($$SELECT paycore.register_user('badpw3', 'abcdefghij', '4111111111111111', 'Pw')$$,
    '22023', 'invalid password', 'password without a digit is 22023');
SELECT throws_ok($$SELECT paycore.register_user('badpw4', '1234567890', '4111111111111111', 'Pw')$$,
    '22023', 'invalid password', 'password without a letter is 22023');
SELECT throws_ok($$SELECT paycore.register_user('badpw5', '', '4111111111111111', 'Pw')$$,
    '22023', 'invalid password', 'empty password is 22023');
SELECT throws_ok($$SELECT paycore.register_user('badpw6', '!@#$%^&*()', '4111111111111111', 'Pw')$$,
    '22023', 'invalid password', 'password of punctuation only is 22023');
SELECT throws_ok($$SELECT paycore.register_user('badpw7', 'пароль1', '4111111111111111', 'Pw')$$,
    '22023', 'invalid password', 'password of 7 characters (13 bytes) is 22023');
SELECT throws_ok($$SELECT paycore.register_user('badpw8', repeat('я', 128) || '1', '4111111111111111', 'Pw')$$,
    '22023', 'invalid password', 'password of 129 two-byte characters is 22023');
SELECT is((SELECT count(*) FROM paycore.users WHERE username LIKE 'badpw%'), 0::bigint,
    'no row was written for any rejected password');

-- ---------------------------------------------------------------------------
-- bank_card: 12-19 digits once spaces and dashes are gone, Luhn-valid; the
-- row keeps only ciphertext, the last four digits and the brand.
SELECT lives_ok($$SELECT paycore.register_user('cvisa', 'passw0rd', '4111 1111 1111 1111', 'Card')$$,
    'card with spaces is accepted');
SELECT lives_ok($$SELECT paycore.register_user('cvisadash', 'passw0rd', '4111-1111-1111-1111', 'Card')$$,
    'card with dashes is accepted');
SELECT lives_ok($$SELECT paycore.register_user('cvisamixed', 'passw0rd', ' 4111 1111-1111 1111 ', 'Card')$$,
    'card with spaces around and mixed separators is accepted');
SELECT lives_ok($$SELECT paycore.register_user('cmc', 'passw0rd', '5555555555554444', 'Card')$$,
    'mastercard 5555... is accepted');
SELECT lives_ok($$SELECT paycore.register_user('cmc2', 'passw0rd', '2221000000000009', 'Card')$$,
    'mastercard 2-series is accepted');
SELECT lives_ok($$SELECT paycore.register_user('camex', 'passw0rd', '378282246310005', 'Card')$$,
    'amex (15 digits) is accepted');
SELECT lives_ok($$SELECT paycore.register_user('cunion', 'passw0rd', '6212345678901265', 'Card')$$,
    'unionpay is accepted');
SELECT lives_ok($$SELECT paycore.register_user('cjcb', 'passw0rd', '3530111333300000', 'Card')$$,
    'jcb is accepted');
SELECT lives_ok($$SELECT paycore.register_user('cdisc', 'passw0rd', '6011111111111117', 'Card')$$,
    'discover is accepted');
SELECT lives_ok($$SELECT paycore.register_user('cdiners', 'passw0rd', '30569309025904', 'Card')$$,
    'diners (14 digits) is accepted');
SELECT lives_ok($$SELECT paycore.register_user('c12', 'passw0rd', '411111111117', 'Card')$$,
    'card of 12 digits is accepted');
SELECT lives_ok($$SELECT paycore.register_user('c19', 'passw0rd', '6212 3456 7890 1234 569', 'Card')$$,
    'card of 19 digits is accepted');

SELECT results_eq(
    $$SELECT username, card_last4, card_brand FROM paycore.users
       WHERE username IN ('cvisa', 'cvisadash', 'cvisamixed', 'cmc', 'cmc2', 'camex', 'cunion',
                          'cjcb', 'cdisc', 'cdiners', 'c12', 'c19')
       ORDER BY username$$,
    $$VALUES ('c12', '1117', 'visa'), ('c19', '4569', 'unionpay'), ('camex', '0005', 'amex'),
             ('cdiners', '5904', 'diners'), ('cdisc', '1117', 'discover'), ('cjcb', '0000', 'jcb'),
             ('cmc', '4444', 'mastercard'), ('cmc2', '0009', 'mastercard'), ('cunion', '1265', 'unionpay'),
             ('cvisa', '1111', 'visa'), ('cvisadash', '1111', 'visa'), ('cvisamixed', '1111', 'visa')$$,
    'card_last4 and card_brand are the last four digits and the issuer');

SELECT throws_ok($$SELECT paycore.register_user('badcard1', 'passw0rd', '41111111112', 'Card')$$,
    '22023', 'invalid bank_card', 'Luhn-valid card of 11 digits is 22023');
SELECT throws_ok($$SELECT paycore.register_user('badcard2', 'passw0rd', '41111111111111111115', 'Card')$$,
    '22023', 'invalid bank_card', 'Luhn-valid card of 20 digits is 22023');
SELECT throws_ok($$SELECT paycore.register_user('badcard3', 'passw0rd', '4111111111111112', 'Card')$$,
    '22023', 'invalid bank_card', 'card failing Luhn is 22023');
SELECT throws_ok($$SELECT paycore.register_user('badcard4', 'passw0rd', '4111 1111 1111 1112', 'Card')$$,
    '22023', 'invalid bank_card', 'spaced card failing Luhn is 22023');
SELECT throws_ok($$SELECT paycore.register_user('badcard5', 'passw0rd', '4111.1111.1111.1111', 'Card')$$,
    '22023', 'invalid bank_card', 'card with dots is 22023');
SELECT throws_ok($$SELECT paycore.register_user('badcard6', 'passw0rd', '4111x11111111111', 'Card')$$,
    '22023', 'invalid bank_card', 'card with a letter is 22023');
SELECT throws_ok($$SELECT paycore.register_user('badcard7', 'passw0rd', E'4111\t1111 1111 1111', 'Card')$$,
    '22023', 'invalid bank_card', 'card with a tab is 22023');
SELECT throws_ok($$SELECT paycore.register_user('badcard8', 'passw0rd', '+4111111111111111', 'Card')$$,
    '22023', 'invalid bank_card', 'card with a sign is 22023');
SELECT throws_ok($$SELECT paycore.register_user('badcard9', 'passw0rd', '', 'Card')$$,
    '22023', 'invalid bank_card', 'empty card is 22023');
SELECT throws_ok($$SELECT paycore.register_user('badcard10', 'passw0rd', ' - - ', 'Card')$$,
    '22023', 'invalid bank_card', 'card of separators only is 22023');
SELECT is((SELECT count(*) FROM paycore.users WHERE username LIKE 'badcard%'), 0::bigint,
    'no row was written for any rejected bank_card');

-- ---------------------------------------------------------------------------
-- name: 1-64 characters after trimming, letters of any script, spaces,
-- ' - . and the middle dot; no digits, no control characters.
SELECT lives_ok($$SELECT paycore.register_user('n_zh', 'passw0rd', '4111111111111111', '张三')$$,
    'name 张三 is accepted');
SELECT lives_ok($$SELECT paycore.register_user('n_oneil', 'passw0rd', '4111111111111111', 'Mary-Jane O''Neil')$$,
    'name Mary-Jane O''Neil is accepted');
SELECT lives_ok($$SELECT paycore.register_user('n_dot', 'passw0rd', '4111111111111111', 'Jean·Luc')$$,
    'name with the middle dot (Jean·Luc) is accepted');
SELECT lives_ok($$SELECT paycore.register_user('n_kata', 'passw0rd', '4111111111111111', 'ジョン・スミス')$$,
    'Japanese name with the katakana middle dot is accepted');
SELECT lives_ok($$SELECT paycore.register_user('n_initials', 'passw0rd', '4111111111111111', 'J. R. R. Tolkien')$$,
    'name with full stops is accepted');
SELECT lives_ok($$SELECT paycore.register_user('n_ru', 'passw0rd', '4111111111111111', 'Иван Петров')$$,
    'Cyrillic name is accepted');
SELECT lives_ok($$SELECT paycore.register_user('n_el', 'passw0rd', '4111111111111111', 'Αλέξανδρος')$$,
    'Greek name is accepted');
SELECT lives_ok($$SELECT paycore.register_user('n_ar', 'passw0rd', '4111111111111111', 'محمد علي')$$,
    'Arabic name is accepted');
SELECT lives_ok($$SELECT paycore.register_user('n_he', 'passw0rd', '4111111111111111', 'דוד')$$,
    'Hebrew name is accepted');
SELECT lives_ok($$SELECT paycore.register_user('n_hi', 'passw0rd', '4111111111111111', 'राम')$$,
    'Devanagari name (with a vowel sign) is accepted');
SELECT lives_ok($$SELECT paycore.register_user('n_ko', 'passw0rd', '4111111111111111', '김민준')$$,
    'Korean name is accepted');
SELECT lives_ok($$SELECT paycore.register_user('n_th', 'passw0rd', '4111111111111111', 'สมชาย')$$,
    'Thai name is accepted');
SELECT lives_ok($$SELECT paycore.register_user('n_vi', 'passw0rd', '4111111111111111', 'Nguyễn Văn An')$$,
    'Vietnamese name is accepted');
SELECT lives_ok($$SELECT paycore.register_user('n_nfd', 'passw0rd', '4111111111111111', U&'Zoe\0308')$$,
    'name with a combining diaeresis is accepted');
-- "letters of any script": Tamil and Ethiopic are scripts people write names in.
SELECT lives_ok($$SELECT paycore.register_user('n_ta', 'passw0rd', '4111111111111111', 'முருகன்')$$,
    'Tamil name is accepted');
SELECT lives_ok($$SELECT paycore.register_user('n_am', 'passw0rd', '4111111111111111', 'አበበ ቢቂላ')$$,
    'Ethiopic name is accepted');
SELECT lives_ok($$SELECT paycore.register_user('n_one', 'passw0rd', '4111111111111111', 'A')$$,
    'name of 1 character is accepted');
SELECT lives_ok($$SELECT paycore.register_user('n_64', 'passw0rd', '4111111111111111', repeat('张', 64))$$,
    'name of 64 (three-byte) characters is accepted');
SELECT lives_ok($$SELECT paycore.register_user('n_trim', 'passw0rd', '4111111111111111', '   ' || repeat('a', 64) || '   ')$$,
    'name of 64 characters plus surrounding spaces is accepted (length counts after trimming)');
SELECT results_eq(
    $$SELECT name FROM paycore.users WHERE username IN ('n_zh', 'n_oneil', 'n_dot', 'n_trim') ORDER BY username$$,
    ARRAY['Jean·Luc', 'Mary-Jane O''Neil', repeat('a', 64), '张三'],
    'names are stored as given, trimmed');

SELECT throws_ok($$SELECT paycore.register_user('badname1', 'passw0rd', '4111111111111111', '')$$,
    '22023', 'invalid name', 'empty name is 22023');
SELECT throws_ok($$SELECT paycore.register_user('badname2', 'passw0rd', '4111111111111111', '    ')$$,
    '22023', 'invalid name', 'name of spaces only is 22023');
SELECT throws_ok($$SELECT paycore.register_user('badname3', 'passw0rd', '4111111111111111', repeat('张', 65))$$,
    '22023', 'invalid name', 'name of 65 characters is 22023');
SELECT throws_ok($$SELECT paycore.register_user('badname4', 'passw0rd', '4111111111111111', 'Bob1')$$,
    '22023', 'invalid name', 'name with an ASCII digit is 22023');
SELECT throws_ok($$SELECT paycore.register_user('badname5', 'passw0rd', '4111111111111111', '张三３')$$,
    '22023', 'invalid name', 'name with a fullwidth digit is 22023');
SELECT throws_ok($$SELECT paycore.register_user('badname6', 'passw0rd', '4111111111111111', 'محمد٣')$$,
    '22023', 'invalid name', 'name with an Arabic-Indic digit is 22023');
SELECT throws_ok($$SELECT paycore.register_user('badname7', 'passw0rd', '4111111111111111', E'Bob\nSmith')$$,
    '22023', 'invalid name', 'name with a newline is 22023');
SELECT throws_ok($$SELECT paycore.register_user('badname8', 'passw0rd', '4111111111111111', E'Bob\tSmith')$$,
    '22023', 'invalid name', 'name with a tab is 22023');
SELECT throws_ok($$SELECT paycore.register_user('badname9', 'passw0rd', '4111111111111111', E'Bob\x01')$$,
    '22023', 'invalid name', 'name with a control character is 22023');
SELECT throws_ok($$SELECT paycore.register_user('badname10', 'passw0rd', '4111111111111111', U&'Bob\0085Smith')$$,
    '22023', 'invalid name', 'name with a C1 control character (NEL) is 22023');
SELECT throws_ok($$SELECT paycore.register_user('badname11', 'passw0rd', '4111111111111111', 'Bob_Smith')$$,
    '22023', 'invalid name', 'name with _ is 22023');
SELECT throws_ok($$SELECT paycore.register_user('badname12', 'passw0rd', '4111111111111111', 'Bob@Smith')$$,
    '22023', 'invalid name', 'name with @ is 22023');
SELECT throws_ok($$SELECT paycore.register_user('badname13', 'passw0rd', '4111111111111111', 'Bob!')$$,
    '22023', 'invalid name', 'name with ! is 22023');
SELECT is((SELECT count(*) FROM paycore.users WHERE username LIKE 'badname%'), 0::bigint,
    'no row was written for any rejected name');

-- ---------------------------------------------------------------------------
-- NULL arguments: 22004, nothing written.
SELECT throws_ok($$SELECT paycore.register_user(NULL, 'passw0rd', '4111111111111111', 'Null')$$,
    '22004', NULL, 'NULL username is 22004');
SELECT throws_ok($$SELECT paycore.register_user('nullpw', NULL, '4111111111111111', 'Null')$$,
    '22004', NULL, 'NULL password is 22004');
SELECT throws_ok($$SELECT paycore.register_user('nullcard', 'passw0rd', NULL, 'Null')$$,
    '22004', NULL, 'NULL bank_card is 22004');
SELECT throws_ok($$SELECT paycore.register_user('nullname', 'passw0rd', '4111111111111111', NULL)$$,
    '22004', NULL, 'NULL name is 22004');
SELECT is((SELECT count(*) FROM paycore.users WHERE username LIKE 'null%' OR username IS NULL), 0::bigint,
    'no row was written for any NULL argument');

-- ---------------------------------------------------------------------------
-- Password storage: bcrypt only.
SELECT lives_ok($$SELECT paycore.register_user('hashcheck', 'Hunter2-Secret', '4111 1111 1111 1111', 'Hash Check')$$,
    'register at bcrypt cost 4');
SELECT matches((SELECT password_hash FROM paycore.users WHERE username = 'hashcheck'), '^\$2a\$04\$',
    'with paycore.bcrypt_cost = 4 the hash is $2a$04$');
SELECT is((SELECT length(password_hash) FROM paycore.users WHERE username = 'hashcheck'), 60,
    'the cost-4 hash has 60 characters');
SELECT ok((SELECT crypt('Hunter2-Secret', password_hash) = password_hash FROM paycore.users WHERE username = 'hashcheck'),
    'crypt(password, hash) = hash: the hash is of this password');
SELECT ok((SELECT crypt('Hunter2-secret', password_hash) <> password_hash FROM paycore.users WHERE username = 'hashcheck'),
    'a different password does not match the hash');
SELECT lives_ok($$SELECT paycore.register_user('hashcheck2', 'Hunter2-Secret', '4111111111111111', 'Hash Check')$$,
    'a second user with the same password');
SELECT isnt((SELECT password_hash FROM paycore.users WHERE username = 'hashcheck'),
            (SELECT password_hash FROM paycore.users WHERE username = 'hashcheck2'),
    'the same password hashes differently for two users (salted)');
SELECT is(pg_temp.rows_containing('Hunter2-Secret'), 0::bigint,
    'the clear password is in no column of any paycore table');
SELECT is(pg_temp.rows_containing('Default-cost 10'), 0::bigint,
    'the other clear password is in no column of any paycore table either');

-- Card storage: ciphertext that decrypts with the server key, nothing else.
SELECT is((SELECT pgp_sym_decrypt(card_encrypted, current_setting('paycore.encryption_key'))
             FROM paycore.users WHERE username = 'hashcheck'),
    '4111111111111111', 'card_encrypted decrypts with paycore.encryption_key to the digits');
SELECT is((SELECT pgp_sym_decrypt(card_encrypted, current_setting('paycore.encryption_key'))
             FROM paycore.users WHERE username = 'c19'),
    '6212345678901234569', 'a 19-digit card decrypts to its digits');
SELECT is((SELECT position(convert_to('4111111111111111', 'UTF8') IN card_encrypted)
             FROM paycore.users WHERE username = 'hashcheck'),
    0, 'card_encrypted does not hold the digits as bytes');
SELECT is((SELECT count(*) FROM paycore.users u
            WHERE row_to_json(u)::text LIKE '%4111111111111111%'
               OR row_to_json(u)::text LIKE '%4111 1111 1111 1111%'
               OR row_to_json(u)::text LIKE '%4111-1111-1111-1111%'),
    0::bigint, 'no users column holds the card number, plain, spaced or dashed');
SELECT is(pg_temp.rows_containing('4111111111111111') + pg_temp.rows_containing('4111 1111 1111 1111')
          + pg_temp.rows_containing('5555555555554444') + pg_temp.rows_containing('6212345678901234569'),
    0::bigint, 'no paycore table holds any full card number');

-- ---------------------------------------------------------------------------
-- Errors never repeat a card number or a password.
SELECT is(split_part(pg_temp.register_error('leak1', 'passw0rd', '4111 1111 1111 1112', 'Leak'), E'\n', 1), '22023',
    'Luhn failure is 22023');
SELECT ok(strpos(pg_temp.register_error('leak1', 'passw0rd', '4111 1111 1111 1112', 'Leak'), '4111 1111 1111 1112') = 0
      AND strpos(pg_temp.register_error('leak1', 'passw0rd', '4111 1111 1111 1112', 'Leak'), '4111111111111112') = 0,
    'the Luhn error (message, detail, hint, context) does not contain the card');
SELECT ok(strpos(pg_temp.register_error('leak2', 'passw0rd', '41111111111111111115', 'Leak'), '41111111111111111115') = 0,
    'the too-long card error does not contain the card');
SELECT ok(strpos(pg_temp.register_error('leak3', 'passw0rd', '4111x11111111111', 'Leak'), '4111x11111111111') = 0,
    'the bad-character card error does not contain the card');
SELECT ok(strpos(pg_temp.register_error('leak4', 'Zq9', '4111111111111111', 'Leak'), 'Zq9') = 0,
    'the too-short password error does not contain the password');
SELECT ok(strpos(pg_temp.register_error('leak5', 'xylophoneQuartz', '4111111111111111', 'Leak'), 'xylophoneQuartz') = 0,
    'the no-digit password error does not contain the password');
SELECT ok(strpos(pg_temp.register_error('leak6', repeat('Zq9', 50), '4111111111111111', 'Leak'), 'Zq9Zq9') = 0,
    'the too-long password error does not contain the password');
SELECT ok(strpos(pg_temp.register_error('leak7', 'xylophoneQuartz', '4111111111111111', 'Leak'), '4111111111111111') = 0,
    'a password error does not contain the (valid) card');
SELECT ok(strpos(pg_temp.register_error('leak8', 'Quartz-77-pass', '4111111111111112', 'Leak'), 'Quartz-77-pass') = 0,
    'a card error does not contain the (valid) password');
SELECT ok(strpos(pg_temp.register_error('Alice', 'Quartz-77-pass', '5555555555554444', 'Leak'), '5555555555554444') = 0
      AND strpos(pg_temp.register_error('Alice', 'Quartz-77-pass', '5555555555554444', 'Leak'), 'Quartz-77-pass') = 0,
    'the duplicate-username error contains neither card nor password');
SELECT is(split_part(pg_temp.register_error('Alice', 'Quartz-77-pass', '5555555555554444', 'Leak'), E'\n', 1), '23505',
    '(that error is the duplicate username)');
SELECT is((SELECT count(*) FROM paycore.users WHERE username LIKE 'leak%'), 0::bigint,
    'no row was written by the failed registrations');

-- ---------------------------------------------------------------------------
-- Without the server key nothing can be stored: a clear error, no row.
SET paycore.encryption_key = '';
SELECT throws_ok($$SELECT paycore.register_user('nokey', 'passw0rd', '4111111111111111', 'No Key')$$,
    '55000', NULL, 'with paycore.encryption_key empty register_user is 55000');
SELECT throws_like($$SELECT paycore.register_user('nokey', 'passw0rd', '4111111111111111', 'No Key')$$,
    '%paycore.encryption_key%', 'the error names paycore.encryption_key');
SELECT is(split_part(pg_temp.register_error('nokey', 'passw0rd', '4111111111111111', 'No Key'), E'\n', 1), '55000',
    '(captured: 55000)');
SELECT ok(strpos(pg_temp.register_error('nokey', 'passw0rd', '4111111111111111', 'No Key'), '4111111111111111') = 0,
    'the missing-key error does not contain the card');
SELECT is((SELECT count(*) FROM paycore.users WHERE username = 'nokey'), 0::bigint,
    'no row was written without the key');
RESET paycore.encryption_key;
SELECT isnt(current_setting('paycore.encryption_key'), '', 'the configured key is back after RESET');
SELECT lives_ok($$SELECT paycore.register_user('withkey', 'passw0rd', '4111111111111111', 'With Key')$$,
    'with the key back register_user works again');

SELECT * FROM finish();
ROLLBACK;
