#!/usr/bin/env bats
# Unit tests of the pure parsers, through small table-driven C programs in
# tests/unit/ that print TAP lines. Each owner adds a line here for theirs.

load helpers/bg

# bats test_tags=sanitize
@test "unit: addresses, URLs and HTTP replies parse strictly (unit_http)" {
	run unit_http
	echo "$output"
	assert_success
	refute_line --partial "not ok"
	assert_line --regexp '^1\.\.[0-9]+$'
}
