# A merchant's webhook endpoint for the TAP tests: starts
# test/webhook_receiver.py on 127.0.0.1 (a port of its own choosing) and reads
# back the JSON lines it logs, one per request.  See the receiver for the
# paths it serves (/ok, /status/<code>, /sleep/<s>, /redirect, /flaky/<n>).
package WebhookReceiver;

use strict;
use warnings;

use Digest::SHA qw(hmac_sha256_hex);
use Encode qw(encode_utf8);
use File::Basename qw(dirname);
use File::Spec;
use HTTP::Tiny;
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

# Receivers still running, stopped at the latest in END (also after a die or
# BAIL_OUT; the receiver itself also exits when this process goes away).
my @live;

my $script = File::Spec->rel2abs(dirname(__FILE__) . '/../webhook_receiver.py');

# WebhookReceiver->start($name): the receiver runs until stop() or the end of
# the test script.
sub start
{
	my ($class, $name) = @_;
	my $dir       = $PostgreSQL::Test::Utils::tmp_check;
	my $log       = "$dir/webhooks_$name.jsonl";
	my $port_file = "$dir/webhooks_$name.port";
	unlink $log, $port_file;

	my $h = IPC::Run::start(
		[ 'python3', $script, '--log', $log, '--port-file', $port_file ],
		'<', \undef,
		'>', "$dir/webhooks_$name.stdout",
		'2>', "$dir/webhooks_$name.stderr");
	my $self = bless { name => $name, log => $log, handle => $h }, $class;
	push @live, $self;

	# Wait for the port file (written once the socket listens), then for
	# /_health to answer.
	my $deadline = time + $PostgreSQL::Test::Utils::timeout_default;
	until (-s $port_file)
	{
		die "webhook receiver $name did not start" if time > $deadline || !$h->pumpable;
		usleep(50_000);
	}
	$self->{port} = slurp_file($port_file);
	chomp $self->{port};
	my $http = HTTP::Tiny->new(timeout => 10);
	until ($http->get($self->url('/_health'))->{success})
	{
		die "webhook receiver $name does not answer" if time > $deadline;
		usleep(50_000);
	}
	return $self;
}

sub port { return $_[0]->{port} }
sub log_path { return $_[0]->{log} }

sub url
{
	my ($self, $path) = @_;
	return "http://127.0.0.1:$self->{port}$path";
}

# Tells the receiver a merchant's secret, so that it verifies signatures.
sub add_secrets
{
	my ($self, @secrets) = @_;
	my $res = HTTP::Tiny->new(timeout => 10)->post(
		$self->url('/_secrets'),
		{
			headers => { 'Content-Type' => 'application/json' },
			content => encode_json({ secrets => \@secrets })
		});
	die "registering secrets failed: $res->{status} $res->{content}"
	  unless $res->{success};
	return;
}

# Every logged request, oldest first; each a hash with received_at, method,
# path, headers, body, response_status, signature_valid, v1_count, t,
# v1_matches.  A line still being written (no newline yet) is left out.
sub entries
{
	my ($self) = @_;
	return () unless -e $self->{log};
	my $text = slurp_file($self->{log});
	my @lines = split /\n/, $text, -1;
	pop @lines;    # after the last newline: empty, or a partial line
	return map { JSON::PP->new->utf8->decode($_) } @lines;
}

# A header of a logged request, by case-insensitive name (undef if absent).
sub header
{
	my ($entry, $name) = @_;
	for my $k (keys %{ $entry->{headers} })
	{
		return $entry->{headers}{$k} if lc $k eq lc $name;
	}
	return undef;
}

# The logged requests that carried Paycore-Event-Id: $event_id.
sub for_event
{
	my ($self, $event_id) = @_;
	return grep { (header($_, 'Paycore-Event-Id') // '') eq $event_id } $self->entries;
}

# Checks a logged webhook's Paycore-Signature against a secret the test
# holds, independently of the receiver: returns the list of v1 values and
# whether each is the HMAC of "<t>.<body>" under $secret.
sub v1_values
{
	my ($entry) = @_;
	my $sig = header($entry, 'Paycore-Signature') // '';
	return ($sig =~ /v1=([^,]*)/g);
}

sub hmac_for
{
	my ($entry, $secret) = @_;
	my $sig = header($entry, 'Paycore-Signature') // '';
	my ($t) = $sig =~ /(?:^|,)t=([^,]*)/;
	return undef unless defined $t;
	return hmac_sha256_hex(encode_utf8("$t.$entry->{body}"), $secret);
}

sub stop
{
	my ($self) = @_;
	return unless $self->{handle};
	$self->{handle}->signal('TERM');
	eval { $self->{handle}->finish; };
	delete $self->{handle};
	return;
}

sub DESTROY { $_[0]->stop }

END { $_->stop for @live; }

1;
