CREATE TYPE paycore.order_status AS ENUM (
    'pending', 'processing', 'paid', 'failed', 'closed',
    'partially_refunded', 'refunded'
);

CREATE TYPE paycore.refund_status AS ENUM ('pending', 'succeeded', 'failed');

CREATE TYPE paycore.notification_status AS ENUM ('pending', 'delivered', 'dead');
