# What every TAP file starts from: a cluster with paycore preloaded, its
# worker serving database "postgres", the encryption key set, plus the
# file's own settings.
package PaycoreNode;

use strict;
use warnings;

use PostgreSQL::Test::Cluster;

sub start
{
	my ($class, $name, $settings, %init) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);

	$node->init(%init);
	$node->append_conf(
		'postgresql.conf', q{
shared_preload_libraries = 'paycore'
paycore.database = 'postgres'
paycore.encryption_key = 'tap-test-key'
} . $settings);
	$node->start;
	return $node;
}

1;
