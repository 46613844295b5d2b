package web

// What the API and the pages about config outputs share.

import (
	"ipdesk"
)

// errNoOutputs answers an apply when the config file has no targets.
func errNoOutputs() error {
	return ipdesk.Errorf(ipdesk.ECONFLICT, "no targets are configured; config outputs are set in the server's config file")
}
