#!/usr/bin/env bats
# The man pages against the programs they describe.

load helpers/bg

setup() {
	bg_setup
}

teardown() {
	bg_teardown
}

# words TEXT: TEXT as one line of single-space-separated words, with no
# space before an ellipsis (mandoc sets "key ..." where a usage line may
# write "key...").
words() {
	tr -s ' \t\n' '   ' <<<"$1" | sed 's/^ //; s/ $//; s/ \.\.\./.../g'
}

@test "every tool: the -h usage is the man page's SYNOPSIS" {
	local tool syn use

	for tool in bgcolor bgswapconf bgstage bgflip bgdrain; do
		run "$tool" -h
		echo "$tool -h: exit $status"
		echo "$output"
		assert_success
		assert_line --index 0 --regexp "^usage: $tool( |\$)"
		use=$(words "${output#usage: }")
		run mandoc -T ascii -O width=200 "$BG_ROOT/docs/$tool.1"
		assert_success
		syn=$(col -b <<<"$output" | sed -n '/^SYNOPSIS$/,/^[A-Z]/{/^[A-Z]/d;p;}')
		echo "docs/$tool.1 SYNOPSIS: $syn"
		assert [ -n "$syn" ]
		assert_equal "$use" "$(words "$syn")"
	done
}
