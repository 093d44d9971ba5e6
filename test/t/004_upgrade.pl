# Upgrades.  Shipped install scripts are never edited: each release adds a
# paycore--A--B.sql that carries only what changed.  This test installs the
# oldest version in database "upgraded", puts data in through that version's
# API, updates it with ALTER EXTENSION paycore UPDATE one release at a time,
# and checks that the data is still there and the API still works.  Then it
# makes a fresh install of the current version in database "fresh" and
# compares the two databases' paycore objects, kind by kind, through the
# catalogs: they must be identical.  Definitions are compared, not data
# (sequences' and tables' contents naturally differ), except the reference
# rows the extension itself ships.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use PaycoreNode;

# The oldest shipped version, then every release in order.  A new release
# adds its version here, with its paycore--A--B.sql.
my @versions = ('1.0', '1.1', '1.2', '1.3');

my $node = PaycoreNode->start(
	'upgrade', q{
paycore.bcrypt_cost = 4
});

sub query
{
	my ($db, $sql) = @_;
	return $node->safe_psql($db, $sql);
}

# ------------------------------------------------- the oldest version, with data

query('postgres', 'CREATE DATABASE upgraded');
query('upgraded', "CREATE EXTENSION paycore VERSION '$versions[0]' CASCADE");
is(query('upgraded', "SELECT extversion FROM pg_extension WHERE extname = 'paycore'"),
	$versions[0], "installed paycore $versions[0]");

# Through the 1.0 API: a merchant, a user, an order paid, a refund completed.
my ($merchant) = split /\|/,
  query('upgraded',
	"SELECT merchant_id, signing_secret FROM paycore.create_merchant('Tea House', 'https://tea.example/notify')");
my $user = query('upgraded',
	"SELECT paycore.register_user('alice', 'correct horse 42', '4111 1111 1111 1111', 'Alice Liddell')");
my $order = query('upgraded',
	"SELECT paycore.create_order($merchant, 'TEA-0001', 3850, 'CNY', 'alipay', $user, 'Two pots of oolong')");
is(query('upgraded', "SELECT paycore.start_payment($order)"), 'processing', 'order processing');
is(query('upgraded', "SELECT paycore.confirm_payment($order, 'ALIPAY-0001', 3850)"),
	'paid', 'order paid');
my $refund = query('upgraded',
	"SELECT paycore.request_refund($order, 'TEA-0001-R1', 1000, 'one pot arrived cold')");
is(query('upgraded', "SELECT paycore.complete_refund($refund, true, 'ALIPAY-R-0001')"),
	'succeeded', 'refund succeeded');
is(query('upgraded', "SELECT status || ' ' || refunded_amount FROM paycore.orders WHERE id = $order"),
	'partially_refunded 1000', 'the order is partially refunded');

# Every table's rows, by the columns it has now: an update may add columns,
# but what was there must stay as it was.
my %rows_before;
foreach my $table (split /\n/,
	query('upgraded',
		"SELECT c.oid::regclass FROM pg_class c
		  WHERE c.relnamespace = 'paycore'::regnamespace AND c.relkind IN ('r', 'p')
		  ORDER BY 1"))
{
	my $columns = query('upgraded',
		"SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
		  WHERE attrelid = '$table'::regclass AND attnum > 0 AND NOT attisdropped");
	my $sql = "SELECT ($columns)::text FROM $table ORDER BY 1";
	$rows_before{$table} = { sql => $sql, rows => query('upgraded', $sql) };
}
ok($rows_before{'paycore.audit_log'}{rows} ne '', 'the audit log has rows');
ok($rows_before{'paycore.notifications'}{rows} =~ /order\.paid/
	  && $rows_before{'paycore.notifications'}{rows} =~ /refund\.succeeded/,
	'the outbox holds the order.paid and refund.succeeded events');

# ------------------------------------------------- update, one release at a time

foreach my $version (@versions[ 1 .. $#versions ])
{
	query('upgraded', "ALTER EXTENSION paycore UPDATE TO '$version'");
	is(query('upgraded', "SELECT extversion FROM pg_extension WHERE extname = 'paycore'"),
		$version, "ALTER EXTENSION paycore UPDATE TO '$version'");
}
is(query('upgraded', "SELECT default_version FROM pg_available_extensions WHERE name = 'paycore'"),
	$versions[-1], "the control file's default_version is the last release listed here");

foreach my $table (sort keys %rows_before)
{
	is(query('upgraded', $rows_before{$table}{sql}),
		$rows_before{$table}{rows}, "$table: every row is still there, unchanged");
}

# The API still works on the data made before the update, and on new data.
is(query('upgraded', "SELECT paycore.authenticate('alice', 'correct horse 42')"),
	$user, 'the user still authenticates');
my $order2 = query('upgraded',
	"SELECT paycore.create_order($merchant, 'TEA-0002', 1200, 'CNY', 'card', $user)");
is(query('upgraded', "SELECT paycore.confirm_payment($order2, 'CARD-0002', 1200)"),
	'paid', 'a new order is created and paid after the update');
my $refund2 = query('upgraded',
	"SELECT paycore.request_refund($order, 'TEA-0001-R2', 2850, 'the rest')");
is(query('upgraded', "SELECT paycore.complete_refund($refund2, true, 'ALIPAY-R-0002')"),
	'succeeded', 'the old order takes its remaining refund after the update');
is(query('upgraded', "SELECT status || ' ' || refunded_amount FROM paycore.orders WHERE id = $order"),
	'refunded 3850', 'and is fully refunded');

# ------------------------------------------------- a fresh install

query('postgres', 'CREATE DATABASE fresh');
query('fresh', 'CREATE EXTENSION paycore CASCADE');
is(query('fresh', "SELECT extversion FROM pg_extension WHERE extname = 'paycore'"),
	$versions[-1], "a fresh install is paycore $versions[-1]");

# ------------------------------------------------- compare the two

# Each query returns (key, value): one row per object, the key naming it
# (never by OID: OIDs differ between the databases), the value its
# definition, possibly on several lines.  Keys are unique within a kind.
my $ns = q{'paycore'::regnamespace};
my $ext = q{(SELECT oid FROM pg_extension WHERE extname = 'paycore')};
my @kinds = (
	[
		'functions and procedures' => qq{
		SELECT format('%s %I.%I(%s)', CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate'
		                                             WHEN 'w' THEN 'window function' ELSE 'function' END,
		              n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)),
		       concat_ws(E'\n',
		         'arguments: ' || pg_get_function_arguments(p.oid),
		         'returns: ' || coalesce(pg_get_function_result(p.oid), ''),
		         'language: ' || l.lanname,
		         'owner: ' || pg_get_userbyid(p.proowner),
		         'security definer: ' || p.prosecdef,
		         'volatility: ' || p.provolatile::text,
		         'strict: ' || p.proisstrict,
		         'leakproof: ' || p.proleakproof,
		         'parallel: ' || p.proparallel::text,
		         'cost: ' || p.procost || ', rows: ' || p.prorows,
		         'config: ' || coalesce(p.proconfig::text, ''),
		         'acl: ' || coalesce(p.proacl::text, '(default)'),
		         'probin: ' || coalesce(p.probin, ''),
		         'prosrc:', p.prosrc)
		  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
		 WHERE p.pronamespace = $ns}
	],
	[
		'tables, views and sequences (relations)' => qq{
		SELECT format('%I', c.relname),
		       concat_ws(', ', 'relkind ' || c.relkind::text, 'persistence ' || c.relpersistence::text,
		                 'owner ' || pg_get_userbyid(c.relowner), 'options ' || coalesce(c.reloptions::text, '{}'),
		                 'row security ' || c.relrowsecurity || '/' || c.relforcerowsecurity,
		                 'replica identity ' || c.relreplident::text, 'access method ' || coalesce(am.amname, '-'))
		  FROM pg_class c LEFT JOIN pg_am am ON am.oid = c.relam
		 WHERE c.relnamespace = $ns AND c.relkind <> 'i' AND c.relkind <> 'I'}
	],
	[
		# By name, not by position: ALTER TABLE ADD COLUMN puts a new column
		# last, where a fresh install may have it elsewhere.  The order of the
		# columns is reported below, but not compared.
		'columns (compared by name, not position)' => qq{
		SELECT format('%I.%I', c.relname, a.attname),
		       concat_ws(', ', format_type(a.atttypid, a.atttypmod),
		                 CASE WHEN a.attnotnull THEN 'not null' END,
		                 'default ' || pg_get_expr(d.adbin, d.adrelid),
		                 CASE WHEN a.attidentity <> '' THEN 'identity ' || a.attidentity::text END,
		                 CASE WHEN a.attgenerated <> '' THEN 'generated ' || a.attgenerated::text END,
		                 'collation ' || (SELECT collname FROM pg_collation WHERE oid = a.attcollation),
		                 'storage ' || a.attstorage::text,
		                 CASE WHEN a.attstattarget <> -1 THEN 'statistics ' || a.attstattarget END)
		  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
		  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		 WHERE c.relnamespace = $ns AND c.relkind IN ('r', 'p', 'v', 'm', 'c', 'f')
		   AND a.attnum > 0 AND NOT a.attisdropped}
	],
	[
		'constraints' => qq{
		SELECT format('%I on %s', co.conname, coalesce(format('%I', c.relname), 'type ' || format('%I', t.typname))),
		       pg_get_constraintdef(co.oid)
		  FROM pg_constraint co LEFT JOIN pg_class c ON c.oid = co.conrelid LEFT JOIN pg_type t ON t.oid = co.contypid
		 WHERE co.connamespace = $ns}
	],
	[
		'indexes' => qq{
		SELECT format('%I', c.relname),
		       concat_ws(', ', pg_get_indexdef(i.indexrelid),
		                 CASE WHEN i.indisclustered THEN 'clustered' END,
		                 CASE WHEN i.indisreplident THEN 'replica identity' END)
		  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		 WHERE c.relnamespace = $ns}
	],
	[
		'triggers' => qq{
		SELECT format('%I on %I', t.tgname, c.relname),
		       pg_get_triggerdef(t.oid) || ', enabled ' || t.tgenabled::text
		  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
		 WHERE c.relnamespace = $ns AND NOT t.tgisinternal}
	],
	[
		'views' => qq{
		SELECT format('%I', c.relname), pg_get_viewdef(c.oid, true)
		  FROM pg_class c
		 WHERE c.relnamespace = $ns AND c.relkind IN ('v', 'm')}
	],
	[
		'rules and policies' => qq{
		SELECT format('rule %I on %I', r.rulename, c.relname), pg_get_ruledef(r.oid, true)
		  FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
		 WHERE c.relnamespace = $ns AND r.rulename <> '_RETURN'
		UNION ALL
		SELECT format('policy %I on %I', p.polname, c.relname),
		       concat_ws(', ', 'command ' || p.polcmd::text, 'permissive ' || p.polpermissive,
		                 'roles ' || (SELECT string_agg(r, ' ' ORDER BY r)
		                                FROM (SELECT CASE WHEN o = 0 THEN 'public' ELSE pg_get_userbyid(o)::text END
		                                        FROM unnest(p.polroles) o) s(r)),
		                 'using ' || pg_get_expr(p.polqual, p.polrelid),
		                 'with check ' || pg_get_expr(p.polwithcheck, p.polrelid))
		  FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
		 WHERE c.relnamespace = $ns},
		'may be empty'
	],
	[
		# Enum labels in their order; tables' row types and array types are
		# left out (they come with their table or element type).
		'types' => qq{
		SELECT format('%I', t.typname),
		       concat_ws(', ', 'typtype ' || t.typtype::text, 'owner ' || pg_get_userbyid(t.typowner),
		                 'labels ' || (SELECT string_agg(quote_literal(e.enumlabel), ' ' ORDER BY e.enumsortorder)
		                                 FROM pg_enum e WHERE e.enumtypid = t.oid),
		                 CASE WHEN t.typtype = 'd' THEN 'domain over ' || format_type(t.typbasetype, t.typtypmod) END,
		                 CASE WHEN t.typnotnull THEN 'not null' END,
		                 'default ' || t.typdefault)
		  FROM pg_type t
		 WHERE t.typnamespace = $ns
		   AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c')
		   AND NOT EXISTS (SELECT 1 FROM pg_type e WHERE e.typarray = t.oid)}
	],
	[
		# The definition of each sequence, not its current value.
		'sequences' => qq{
		SELECT format('%I', c.relname),
		       concat_ws(', ', format_type(s.seqtypid, NULL), 'start ' || s.seqstart, 'increment ' || s.seqincrement,
		                 'min ' || s.seqmin, 'max ' || s.seqmax, 'cache ' || s.seqcache, 'cycle ' || s.seqcycle,
		                 (SELECT string_agg(format('owned by %I.%I (%s)', tc.relname, ta.attname, d.deptype::text), ' ')
		                    FROM pg_depend d JOIN pg_class tc ON tc.oid = d.refobjid
		                    JOIN pg_attribute ta ON ta.attrelid = d.refobjid AND ta.attnum = d.refobjsubid
		                   WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
		                     AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))
		  FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
		 WHERE c.relnamespace = $ns}
	],
	[
		# Functions' ACLs are with the functions.
		'privileges (schema, relations, columns, types)' => qq{
		SELECT 'schema paycore', coalesce(nspacl::text, '(default)') FROM pg_namespace WHERE oid = $ns
		UNION ALL
		SELECT format('relation %I', relname), coalesce(relacl::text, '(default)')
		  FROM pg_class WHERE relnamespace = $ns AND relkind NOT IN ('i', 'I')
		UNION ALL
		SELECT format('column %I.%I', c.relname, a.attname), a.attacl::text
		  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
		 WHERE c.relnamespace = $ns AND a.attacl IS NOT NULL AND NOT a.attisdropped
		UNION ALL
		SELECT format('type %I', typname), coalesce(typacl::text, '(default)')
		  FROM pg_type WHERE typnamespace = $ns}
	],
	[
		# Comments on the extension, its schema and everything in the schema.
		'comments' => qq{
		SELECT pg_describe_object(d.classoid, d.objoid, d.objsubid), d.description
		  FROM pg_description d, pg_identify_object(d.classoid, d.objoid, d.objsubid) o
		 WHERE o.schema = 'paycore'
		    OR (d.classoid = 'pg_namespace'::regclass AND d.objoid = $ns)
		    OR (d.classoid = 'pg_extension'::regclass AND d.objoid = $ext)}
	],
	[
		# pg_extension_config_dump: the tables pg_dump dumps, each with its
		# condition, paired by position in extconfig and extcondition.
		'config dump (extconfig, extcondition)' => qq{
		SELECT u.rel::regclass::text, coalesce(quote_literal(e.extcondition[u.i]), '(none)')
		  FROM pg_extension e, unnest(e.extconfig) WITH ORDINALITY u(rel, i)
		 WHERE e.oid = $ext}
	],
	[
		'the extension itself' => qq{
		SELECT 'extension paycore',
		       concat_ws(', ', 'schema ' || extnamespace::regnamespace, 'relocatable ' || extrelocatable,
		                 'owner ' || pg_get_userbyid(extowner), 'version ' || extversion,
		                 'requires ' || (SELECT string_agg(r.extname, ' ' ORDER BY r.extname)
		                                   FROM pg_depend d JOIN pg_extension r ON r.oid = d.refobjid
		                                  WHERE d.classid = 'pg_extension'::regclass AND d.objid = e.oid
		                                    AND d.refclassid = 'pg_extension'::regclass))
		  FROM pg_extension e WHERE e.oid = $ext}
	],
	[
		# Every object that belongs to the extension (deptype 'e'), in schema
		# paycore or not: a missing or extra one shows up here.
		'extension members' => qq{
		SELECT pg_describe_object(classid, objid, objsubid), 'member'
		  FROM pg_depend
		 WHERE refclassid = 'pg_extension'::regclass AND refobjid = $ext AND deptype = 'e'}
	],
	[
		# And every object in schema paycore is a member (tables, functions,
		# types, sequences, views; indexes and constraints come with their
		# tables).
		'objects in schema paycore that are not members' => qq{
		SELECT pg_describe_object(o.classid, o.objid, 0), 'not a member'
		  FROM (SELECT 'pg_class'::regclass, oid FROM pg_class
		         WHERE relnamespace = $ns AND relkind NOT IN ('i', 'I')
		        UNION ALL SELECT 'pg_proc'::regclass, oid FROM pg_proc WHERE pronamespace = $ns
		        UNION ALL SELECT 'pg_type'::regclass, oid FROM pg_type t
		         WHERE typnamespace = $ns
		           AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid)
		           AND NOT EXISTS (SELECT 1 FROM pg_type e WHERE e.typarray = t.oid)) o(classid, objid)
		 WHERE NOT EXISTS (SELECT 1 FROM pg_depend d
		                    WHERE d.classid = o.classid AND d.objid = o.objid AND d.deptype = 'e'
		                      AND d.refclassid = 'pg_extension'::regclass AND d.refobjid = $ext)},
		'may be empty'
	],
	[
		# Not definitions, but shipped by the extension: the built-in
		# reference rows a fresh install seeds must be there after an update.
		# (This test changes none of them.)
		'built-in reference rows' => q{
		SELECT 'currency ' || code, to_jsonb(t)::text FROM paycore.currencies t WHERE builtin
		UNION ALL
		SELECT 'payment method ' || code, to_jsonb(t)::text FROM paycore.payment_methods t WHERE builtin}
	],);

# A kind's objects as text lines, sorted by key: "key: line" for each line of
# each value, the lines of one value in their order.
sub object_lines
{
	my ($db, $sql) = @_;
	my $text = query(
		$db, qq{
		SELECT q.key || ': ' || l.line
		  FROM ($sql) q(key, val),
		       regexp_split_to_table(coalesce(q.val, ''), E'\\n') WITH ORDINALITY l(line, n)
		 ORDER BY q.key COLLATE "C", l.n});
	return $text eq '' ? () : split(/\n/, $text, -1);
}

# The lines only in @$old ("- ") and only in @$new ("+ "), in order: a longest
# common subsequence diff, without context (every line carries its key).
sub line_diff
{
	my ($old, $new) = @_;
	# Only the part between the common head and tail needs the table.
	my ($head, $tail) = (0, 0);
	$head++ while $head < @$old && $head < @$new && $old->[$head] eq $new->[$head];
	$tail++
	  while $tail < @$old - $head
	  && $tail < @$new - $head
	  && $old->[ -1 - $tail ] eq $new->[ -1 - $tail ];
	$old = [ @$old[ $head .. $#$old - $tail ] ];
	$new = [ @$new[ $head .. $#$new - $tail ] ];
	my ($n, $m) = (scalar @$old, scalar @$new);
	my @lcs = map { [ (0) x ($m + 1) ] } 0 .. $n;
	for (my $i = $n - 1; $i >= 0; $i--)
	{
		for (my $j = $m - 1; $j >= 0; $j--)
		{
			$lcs[$i][$j] =
			    $old->[$i] eq $new->[$j]
			  ? $lcs[ $i + 1 ][ $j + 1 ] + 1
			  : ($lcs[ $i + 1 ][$j] > $lcs[$i][ $j + 1 ] ? $lcs[ $i + 1 ][$j] : $lcs[$i][ $j + 1 ]);
		}
	}
	my ($i, $j, $out) = (0, 0, '');
	while ($i < $n || $j < $m)
	{
		if ($i < $n && $j < $m && $old->[$i] eq $new->[$j]) { $i++; $j++; }
		elsif ($i < $n && ($j == $m || $lcs[ $i + 1 ][$j] >= $lcs[$i][ $j + 1 ]))
		{
			$out .= "- $old->[$i++]\n";
		}
		else { $out .= "+ $new->[$j++]\n"; }
	}
	return $out;
}

note "comparing: \"-\" only in database upgraded ($versions[0] updated to $versions[-1]), "
  . "\"+\" only in database fresh ($versions[-1] installed)";
foreach my $kind (@kinds)
{
	my ($name, $sql, $may_be_empty) = @$kind;
	my @upgraded = object_lines('upgraded', $sql);
	my @fresh = object_lines('fresh', $sql);
	ok(@fresh > 0, "$name: the fresh install has some") unless $may_be_empty;
	is(line_diff(\@upgraded, \@fresh), '', "$name: the same after the update as in a fresh install");
}

# Column order is not compared above; say when it differs.
my $column_order = q{
	SELECT c.relname || ': ' || string_agg(a.attname, ', ' ORDER BY a.attnum)
	  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
	 WHERE c.relnamespace = 'paycore'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'c')
	   AND a.attnum > 0 AND NOT a.attisdropped
	 GROUP BY c.relname ORDER BY c.relname COLLATE "C"};
my @order_diff = split /\n/,
  line_diff([ split /\n/, query('upgraded', $column_order) ],
	[ split /\n/, query('fresh', $column_order) ]);
diag("column order differs (allowed: an update adds columns last):\n" . join("\n", @order_diff))
  if @order_diff;

$node->stop;
done_testing();
