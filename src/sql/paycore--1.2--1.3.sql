\echo Use "ALTER EXTENSION paycore UPDATE TO '1.3'" to load this file. \quit
-- paycore 1.2 -> 1.3.  Carries only what changed from 1.2 to 1.3; shipped
-- scripts are never edited.

-- The foreign keys of orders and refunds are checked at COMMIT on their own
-- side and at once on the referenced side (RESTRICT), so that a row
-- inserted and updated in one transaction is checked once, against its
-- final version.  PostgreSQL cannot change a key's actions in place: each
-- is dropped and added again under its name, which checks the rows already
-- there once more.
ALTER TABLE paycore.orders
    DROP CONSTRAINT orders_merchant_id_fkey,
    DROP CONSTRAINT orders_user_id_fkey,
    DROP CONSTRAINT orders_currency_fkey,
    DROP CONSTRAINT orders_payment_method_fkey,
    ADD CONSTRAINT orders_merchant_id_fkey FOREIGN KEY (merchant_id) REFERENCES paycore.merchants (id)
        ON UPDATE RESTRICT ON DELETE RESTRICT DEFERRABLE INITIALLY DEFERRED,
    ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES paycore.users (id)
        ON UPDATE RESTRICT ON DELETE RESTRICT DEFERRABLE INITIALLY DEFERRED,
    ADD CONSTRAINT orders_currency_fkey FOREIGN KEY (currency) REFERENCES paycore.currencies (code)
        ON UPDATE RESTRICT ON DELETE RESTRICT DEFERRABLE INITIALLY DEFERRED,
    ADD CONSTRAINT orders_payment_method_fkey FOREIGN KEY (payment_method)
        REFERENCES paycore.payment_methods (code)
        ON UPDATE RESTRICT ON DELETE RESTRICT DEFERRABLE INITIALLY DEFERRED;

ALTER TABLE paycore.refunds
    DROP CONSTRAINT refunds_order_id_fkey,
    DROP CONSTRAINT refunds_merchant_id_fkey,
    ADD CONSTRAINT refunds_order_id_fkey FOREIGN KEY (order_id) REFERENCES paycore.orders (id)
        ON UPDATE RESTRICT ON DELETE RESTRICT DEFERRABLE INITIALLY DEFERRED,
    ADD CONSTRAINT refunds_merchant_id_fkey FOREIGN KEY (merchant_id) REFERENCES paycore.merchants (id)
        ON UPDATE RESTRICT ON DELETE RESTRICT DEFERRABLE INITIALLY DEFERRED;
