#!/usr/bin/perl
# make_test_mmdb.pl OUT_DIR: writes small MMDB files for the tests (Debian's
# libmaxmind-db-writer-perl), with the two layouts vigil reads:
#   test-cc.mmdb       ip-location-db layout  {country_code => "XX"}   (IPv4 + IPv6)
#   test-geoip2.mmdb   MaxMind/DB-IP layout   {country => {iso_code => "XX"}}
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my $dir = shift or die "usage: $0 OUT_DIR\n";
mkdir $dir unless -d $dir;

sub write_db {
    my ($path, $type, $types, $entries) = @_;
    my $tree = MaxMind::DB::Writer::Tree->new(
        ip_version            => 6,
        record_size           => 24,
        database_type         => $type,
        languages             => ['en'],
        description           => { en => 'vigil test database' },
        map_key_type_callback => sub { $types->{ $_[0] } },
        alias_ipv6_to_ipv4    => 1,
        remove_reserved_networks => 0,
    );
    $tree->insert_network(@$_) for @$entries;
    open my $fh, '>:raw', $path or die "$path: $!";
    $tree->write_tree($fh);
    close $fh or die "$path: $!";
}

write_db("$dir/test-cc.mmdb", 'test-country', { country_code => 'utf8_string' }, [
    [ '203.0.113.0/24',  { country_code => 'DE' } ],
    [ '198.51.100.0/24', { country_code => 'FR' } ],
    [ '2001:db8::/32',   { country_code => 'JP' } ],
]);
write_db("$dir/test-geoip2.mmdb", 'GeoIP2-Country',
    { country => 'map', iso_code => 'utf8_string' }, [
    [ '192.0.2.0/24', { country => { iso_code => 'br' } } ],
    [ '203.0.113.0/24', { country => { iso_code => 'US' } } ],
]);
print "wrote $dir/test-cc.mmdb $dir/test-geoip2.mmdb\n";
