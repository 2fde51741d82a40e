#!/usr/bin/env bats
# The man pages against the programs they describe.

load helpers/bg

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

@test "every tool: a bad seconds value is one message, the same in each, then usage, exit 2" {
	local tool flag max v

	while read -r tool flag max; do
		for v in 0 -1 abc 1.2345 "$((max + 1))" 1e3 ''; do
			run --separate-stderr "$tool" "$flag" "$v" -f /nonexistent
			echo "$tool $flag '$v': exit $status: $stderr"
			assert_failure 2
			refute_output
			assert_equal "${stderr_lines[0]}" "$tool: $flag \"$v\": expected seconds, like 30 or 2.5, more than 0 and at most $max"
			assert_equal "${stderr_lines[1]}" "$("$tool" -h | head -1)"
		done
	done <<-EOF
		bgcolor -t 3600
		bgdrain -t 86400
		bgflip -w 86400
		bgstage -t 86400
	EOF
}
