# At-least-once across a crash: a stream of paid orders, one commit at a
# time, while the worker delivers them to a real receiver; the postmaster is
# killed with SIGKILL in the middle; after the restart every committed paid
# order has its notification and every notification reaches the receiver
# (duplicates allowed: merchants deduplicate on the event id).
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);
use PaycoreNode;
use WebhookReceiver;

my $orders = 300;

my $rx = WebhookReceiver->start('002');

my $node = PaycoreNode->start(
	'crash', q{
paycore.retry_schedule = '500ms,1s,1s,1s,1s'
paycore.http_timeout_ms = 2000
});
$node->safe_psql('postgres', 'CREATE EXTENSION paycore CASCADE');
ok($node->poll_query_until('postgres', 'SELECT running FROM paycore.worker_status'),
	'the worker runs');

# Two merchants: one answers at once, one takes 300 ms, so that at the kill
# some webhooks are in flight (received, but their 2xx not yet recorded).
my %merchant;
for my $m ([ 'fast', '/ok/fast' ], [ 'slow', '/sleep/0.3/slow' ])
{
	my ($id, $secret) = split /\|/,
	  $node->safe_psql('postgres',
		"SELECT merchant_id, signing_secret FROM paycore.create_merchant('Shop $m->[0]', '"
		  . $rx->url($m->[1]) . "')");
	$rx->add_secrets($secret);
	$merchant{ $m->[0] } = $id;
}

# The stream: one autocommitted statement per order, each printing an
# acknowledgement only after its commit; a short pause between orders so the
# kill lands in the middle.
my $script = "$PostgreSQL::Test::Utils::tmp_check/stream.sql";
open my $fh, '>', $script or die $!;
for my $i (1 .. $orders)
{
	my $m = $merchant{ $i % 2 ? 'fast' : 'slow' };
	my $amount = 100 + $i;
	print $fh "SELECT 'ack:crash-$i' FROM (SELECT paycore.confirm_payment("
	  . "paycore.create_order($m, 'crash-$i', $amount, 'CNY', 'card'), 'ch-crash-$i', $amount)) s;\n";
	print $fh "SELECT pg_sleep(0.01);\n";
}
close $fh;

my $acks = "$PostgreSQL::Test::Utils::tmp_check/stream.out";
my $stream = IPC::Run::start(
	[ 'psql', '-X', '-At', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'), '-f', $script ],
	'<', \undef, '>', $acks, '2>', "$PostgreSQL::Test::Utils::tmp_check/stream.err");

# Kill once a third of the orders are paid and some have been delivered.
ok( $node->poll_query_until('postgres', qq{
		SELECT count(*) FILTER (WHERE status = 'paid') >= $orders / 3
		   AND (SELECT count(*) FROM paycore.notifications WHERE status = 'delivered') > 0
		  FROM paycore.orders}),
	'the stream is running and webhooks are being delivered');

# Every process of the server, to wait for the orphans to go after the kill.
my $postmaster = $node->{_pid};
my @children = grep { parent_of($_) == $postmaster } map { m{^/proc/(\d+)$} ? $1 : () } glob '/proc/[0-9]*';

sub parent_of
{
	my ($pid) = @_;
	open my $st, '<', "/proc/$pid/stat" or return 0;
	my $line = <$st>;
	return $line =~ /\)\s+\S+\s+(\d+)/ ? $1 : 0;
}

$node->kill9;
note 'postmaster killed with SIGKILL';

# The stream loses its connection and stops.
$stream->finish;
isnt($stream->result, 0, 'the stream was cut off by the crash');

my $deadline = time + $PostgreSQL::Test::Utils::timeout_default;
usleep(100_000) while (grep { kill 0, $_ } @children) && time < $deadline;
is(scalar(grep { kill 0, $_ } @children), 0,
	'every server process (the worker too) exits once the postmaster is gone');

$node->start;

my @acked = map { /^ack:(crash-\d+)$/ ? $1 : () } split /\n/, slurp_file($acks);
note scalar(@acked) . " orders acknowledged before the crash";
ok(@acked > 0 && @acked < $orders, 'the crash came in the middle of the stream');

# The database after recovery: what was committed.
my %paid = map { $_ => 1 } split /\n/,
  $node->safe_psql('postgres', "SELECT out_trade_no FROM paycore.orders WHERE status = 'paid'");
is(scalar(grep { !$paid{$_} } @acked), 0, 'every acknowledged order is paid after recovery');

# Each paid order has exactly one order.paid notification, and there is no
# notification for anything that was not committed.
is( $node->safe_psql('postgres', q{
		SELECT count(*) FROM paycore.orders o
		 WHERE o.status = 'paid'
		   AND (SELECT count(*) FROM paycore.notifications n
		         WHERE n.event_type = 'order.paid'
		           AND (n.payload #>> '{data,order,id}')::bigint = o.id) <> 1}),
	'0', 'every committed paid order has exactly one order.paid notification');
is( $node->safe_psql('postgres', q{
		SELECT count(*) FROM paycore.notifications n
		 WHERE NOT EXISTS (SELECT FROM paycore.orders o
		                    WHERE o.id = (n.payload #>> '{data,order,id}')::bigint
		                      AND o.status = 'paid')}),
	'0', 'and no notification without its committed order');

# The worker is back and drains everything.
ok($node->poll_query_until('postgres', 'SELECT running FROM paycore.worker_status'),
	'the worker runs again after the restart');
ok( $node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM paycore.notifications WHERE status <> 'delivered'"),
	'every notification is delivered after the restart');

# The receiver's view: every committed event arrived, with a 2xx and a valid
# signature, at least once.
my %got;
for my $e ($rx->entries)
{
	my $id = WebhookReceiver::header($e, 'Paycore-Event-Id') // next;
	push @{ $got{$id} }, $e;
}
my @events = split /\n/,
  $node->safe_psql('postgres', 'SELECT event_id FROM paycore.notifications ORDER BY id');
is(scalar @events, scalar keys %paid, 'one event per committed paid order');
my @lost = grep {
	my $id = $_;
	!grep { $_->{response_status} == 200 && $_->{signature_valid} } @{ $got{$id} // [] }
} @events;
is(scalar @lost, 0, 'every committed event reached the receiver with a 2xx and a valid signature')
  or diag "not received: @lost[0 .. ($#lost < 9 ? $#lost : 9)]";
my %known = map { $_ => 1 } @events;
is(scalar(grep { !$known{$_} } keys %got), 0, 'the receiver got no event that was not committed');
my $dups = grep { @{ $got{$_} } > 1 } keys %got;
note "$dups events were delivered more than once (allowed: receivers deduplicate)";

# delivery_attempts agrees: each delivered notification has a 200 attempt.
is( $node->safe_psql('postgres', q{
		SELECT count(*) FROM paycore.notifications n
		 WHERE NOT EXISTS (SELECT FROM paycore.delivery_attempts a
		                    WHERE a.notification_id = n.id AND a.status_code = 200)}),
	'0', 'every notification has a successful attempt logged');

$node->stop;
$rx->stop;
done_testing();
