# Webhook delivery by paycore's background worker, end to end: a real HTTP
# receiver on 127.0.0.1 (test/webhook_receiver.py) plays the merchants and
# checks their signatures itself.
#
# Shown here: the worker runs and is visible in worker_status; a signed
# delivery with its headers and body, for all five event types (expired
# orders closed by the worker itself); retries after 500s, after a timeout
# and after a refused connection, following the schedule; dead after the
# schedule; redeliver of a dead and of a delivered notification; no redirect
# followed; a rolled-back transaction sends nothing; two signatures in the
# rotation grace window; worker_status and notification_stats; the worker
# restarting after pg_terminate_backend; SIGHUP reloading the schedule; a
# row that becomes due behind the worker's claims still sent; a
# standby's worker sending nothing; and, on a node without
# shared_preload_libraries, CREATE EXTENSION with a WARNING and events that
# queue but are never sent.
#
# The node runs a short retry schedule ('1s,1s': three attempts, then dead)
# and a 1 s HTTP timeout so that every retry path finishes in seconds.  Every
# wait is a poll_query_until on the database, never a sleep followed by an
# assertion.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use Encode ();
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PaycoreNode;
use WebhookReceiver;

my $rx = WebhookReceiver->start('001');

my $node = PaycoreNode->start(
	'primary', q{
paycore.retry_schedule = '1s,1s'
paycore.http_timeout_ms = 1000
},
	allows_streaming => 1);    # a standby is made from it in section 10

# ---------------------------------------------------------------- helpers

sub query
{
	my ($n, $sql) = @_;
	return $n->safe_psql('postgres', $sql);
}

# The SQLSTATE a statement fails with (undef if it succeeds).
sub sqlstate_of
{
	my ($n, $sql) = @_;
	my ($out, $err) = ('', '');
	$n->psql('postgres', "\\set VERBOSITY verbose\n$sql",
		stdout => \$out, stderr => \$err);
	return $err =~ /ERROR:\s+([0-9A-Z]{5}):/ ? $1 : undef;
}

# A merchant whose secret the receiver knows: (merchant id, signing secret).
sub new_merchant
{
	my ($n, $name, $url) = @_;
	my ($id, $secret) = split /\|/,
	  query($n,
		"SELECT merchant_id, signing_secret FROM paycore.create_merchant('$name', '$url')");
	$rx->add_secrets($secret);
	return ($id, $secret);
}

sub new_order
{
	my ($n, $merchant, $no, $amount) = @_;
	$amount //= 1000;
	return query($n,
		"SELECT paycore.create_order($merchant, '$no', $amount, 'CNY', 'card')");
}

# Creates and pays an order, each in its own transaction: the order id.
sub pay
{
	my ($n, $merchant, $no, $amount) = @_;
	$amount //= 1000;
	my $order = new_order($n, $merchant, $no, $amount);
	query($n, "SELECT paycore.confirm_payment($order, 'ch-$no', $amount)");
	return $order;
}

# The id of the notification of $type about order $order (of refund $refund).
sub notification
{
	my ($n, $type, $order, $refund) = @_;
	my $cond = "(payload #>> '{data,order,id}')::bigint = $order";
	$cond .= " AND (payload #>> '{data,refund,id}')::bigint = $refund" if $refund;
	my @ids = split /\n/,
	  query($n,
		"SELECT id FROM paycore.notifications WHERE event_type = '$type' AND $cond ORDER BY id");
	return @ids == 1 ? $ids[0] : undef;
}

sub wait_status
{
	my ($nid, $status) = @_;
	return $node->poll_query_until('postgres',
		"SELECT status = '$status' FROM paycore.notifications WHERE id = $nid");
}

sub event_id_of
{
	my ($nid) = @_;
	return query($node, "SELECT event_id FROM paycore.notifications WHERE id = $nid");
}

# Status codes (or 'error') of a notification's attempts, oldest first.
sub attempt_outcomes
{
	my ($nid) = @_;
	return query($node,
		"SELECT string_agg(coalesce(status_code::text, 'error'), ',' ORDER BY attempted_at, id)"
		  . " FROM paycore.delivery_attempts WHERE notification_id = $nid");
}

# True when every gap between consecutive attempts is at least ~1 s, the
# test schedule (a lower bound only: the worker must not retry early).
sub attempts_follow_schedule
{
	my ($nid) = @_;
	return query($node, qq{
		SELECT coalesce(bool_and(gap >= interval '900 ms'), false)
		  FROM (SELECT attempted_at - lag(attempted_at) OVER (ORDER BY attempted_at, id) AS gap
		          FROM paycore.delivery_attempts WHERE notification_id = $nid) g
		 WHERE gap IS NOT NULL});
}

# ------------------------------------------------------- worker is running

my ($out, $err) = ('', '');
$node->psql('postgres', 'CREATE EXTENSION paycore CASCADE', stdout => \$out, stderr => \$err);
unlike($err, qr/WARNING/, 'CREATE EXTENSION with the library preloaded does not warn');

ok( $node->poll_query_until(
		'postgres',
		"SELECT running AND pid IS NOT NULL FROM paycore.worker_status"),
	'worker_status shows the worker running');
is( query($node, qq{
		SELECT count(*) FILTER (WHERE a.pid = w.pid)
		  FROM pg_stat_activity a, paycore.worker_status w
		 WHERE a.backend_type = 'paycore worker' AND a.datname = 'postgres'}),
	'1',
	"worker_status.pid is the 'paycore worker' in pg_stat_activity, connected to paycore.database");

# ----------- a node WITHOUT shared_preload_libraries: events queue, no worker
# Set up first; its queued event is checked at the end, after the rest of
# this test has kept the receiver busy, to show that nothing delivered it.

my $plain = PostgreSQL::Test::Cluster->new('no_preload');
$plain->init;
$plain->append_conf('postgresql.conf', "paycore.encryption_key = 'tap-test-key'\n");
$plain->start;
($out, $err) = ('', '');
my $rc = $plain->psql('postgres', 'CREATE EXTENSION paycore CASCADE', stdout => \$out, stderr => \$err);
is($rc, 0, 'CREATE EXTENSION works without shared_preload_libraries');
like($err, qr/WARNING:.*worker/i, 'with a WARNING about the worker');
like($err, qr/deliver/i, 'saying that no worker will deliver the notifications');

my ($mp, $np, $ev_p);
SKIP:
{
	skip 'paycore could not be created without shared_preload_libraries', 1 unless $rc == 0;
	($mp) = split /\|/, query($plain,
		"SELECT merchant_id FROM paycore.create_merchant('Shop P', '" . $rx->url('/ok/p') . "')");
	$np = notification($plain, 'order.paid', pay($plain, $mp, 'p-1'));
	ok(defined $np, 'without the worker, a paid order still queues its notification');
	$np //= 0;
	$ev_p = query($plain, "SELECT event_id FROM paycore.notifications WHERE id = $np");
}

# ------------------------------------- 1. a signed delivery, headers, body

my ($ma, $secret_a) = new_merchant($node, 'Shop A', $rx->url('/ok/a'));
my ($mz, $secret_z) = new_merchant($node, 'Shop Z', $rx->url('/ok/z'));
my $o1 = pay($node, $ma, 'a-1');
my $n1 = notification($node, 'order.paid', $o1);
ok(defined $n1, 'paying an order enqueued exactly one order.paid notification');
is(query($node, "SELECT count(*) FROM paycore.notifications WHERE (payload #>> '{data,order,id}')::bigint = $o1"),
	'1', 'creating the order enqueued nothing; only the payment did');
ok(wait_status($n1, 'delivered'), 'the notification is marked delivered');

my ($event1, $payload1) = split /\|/,
  query($node, "SELECT event_id, payload::text FROM paycore.notifications WHERE id = $n1");
my @hits = $rx->for_event($event1);
is(scalar @hits, 1, 'the receiver got the webhook exactly once');
my $hit = $hits[0] // { headers => {}, body => '{}' };
is($hit->{method}, 'POST', 'it is a POST');
is($hit->{path}, '/ok/a', "to the merchant's notify_url");
is(WebhookReceiver::header($hit, 'Content-Type'), 'application/json', 'Content-Type: application/json');
is(WebhookReceiver::header($hit, 'Paycore-Event-Id'), $event1, 'Paycore-Event-Id is the event id');
my $sig = WebhookReceiver::header($hit, 'Paycore-Signature') // '';
like($sig, qr/^t=\d+,v1=[0-9a-f]{64}$/, 'Paycore-Signature is t=<unix seconds>,v1=<lowercase hex>');
is($hit->{signature_valid}, JSON::PP::true, 'the receiver verified the signature');
is($hit->{v1_count}, 1, 'one v1 value before any rotation');
my ($v1) = WebhookReceiver::v1_values($hit);
is($v1, WebhookReceiver::hmac_for($hit, $secret_a),
	'v1 is HMAC-SHA256 of "<t>.<body>" under the secret create_merchant returned');
isnt($v1, WebhookReceiver::hmac_for($hit, $secret_z), "another merchant's secret does not produce it");

my $body = eval { decode_json(Encode::encode_utf8($hit->{body})) } // {};
my ($t) = $sig =~ /^t=(\d+)/;
is_deeply([ sort keys %$body ], [qw(created data id type)], 'body has id, type, created, data');
is($body->{id},   $event1,      'body id is the event id');
is($body->{type}, 'order.paid', 'body type is order.paid');
like($body->{created} // '', qr/^\d+$/, 'created is an integer');
ok(defined $t && $body->{created} <= $t && $t - $body->{created} < 3600,
	'created is unix seconds, no later than the signature time');
my $order = $body->{data}{order} // {};
is($order->{id},               $o1,     'data.order.id');
is($order->{out_trade_no},     'a-1',   'data.order.out_trade_no');
is($order->{amount},           1000,    'data.order.amount');
is($order->{currency},         'CNY',   'data.order.currency');
is($order->{status},           'paid',  'data.order.status');
is($order->{refunded_amount},  0,       'data.order.refunded_amount');
is($order->{channel_trade_no}, 'ch-a-1', 'data.order.channel_trade_no');
ok(defined $order->{paid_at}, 'data.order.paid_at is set');
ok(!exists $body->{data}{refund}, 'an order event carries no refund');
is_deeply($body, decode_json($payload1), 'the body sent is the stored payload');

is(query($node, qq{
		SELECT count(*), min(status_code), bool_and(error IS NULL), bool_and(duration_ms >= 0)
		  FROM paycore.delivery_attempts WHERE notification_id = $n1}),
	'1|200|t|t', 'delivery_attempts logs one attempt: HTTP 200, no error, a duration');
is(query($node, qq{
		SELECT status, last_status_code, delivered_at >= created_at
		  FROM paycore.notifications WHERE id = $n1}),
	'delivered|200|t', 'the notification records status 200 and when it was delivered');

# ------------------------------------------------- 2. the other event types

# order.failed and order.closed, with a processing step on the way that must
# not notify.
my $o_fail = new_order($node, $ma, 'a-fail');
query($node, "SELECT paycore.start_payment($o_fail)");
query($node, "SELECT paycore.fail_payment($o_fail, 'card declined')");
my $o_close = new_order($node, $ma, 'a-close');
query($node, "SELECT paycore.close_order($o_close)");
# Refunds: a succeeded one and a failed one on the same order.
my $o_ref = pay($node, $ma, 'a-ref');
my $r_ok = query($node, "SELECT paycore.request_refund($o_ref, 'r-ok', 400, 'customer asked')");
query($node, "SELECT paycore.complete_refund($r_ok, true, 'chr-ok')");
my $r_bad = query($node, "SELECT paycore.request_refund($o_ref, 'r-bad', 100, 'customer asked')");
query($node, "SELECT paycore.complete_refund($r_bad, false)");
# An expired order: the worker runs paycore.expire_orders() by itself.
my $o_exp = new_order($node, $ma, 'a-exp');
query($node, "UPDATE paycore.orders SET expires_at = now() - interval '1 second' WHERE id = $o_exp");
ok($node->poll_query_until('postgres', "SELECT status = 'closed' FROM paycore.orders WHERE id = $o_exp"),
	'the worker closes an expired order without any cron');

is(query($node, "SELECT count(*) FROM paycore.notifications WHERE (payload #>> '{data,order,id}')::bigint = $o_fail"),
	'1', 'start_payment enqueued nothing, fail_payment one notification');

my %expect = (
	'order.failed'     => [ notification($node, 'order.failed', $o_fail),  $o_fail,  'failed' ],
	'order.closed'     => [ notification($node, 'order.closed', $o_close), $o_close, 'closed' ],
	'refund.succeeded' => [ notification($node, 'refund.succeeded', $o_ref, $r_ok), $o_ref, 'partially_refunded' ],
	'refund.failed'    => [ notification($node, 'refund.failed', $o_ref, $r_bad),  $o_ref, 'partially_refunded' ],
	'expired'          => [ notification($node, 'order.closed', $o_exp), $o_exp, 'closed' ]);
for my $what (sort keys %expect)
{
	my ($nid, $oid, $ostatus) = @{ $expect{$what} };
	ok(defined $nid, "$what: exactly one notification enqueued");
	next unless defined $nid;
	ok(wait_status($nid, 'delivered'), "$what: delivered");
	my @h = $rx->for_event(event_id_of($nid));
	is(scalar @h, 1, "$what: received once");
	my $b = eval { decode_json(Encode::encode_utf8($h[0]{body})) } // {};
	is($b->{type}, $what eq 'expired' ? 'order.closed' : $what, "$what: body type");
	is($b->{data}{order}{id}, $oid, "$what: data.order.id");
	is($b->{data}{order}{status}, $ostatus, "$what: data.order.status as the change left it");
	is($h[0]{signature_valid}, JSON::PP::true, "$what: signature verified");
}
# The refund events carry the refund.
{
	my ($nid) = @{ $expect{'refund.succeeded'} };
	my @h = $rx->for_event(event_id_of($nid // 0));
	my $b = eval { decode_json(Encode::encode_utf8($h[0]{body})) } // {};
	is_deeply(
		$b->{data}{refund},
		{ id => $r_ok, out_refund_no => 'r-ok', amount => 400, status => 'succeeded' },
		'refund.succeeded: data.refund has id, out_refund_no, amount, status');
	is($b->{data}{order}{refunded_amount}, 400, 'refund.succeeded: the order shows the refunded amount');
	($nid) = @{ $expect{'refund.failed'} };
	@h = $rx->for_event(event_id_of($nid // 0));
	$b = eval { decode_json(Encode::encode_utf8($h[0]{body})) } // {};
	is_deeply(
		$b->{data}{refund},
		{ id => $r_bad, out_refund_no => 'r-bad', amount => 100, status => 'failed' },
		'refund.failed: data.refund');
}

# ------------------ 3. failures: 500s, a timeout, a refused port, a redirect
# All four start together; a merchant whose endpoint is down must not hold
# up the others.

my $dead_port = PostgreSQL::Test::Cluster::get_free_port();
my ($mb) = new_merchant($node, 'Shop B flaky',   $rx->url('/flaky/2/b'));
my ($mc) = new_merchant($node, 'Shop C slow',    $rx->url('/sleep/5/c'));
my ($md) = new_merchant($node, 'Shop D down',    "http://127.0.0.1:$dead_port/d");
my ($me) = new_merchant($node, 'Shop E moved',   $rx->url('/redirect/e'));
my $nb = notification($node, 'order.paid', pay($node, $mb, 'b-1'));
my $nc = notification($node, 'order.paid', pay($node, $mc, 'c-1'));
my $nd = notification($node, 'order.paid', pay($node, $md, 'd-1'));
my $ne = notification($node, 'order.paid', pay($node, $me, 'e-1'));

# A healthy merchant is served while the others fail.
my $n_a2 = notification($node, 'order.paid', pay($node, $ma, 'a-2'));
ok(wait_status($n_a2, 'delivered'), 'a healthy merchant is delivered to while others fail');

# 3a. Two 500s, then 200: delivered on the third attempt, one second apart.
ok(wait_status($nb, 'delivered'), '500, 500, then 200: delivered');
is(attempt_outcomes($nb), '500,500,200', 'delivery_attempts: 500, 500, 200');
is(attempts_follow_schedule($nb), 't', 'the retries wait the schedule (1 s) between attempts');
@hits = $rx->for_event(event_id_of($nb));
is(join(',', map { $_->{response_status} } @hits), '500,500,200', 'the receiver saw the three attempts');
is(scalar(grep { $_->{body} eq $hits[0]{body} } @hits), 3, 'every retry sends the same body');
is(scalar(grep { $_->{signature_valid} } @hits), 3, 'every retry is signed validly');

# 3b. A timeout: the receiver sleeps 5 s, the worker gives up after 1 s and
# retries; the merchant fixes its URL meanwhile and the retry goes to the
# current notify_url.
ok( $node->poll_query_until('postgres',
		"SELECT count(*) >= 1 FROM paycore.delivery_attempts WHERE notification_id = $nc"),
	'the slow endpoint got a first attempt');
query($node, "SELECT paycore.set_notify_url($mc, '" . $rx->url('/ok/c') . "')");
ok(wait_status($nc, 'delivered'), 'after a timeout the retry is delivered');
like(attempt_outcomes($nc), qr/^error(,error)?,200$/, 'delivery_attempts: timeout(s), then 200');
is(query($node, qq{
		SELECT bool_and(error IS NOT NULL AND status_code IS NULL AND duration_ms >= 500 AND duration_ms < 5000)
		  FROM paycore.delivery_attempts WHERE notification_id = $nc AND status_code IS DISTINCT FROM 200}),
	't', 'a timed-out attempt logs an error and ends at the timeout, not when the server answers');
like(query($node, "SELECT error FROM paycore.delivery_attempts WHERE notification_id = $nc ORDER BY id LIMIT 1"),
	qr/time/i, 'the error says it timed out');
is(attempts_follow_schedule($nc), 't', 'the retry waits the schedule');
@hits = $rx->for_event(event_id_of($nc));
ok((grep { $_->{path} eq '/sleep/5/c' } @hits) >= 1, 'the receiver saw the slow attempt');
is($hits[-1]{path}, '/ok/c', "the retry went to the merchant's current notify_url");

# 3c. Connection refused every time: dead after the schedule.
ok(wait_status($nd, 'dead'), 'a refused connection, three times: dead');
is(attempt_outcomes($nd), 'error,error,error', 'delivery_attempts: three errors, no status code');
is(attempts_follow_schedule($nd), 't', 'the attempts follow the schedule');
is(query($node, qq{
		SELECT attempts, last_status_code IS NULL, last_error <> '', delivered_at IS NULL
		  FROM paycore.notifications WHERE id = $nd}),
	'3|t|t|t', 'the dead notification: 3 attempts, last_error set, no status code, not delivered');

# 3d. A redirect is a failure, and not followed.
ok(wait_status($ne, 'dead'), 'a 302 three times: dead');
is(attempt_outcomes($ne), '302,302,302', 'delivery_attempts: 302, 302, 302');
is(query($node, "SELECT attempts, last_status_code, delivered_at IS NULL FROM paycore.notifications WHERE id = $ne"),
	'3|302|t', 'the notification failed with status 302');
@hits = $rx->for_event(event_id_of($ne));
is(scalar(grep { $_->{path} eq '/redirect/e' } @hits), 3, 'the receiver saw three POSTs to /redirect/e');
is(scalar(grep { $_->{path} ne '/redirect/e' } @hits), 0, 'and the Location (/ok) was never followed');

# --------------------------------------------------------- 4. redeliver

# A dead one: back to pending now, attempts reset, delivered once the
# merchant is reachable.
query($node, "SELECT paycore.set_notify_url($md, '" . $rx->url('/ok/d') . "')");
my @lines = split /\n/, query($node, qq{
	BEGIN;
	SELECT paycore.redeliver($nd);
	SELECT status, attempts, next_attempt_at <= now() FROM paycore.notifications WHERE id = $nd;
	COMMIT;});
is($lines[-1], 'pending|0|t', 'redeliver puts a dead notification back to pending, due now, attempts 0');
ok(wait_status($nd, 'delivered'), 'the redelivered notification is delivered');
@hits = grep { $_->{path} eq '/ok/d' } $rx->for_event(event_id_of($nd));
is(scalar @hits, 1, 'the receiver got it, with the same event id');
is($hits[0]{signature_valid}, JSON::PP::true, 'signed validly');

# A delivered one: sent again (the merchant deduplicates on the event id).
my $delivered_at = query($node, "SELECT delivered_at FROM paycore.notifications WHERE id = $n1");
query($node, "SELECT paycore.redeliver($n1)");
ok( $node->poll_query_until('postgres',
		"SELECT status = 'delivered' AND delivered_at > '$delivered_at' FROM paycore.notifications WHERE id = $n1"),
	'redeliver sends a delivered notification again');
@hits = $rx->for_event($event1);
is(scalar @hits, 2, 'the receiver got the same event id twice');
is($hits[1]{body}, $hits[0]{body}, 'with the same body');

is(sqlstate_of($node, 'SELECT paycore.redeliver(-1)'), 'P0002', 'redeliver of an unknown id: P0002');
is(sqlstate_of($node, 'SELECT paycore.redeliver(NULL)'), '22004', 'redeliver(NULL): 22004');

# ------------------------------------------------ 5. rotation of the secret

my ($mf, $secret_f_old) = new_merchant($node, 'Shop F', $rx->url('/ok/f'));
my $secret_f_new = query($node, "SELECT paycore.rotate_signing_secret($mf)");
isnt($secret_f_new, $secret_f_old, 'rotate_signing_secret returns a new secret');
$rx->add_secrets($secret_f_new);
my $nf = notification($node, 'order.paid', pay($node, $mf, 'f-1'));
ok(wait_status($nf, 'delivered'), 'delivered after the rotation');
($hit) = $rx->for_event(event_id_of($nf));
$hit //= { headers => {}, body => '' };
like(WebhookReceiver::header($hit, 'Paycore-Signature') // '',
	qr/^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/, 'in the grace window: t=..,v1=..,v1=..');
is($hit->{v1_count}, 2, 'two v1 values');
my @v1 = WebhookReceiver::v1_values($hit);
is($v1[0], WebhookReceiver::hmac_for($hit, $secret_f_new), 'the first v1 is signed with the new secret');
is($v1[1], WebhookReceiver::hmac_for($hit, $secret_f_old), 'the second v1 with the previous secret');
is($hit->{signature_valid}, JSON::PP::true, 'the receiver verified it');

# Once the grace period (24 h by default) is over, only the new secret signs.
query($node, "UPDATE paycore.merchants SET secret_rotated_at = now() - interval '25 hours' WHERE id = $mf");
$nf = notification($node, 'order.paid', pay($node, $mf, 'f-2'));
ok(wait_status($nf, 'delivered'), 'delivered after the grace period');
($hit) = $rx->for_event(event_id_of($nf));
$hit //= { headers => {}, body => '' };
@v1 = WebhookReceiver::v1_values($hit);
is(scalar @v1, 1, 'after the grace period: one v1 value');
is($v1[0], WebhookReceiver::hmac_for($hit, $secret_f_new), 'signed with the new secret');

# --------------------------------- 6. a rolled-back transaction sends nothing

ok($node->poll_query_until('postgres', "SELECT count(*) = 0 FROM paycore.notifications WHERE status = 'pending'"),
	'the queue is drained');
my $log_before   = scalar(my @before = $rx->entries);
my $notif_before = query($node, 'SELECT count(*) FROM paycore.notifications');
my $tries_before = query($node, 'SELECT count(*) FROM paycore.delivery_attempts');

my $rb1 = new_order($node, $ma, 'rb-1');
my $rb2 = new_order($node, $ma, 'rb-2');
my $rb3 = new_order($node, $ma, 'rb-3');
query($node, "BEGIN; SELECT paycore.confirm_payment($rb1, 'ch-rb-1', 1000); ROLLBACK;");
query($node, "BEGIN; SAVEPOINT s; SELECT paycore.confirm_payment($rb2, 'ch-rb-2', 1000); ROLLBACK TO SAVEPOINT s; COMMIT;");
isnt(sqlstate_of($node, "BEGIN; SELECT paycore.close_order($rb3); SELECT 1/0; COMMIT;"),
	undef, 'a transaction that closed an order and then failed');
is(query($node, "SELECT string_agg(status::text, ',' ORDER BY id) FROM paycore.orders WHERE id IN ($rb1, $rb2, $rb3)"),
	'pending,pending,pending', 'the rolled-back changes left the orders pending');

# A committed event afterwards: once it is delivered, anything the rolled-back
# ones had queued would have been sent before or with it.
my $o_marker = pay($node, $ma, 'rb-marker');
my $n_marker = notification($node, 'order.paid', $o_marker);
ok(wait_status($n_marker, 'delivered'), 'a later committed event is delivered');
is(query($node, 'SELECT count(*) FROM paycore.notifications') - $notif_before, 1,
	'the rolled-back transactions enqueued nothing; the committed one enqueued one');
is(query($node, 'SELECT count(*) FROM paycore.delivery_attempts') - $tries_before, 1,
	'one delivery attempt since');
my @all = $rx->entries;
my @new = @all[ $log_before .. $#all ];
is(scalar @new, 1, 'the receiver got one webhook since');
is(WebhookReceiver::header($new[0] // { headers => {} }, 'Paycore-Event-Id'),
	event_id_of($n_marker), 'and it is the committed event');
is(scalar(grep { $_->{body} =~ /"rb-[123]"/ } $rx->entries), 0,
	'no webhook ever mentioned the rolled-back orders');

# ---------------------------------------- 7. worker_status, notification_stats

# in_flight may lag the commit that marked the last webhook delivered by a
# moment: wait for it, then check the rest.
ok($node->poll_query_until('postgres', 'SELECT in_flight = 0 AND queue_depth = 0 FROM paycore.worker_status'),
	'worker_status on a drained queue: nothing in flight, queue depth 0');
is(query($node, qq{
		SELECT w.running, w.pid = a.pid
		  FROM paycore.worker_status w, pg_stat_activity a WHERE a.backend_type = 'paycore worker'}),
	't|t', 'worker_status: running, with the pid of the worker in pg_stat_activity');

# Latency from commit to the first attempt, for the log only (no timed
# assertions): the worker is woken by the commit, not by a timer.
note 'first-attempt latency after commit (ms), median: ' . query($node, q{
	SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM a.attempted_at - n.created_at) * 1000)::numeric, 1)
	  FROM paycore.notifications n
	  JOIN LATERAL (SELECT min(attempted_at) AS attempted_at FROM paycore.delivery_attempts
	                 WHERE notification_id = n.id) a ON true});

sub stats
{
	my ($m) = @_;
	return query($node, qq{
		SELECT pending, delivered, dead, oldest_pending_age IS NULL, round(success_rate, 4)
		  FROM paycore.notification_stats WHERE merchant_id = $m});
}
my $a_delivered = query($node, "SELECT count(*) FROM paycore.notifications WHERE merchant_id = $ma");
is(stats($ma), "0|$a_delivered|0|t|1.0000", 'stats for A: all delivered, every attempt succeeded');
is(stats($mb), '0|1|0|t|0.3333', 'stats for B: one delivered after 500, 500 (1 of 3 attempts succeeded)');
is(stats($md), '0|1|0|t|0.2500', 'stats for D: redelivered after three refusals (1 of 4)');
is(stats($me), '0|0|1|t|0.0000', 'stats for E: one dead, no attempt succeeded');

# ------------------------------------- 8. the worker comes back by itself

my $old_pid = query($node, 'SELECT pid FROM paycore.worker_status');
is(query($node, "SELECT pg_terminate_backend($old_pid)"), 't', 'terminate the worker');
ok( $node->poll_query_until('postgres', qq{
		SELECT w.running AND w.pid <> $old_pid AND w.pid = a.pid
		  FROM paycore.worker_status w, pg_stat_activity a
		 WHERE a.backend_type = 'paycore worker'}),
	'the worker is back with a new pid (worker_status and pg_stat_activity agree)');
is(query($node, "SELECT count(*) FROM pg_stat_activity WHERE pid = $old_pid"), '0', 'the old worker is gone');
my $n_after = notification($node, 'order.paid', pay($node, $ma, 'after-restart'));
ok(wait_status($n_after, 'delivered'), 'deliveries continue after the restart');
is(scalar($rx->for_event(event_id_of($n_after))), 1, 'the receiver got it');

# ----------------------------------- 9. SIGHUP reloads the worker's GUCs

# A one-interval schedule: two attempts, then dead (three under '1s,1s').
query($node, "ALTER SYSTEM SET paycore.retry_schedule = '1s'");
query($node, 'SELECT pg_reload_conf()');
my ($mg) = new_merchant($node, 'Shop G down', "http://127.0.0.1:$dead_port/g");
my $ng = notification($node, 'order.paid', pay($node, $mg, 'g-1'));
ok(wait_status($ng, 'dead'), 'a refused merchant under the reloaded schedule: dead');
is(attempt_outcomes($ng), 'error,error', 'after two attempts: the worker reloaded its schedule on SIGHUP');
query($node, 'ALTER SYSTEM RESET paycore.retry_schedule');
query($node, 'SELECT pg_reload_conf()');

# ------------------------------- 9b. a due row behind the worker's claim cursor

# Two slots and two merchants that answer in 0.2 s: a backlog of 12 drains a
# couple of rows a claim, each claim starting past the rows claimed before.
# A row that becomes due behind that point, as a late commit's does (its
# next_attempt_at is its transaction's start), must still be sent.
query($node, 'ALTER SYSTEM SET paycore.max_concurrency = 2');
query($node, 'SELECT pg_reload_conf()');
my @slow = map { (new_merchant($node, "Shop slow $_", $rx->url("/sleep/0.2/slow$_")))[0] } (1, 2);
query($node,
	"SELECT count(paycore.confirm_payment(o, 'ch-' || o, 1000))
	   FROM (SELECT paycore.create_order(CASE WHEN g % 2 = 0 THEN $slow[0] ELSE $slow[1] END,
	                                     'cursor-' || g, 1000, 'CNY', 'card') AS o
	           FROM generate_series(1, 12) g) AS orders");
my $backlog = "merchant_id IN ($slow[0], $slow[1])";
ok( $node->poll_query_until('postgres',
		"SELECT count(*) >= 4 FROM paycore.notifications WHERE $backlog AND status = 'delivered'"),
	'the backlog is being drained');
query($node,
	"UPDATE paycore.notifications SET next_attempt_at = now() - interval '1 hour'
	  WHERE id = (SELECT max(id) FROM paycore.notifications WHERE $backlog AND status = 'pending')");
ok( $node->poll_query_until('postgres',
		"SELECT count(*) FILTER (WHERE status = 'delivered') = 12 FROM paycore.notifications WHERE $backlog"),
	'every row of the backlog was delivered, the one that became due behind the claims too');
query($node, 'ALTER SYSTEM RESET paycore.max_concurrency');
query($node, 'SELECT pg_reload_conf()');

# ---------------------------------------- 10. the worker does nothing on a standby

# A streaming standby with the same configuration.  Its worker must not send:
# a merchant that answers 500 keeps its notification pending on the primary
# for three attempts (about 2 s), visible on the standby all that time, and
# the receiver must see exactly the primary's three attempts.
$node->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($node, 'b', has_streaming => 1);
$standby->start;
my ($mh) = new_merchant($node, 'Shop H failing', $rx->url('/status/500/h'));
my $nh = notification($node, 'order.paid', pay($node, $mh, 'h-1'));
$node->wait_for_catchup($standby);
ok( $standby->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM paycore.notifications WHERE id = $nh"),
	'the standby has the notification');
ok(wait_status($nh, 'dead'), 'the primary gave up after three 500s');
$node->wait_for_catchup($standby);
ok($standby->poll_query_until('postgres', "SELECT status = 'dead' FROM paycore.notifications WHERE id = $nh"),
	'the standby replayed that');
@hits = $rx->for_event(event_id_of($nh));
is(scalar @hits, 3, "the receiver saw only the primary's three attempts: the standby's worker sent nothing");
unlike(slurp_file($standby->logfile), qr/read-only transaction|paycore.*ERROR|ERROR.*paycore/i,
	"the standby's worker did not try to write");
$standby->stop;

# ---------------------------------------------------------- no crash so far

unlike(slurp_file($node->logfile),
	qr/terminating any other active server processes|was terminated by signal|PANIC/,
	'the worker never crashed the server (terminate and reload included)');

# ------------------- 11. the node without the worker, at the end of the test

SKIP:
{
	skip 'paycore could not be created without shared_preload_libraries', 7 unless $rc == 0;
	is(query($plain, "SELECT status, attempts FROM paycore.notifications WHERE id = $np"),
		'pending|0', 'without the worker: the notification is still pending, never attempted');
	is(query($plain, "SELECT count(*) FROM paycore.delivery_attempts"), '0', 'no delivery attempt was logged');
	is(scalar($rx->for_event($ev_p)), 0, 'and the receiver never got it');
	is(query($plain, 'SELECT running, pid IS NULL, queue_depth FROM paycore.worker_status'),
		'f|t|1', 'worker_status: not running, no pid, one queued');
	is(query($plain, qq{
			SELECT pending, delivered, dead, oldest_pending_age > interval '0', success_rate IS NULL
			  FROM paycore.notification_stats WHERE merchant_id = $mp}),
		'1|0|0|t|t', 'notification_stats: one pending with an age, no success rate without attempts');
	is(sqlstate_of($plain, "SELECT paycore.redeliver($np)"), 'PC001',
		'redeliver of a pending notification: PC001');
	is(sqlstate_of($plain, 'SELECT paycore.redeliver(123456789)'), 'P0002', 'redeliver of an unknown id: P0002');
}

$plain->stop;
$node->stop;
$rx->stop;
done_testing();
