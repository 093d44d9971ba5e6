-- Applications reach the data only through the API functions, which the DBA
-- grants to their roles (README, "Privileges").
REVOKE ALL ON ALL TABLES IN SCHEMA paycore FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA paycore FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA paycore FROM PUBLIC;
GRANT EXECUTE ON FUNCTION paycore.order_transitions(), paycore.refund_transitions() TO PUBLIC;
