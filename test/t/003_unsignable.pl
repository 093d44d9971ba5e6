# A merchant whose signing secret cannot be decrypted (a damaged row, a
# changed encryption key) must not stop the queue: its webhooks fail as
# recorded attempts with the reason, and every other merchant's webhooks are
# still delivered by the same worker, which keeps running.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PaycoreNode;
use WebhookReceiver;

my $rx = WebhookReceiver->start('003');

my $node = PaycoreNode->start(
	'unsignable', q{
paycore.retry_schedule = '1min'
});

sub query { return $node->safe_psql('postgres', $_[0]); }

query('CREATE EXTENSION paycore CASCADE');
my ($good) = split /\|/,
  query("SELECT merchant_id, signing_secret FROM paycore.create_merchant('good', '"
	  . $rx->url('/ok/good') . "')");
my ($broken) = split /\|/,
  query("SELECT merchant_id, signing_secret FROM paycore.create_merchant('broken', '"
	  . $rx->url('/ok/broken') . "')");
query("UPDATE paycore.merchants SET signing_secret_encrypted = '\\x00ff'::bytea WHERE id = $broken");

# Interleaved, so that both merchants' rows are claimed in the same passes.
query(
	"SELECT paycore.confirm_payment(paycore.create_order(m, 'o-' || m || '-' || g, 100, 'CNY', 'card'),
	                                'ch-' || m || '-' || g, 100)
	   FROM generate_series(1, 5) g, (VALUES ($good), ($broken)) AS v(m)");

ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) = 10 FROM paycore.notifications WHERE attempts = 1"),
	'every notification had its first attempt');

is(query("SELECT count(*) FROM paycore.notifications WHERE merchant_id = $good AND status = 'delivered'"),
	'5', "the good merchant's webhooks were all delivered");
is(scalar(grep { $_->{path} eq '/ok/good' } $rx->entries), 5,
	'and the receiver got each of them once');
is(scalar(grep { $_->{path} eq '/ok/broken' } $rx->entries), 0,
	"nothing was sent for the merchant whose secret cannot be read");
is( query(
		"SELECT count(*) FROM paycore.notifications
		  WHERE merchant_id = $broken AND status = 'pending' AND last_status_code IS NULL
		    AND last_error LIKE 'could not sign the webhook:%' AND next_attempt_at > now()"),
	'5',
	"the broken merchant's webhooks failed with the reason and wait for their retry");
is( query(
		"SELECT count(*) FROM paycore.delivery_attempts a JOIN paycore.notifications n ON n.id = a.notification_id
		  WHERE n.merchant_id = $broken AND a.error LIKE 'could not sign the webhook:%'"),
	'5', 'each failed attempt is logged');
is(query('SELECT running FROM paycore.worker_status'), 't', 'the worker is still running');
unlike(slurp_file($node->logfile), qr/paycore worker.*exited with exit code/,
	'and it never exited');

$node->stop;
$rx->stop;
done_testing();
