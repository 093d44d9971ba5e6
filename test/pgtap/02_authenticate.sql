-- paycore.authenticate: the user id for the right password, NULL for
-- anything else and never an error (so that failure counts commit); the
-- lockout after paycore.max_failed_logins consecutive failures, its expiry,
-- and that success resets the count.
BEGIN;
CREATE EXTENSION IF NOT EXISTS paycore CASCADE;

-- Fast hashes: the cost is not what this file checks.
SET paycore.bcrypt_cost = 4;

-- What authenticate answered, as text: 'id' when it returned the expected
-- user's id, 'null', another number, or 'error <SQLSTATE>' if it raised.
CREATE FUNCTION pg_temp.auth(u text, p text, expected text DEFAULT NULL) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    r bigint;
    st text;
BEGIN
    r := paycore.authenticate(u, p);
    IF r IS NULL THEN
        RETURN 'null';
    ELSIF r = (SELECT id FROM paycore.users WHERE username = expected) THEN
        RETURN 'id';
    END IF;
    RETURN r::text;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
    RETURN 'error ' || st;
END
$$;

-- n wrong guesses for u; returns how many of them were answered NULL
CREATE FUNCTION pg_temp.fail(u text, n integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    nulls integer := 0;
BEGIN
    FOR i IN 1 .. n LOOP
        IF paycore.authenticate(u, 'wrong-guess-' || i) IS NULL THEN
            nulls := nulls + 1;
        END IF;
    END LOOP;
    RETURN nulls;
END
$$;

SELECT plan(74);

SELECT lives_ok($$SELECT paycore.register_user('dave', 'Dave-pass-1', '4111111111111111', 'Dave')$$, 'register dave');
SELECT lives_ok($$SELECT paycore.register_user('erin', 'Erin-pass-1', '4111111111111111', 'Erin')$$, 'register erin');
SELECT lives_ok($$SELECT paycore.register_user('Frank', 'Frank-pass-1', '4111111111111111', 'Frank')$$, 'register Frank');
SELECT lives_ok($$SELECT paycore.register_user('gina', 'Gina-pass-1', '4111111111111111', 'Gina')$$, 'register gina');
SELECT lives_ok($$SELECT paycore.register_user('hank', 'Hank-pass-1', '4111111111111111', 'Hank')$$, 'register hank');

-- ---------------------------------------------------------------------------
-- Right and wrong answers.
SELECT is(paycore.authenticate('dave', 'Dave-pass-1'), (SELECT id FROM paycore.users WHERE username = 'dave'),
    'the right password returns the user id');
SELECT is(pg_temp.auth('DAVE', 'Dave-pass-1', 'dave'), 'id', 'the username is case-insensitive (DAVE)');
SELECT is(pg_temp.auth('frank', 'Frank-pass-1', 'Frank'), 'id', 'the username is case-insensitive (frank for Frank)');
SELECT is(pg_temp.auth('dave', 'wrong-pass-1', 'dave'), 'null', 'a wrong password returns NULL');
SELECT is((SELECT failed_logins FROM paycore.users WHERE username = 'dave'), 1, 'the failure was counted');
SELECT is(pg_temp.auth('dave', 'dave-pass-1', 'dave'), 'null', 'the password is case-sensitive');
SELECT is((SELECT failed_logins FROM paycore.users WHERE username = 'dave'), 2, 'that failure was counted too');
SELECT is(pg_temp.auth('dave', 'Dave-pass-1', 'dave'), 'id', 'the right password still works');
SELECT is((SELECT failed_logins FROM paycore.users WHERE username = 'dave'), 0, 'success reset the count');
SELECT is((SELECT locked_until FROM paycore.users WHERE username = 'dave'), NULL, 'dave is not locked');

-- Never an error.
SELECT is(pg_temp.auth('nobody', 'Dave-pass-1'), 'null', 'an unknown user returns NULL');
SELECT is(pg_temp.auth(NULL, 'Dave-pass-1'), 'null', 'a NULL username returns NULL');
SELECT is(pg_temp.auth('dave', NULL), 'null', 'a NULL password returns NULL');
SELECT is(pg_temp.auth(NULL, NULL), 'null', 'NULL username and password return NULL');
SELECT is(pg_temp.auth('', ''), 'null', 'empty username and password return NULL');
SELECT is(pg_temp.auth('dave', ''), 'null', 'an empty password returns NULL');
SELECT is(pg_temp.auth('x''; DROP TABLE paycore.users; --', 'Dave-pass-1'), 'null',
    'a username that is no valid username returns NULL');
SELECT is(pg_temp.auth('dave', repeat('Dave-pass-1', 1000)), 'null', 'an 11000-character password returns NULL');
SELECT is(pg_temp.auth('张三', 'пароль12'), 'null', 'non-ASCII username and password return NULL');
SELECT is(pg_temp.auth('dave', 'Dave-pass-1 '), 'null', 'the password with a trailing space returns NULL');
SELECT is(pg_temp.auth('dave', 'Dave-pass-1', 'dave'), 'id', 'dave logs in, resetting the failures above');

-- ---------------------------------------------------------------------------
-- Success before the limit resets the count: 4 failures, success, 4
-- failures is never 5 consecutive ones.
SELECT is(pg_temp.fail('erin', 4), 4, 'erin: 4 wrong passwords all return NULL');
SELECT is((SELECT failed_logins FROM paycore.users WHERE username = 'erin'), 4, 'erin: 4 failures counted');
SELECT is((SELECT locked_until FROM paycore.users WHERE username = 'erin'), NULL, 'erin: 4 failures do not lock');
SELECT is(pg_temp.auth('erin', 'Erin-pass-1', 'erin'), 'id', 'erin: the right password works after 4 failures');
SELECT is((SELECT failed_logins FROM paycore.users WHERE username = 'erin'), 0, 'erin: success reset the count to 0');
SELECT is(pg_temp.fail('ERIN', 4), 4, 'erin: 4 wrong passwords all return NULL');
SELECT is((SELECT failed_logins FROM paycore.users WHERE username = 'erin'), 4,
    'erin: 4 more failures (as ERIN) counted from zero');
SELECT is((SELECT locked_until FROM paycore.users WHERE username = 'erin'), NULL,
    'erin: 4 + success + 4 failures do not lock');
SELECT is(pg_temp.auth('erin', 'Erin-pass-1', 'erin'), 'id', 'erin: the right password still works');
SELECT is((SELECT failed_logins FROM paycore.users WHERE username = 'dave'), 0,
    'failures of erin do not count against dave');

-- ---------------------------------------------------------------------------
-- Lockout at the default limit of 5 for the default 30 minutes.
SELECT is(current_setting('paycore.max_failed_logins'), '5', 'paycore.max_failed_logins defaults to 5');
SELECT is(current_setting('paycore.lockout_duration'), '30min', 'paycore.lockout_duration defaults to 30 minutes');
SELECT is(pg_temp.fail('Frank', 4), 4, 'frank: 4 wrong passwords all return NULL');
SELECT is((SELECT locked_until FROM paycore.users WHERE username = 'Frank'), NULL, 'Frank: 4 failures do not lock');
SELECT is(pg_temp.auth('FRANK', 'wrong-again-5', 'Frank'), 'null', 'Frank: the 5th failure returns NULL');
SELECT is((SELECT failed_logins FROM paycore.users WHERE username = 'Frank'), 5, 'Frank: failed_logins is 5');
-- now() is the transaction's start, the same value authenticate saw.
SELECT is((SELECT locked_until FROM paycore.users WHERE username = 'Frank'), now() + interval '30 minutes',
    'Frank: locked_until is 30 minutes from now');
SELECT is(pg_temp.auth('Frank', 'Frank-pass-1', 'Frank'), 'null', 'Frank: locked, even the right password returns NULL');
SELECT is(pg_temp.auth('frank', 'Frank-pass-1', 'Frank'), 'null', 'Frank: locked under any case of the username');
SELECT is((SELECT locked_until FROM paycore.users WHERE username = 'Frank'), now() + interval '30 minutes',
    'Frank: the right password during the lockout did not lift it');
SELECT cmp_ok((SELECT failed_logins FROM paycore.users WHERE username = 'Frank'), '>=', 5,
    'Frank: the right password during the lockout did not reset the count');
SELECT is(pg_temp.auth('Frank', 'wrong-during-lock', 'Frank'), 'null', 'Frank: a wrong password during the lockout returns NULL');

-- Expiry: move locked_until into the past, as the clock would.
UPDATE paycore.users SET locked_until = now() - interval '1 second' WHERE username = 'Frank';
SELECT is(pg_temp.auth('Frank', 'Frank-pass-1', 'Frank'), 'id', 'Frank: after the lockout the right password works again');
SELECT is((SELECT failed_logins FROM paycore.users WHERE username = 'Frank'), 0, 'Frank: and the count is reset');
SELECT is((SELECT locked_until FROM paycore.users WHERE username = 'Frank'), NULL, 'Frank: and the lock is cleared');
SELECT is(pg_temp.auth('Frank', 'wrong-after-1', 'Frank'), 'null', 'Frank: a new failure after the reset');
SELECT is((SELECT locked_until FROM paycore.users WHERE username = 'Frank'), NULL,
    'Frank: one failure after the reset does not lock again');
SELECT is(pg_temp.auth('Frank', 'Frank-pass-1', 'Frank'), 'id', 'Frank: the right password works');

-- A lock that ran out gives a fresh count, even if nobody logged in since:
-- one wrong password afterwards must not lock the account for another 30 minutes.
SELECT is(pg_temp.fail('Frank', 5), 5, 'Frank: five more wrong guesses');
SELECT ok((SELECT locked_until > now() FROM paycore.users WHERE username = 'Frank'), 'Frank: locked again');
UPDATE paycore.users SET locked_until = now() - interval '1 second' WHERE username = 'Frank';
SELECT is(pg_temp.fail('Frank', 1), 1, 'Frank: one wrong guess after the second lock ran out');
SELECT is((SELECT failed_logins FROM paycore.users WHERE username = 'Frank'), 1,
    'Frank: the count starts over after an expired lock');
SELECT is((SELECT locked_until FROM paycore.users WHERE username = 'Frank'), NULL,
    'Frank: a single failure after an expired lock does not lock');
SELECT is(pg_temp.auth('Frank', 'Frank-pass-1', 'Frank'), 'id', 'Frank: and the right password still works');

-- ---------------------------------------------------------------------------
-- paycore.lockout_duration sets how long.
SET paycore.lockout_duration = 60;
SELECT is(pg_temp.fail('gina', 5), 5, 'gina: 5 wrong passwords all return NULL');
SELECT is((SELECT locked_until FROM paycore.users WHERE username = 'gina'), now() + interval '60 seconds',
    'gina: with paycore.lockout_duration = 60 the lock lasts 60 seconds');
SELECT is(pg_temp.auth('gina', 'Gina-pass-1', 'gina'), 'null', 'gina: locked');
RESET paycore.lockout_duration;

-- ---------------------------------------------------------------------------
-- paycore.max_failed_logins sets the threshold.
SET paycore.max_failed_logins = 2;
SELECT is(pg_temp.auth('hank', 'wrong-1', 'hank'), 'null', 'hank: first failure');
SELECT is((SELECT locked_until FROM paycore.users WHERE username = 'hank'), NULL,
    'hank: one failure does not lock at max_failed_logins = 2');
SELECT is(pg_temp.auth('hank', 'Hank-pass-1', 'hank'), 'id', 'hank: the right password works after one failure');
SELECT is(pg_temp.fail('hank', 2), 2, 'hank: 2 wrong passwords all return NULL');
SELECT is((SELECT failed_logins FROM paycore.users WHERE username = 'hank'), 2, 'hank: two consecutive failures');
SELECT is((SELECT locked_until FROM paycore.users WHERE username = 'hank'), now() + interval '30 minutes',
    'hank: two failures lock at max_failed_logins = 2');
SELECT is(pg_temp.auth('hank', 'Hank-pass-1', 'hank'), 'null', 'hank: locked, the right password returns NULL');
RESET paycore.max_failed_logins;
SELECT is(pg_temp.auth('hank', 'Hank-pass-1', 'hank'), 'null',
    'hank: the lock stands after the threshold is reset');

-- ---------------------------------------------------------------------------
-- The others were not touched by any of this.
SELECT is(pg_temp.auth('dave', 'Dave-pass-1', 'dave'), 'id', 'dave still logs in');
SELECT is(pg_temp.auth('erin', 'Erin-pass-1', 'erin'), 'id', 'erin still logs in');
SELECT is((SELECT count(*) FROM paycore.users WHERE locked_until > now()), 2::bigint,
    'exactly gina and hank are locked');

SELECT * FROM finish();
ROLLBACK;
