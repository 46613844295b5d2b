// Package apply puts generated configuration files into service safely: it
// renders a candidate, writes it beside the live file, lets the daemon's own
// check validate it, swaps it in with an atomic rename, reloads the daemon
// and, when the reload fails, puts the previous file back and reloads again.
//
// The package knows processes and files and nothing about the database or
// the file formats: the bytes come from a caller-supplied RenderFunc.
//
// An Applier runs one apply at a time per target. A Scheduler adds
// debouncing (many edits, one apply), on-demand runs, recording of runs and
// a status view for the UI. Diff shows what the next apply would change.
//
// Files ipdesk leaves beside a live file while it works:
//
//	.NAME.ipdesk-*.tmp             candidate (NAME is the live file's base name)
//	.MAIN.ipdesk-TARGET-*.tmp      copy of the main config for a {main} check
//	.NAME.ipdesk-reload-pending    the daemon may not have loaded the live file
//
// Temporary names start with a dot and end in .tmp so that the daemons'
// directory includes (dnsmasq conf-dir, squid "include dir/*.conf") skip
// them. Cleanup removes stale temporary files after a crash.
package apply
