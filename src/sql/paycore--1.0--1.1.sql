\echo Use "ALTER EXTENSION paycore UPDATE TO '1.1'" to load this file. \quit
-- paycore 1.0 -> 1.1.  Carries only what changed from 1.0 to 1.1; shipped
-- scripts are never edited.  test/t/004_upgrade.pl checks that 1.0 updated
-- by this script has the same objects as a fresh 1.1.
