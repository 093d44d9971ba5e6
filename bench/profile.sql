-- BENCH_PROFILE=1: where the server's time went over the whole run, from
-- pg_stat_statements (track = all, so statements inside paycore's functions
-- and triggers are listed too) and pg_stat_user_functions.  Written to
-- bench/results/profile.md.
\pset footer off
\echo '# paycore benchmark profile (pg_stat_statements, whole run)'
\echo
\echo '```'
SELECT round(total_exec_time::numeric, 1) AS total_ms, calls,
       round(mean_exec_time::numeric, 4) AS mean_ms, toplevel,
       left(regexp_replace(query, '\s+', ' ', 'g'), 140) AS query
  FROM pg_stat_statements
 ORDER BY total_exec_time DESC
 LIMIT 30;
SELECT schemaname || '.' || funcname AS function, calls,
       round(total_time::numeric, 1) AS total_ms, round(self_time::numeric, 1) AS self_ms
  FROM pg_stat_user_functions
 ORDER BY total_time DESC
 LIMIT 20;
\echo '```'
