package main

import (
	"flag"

	"github.com/vigil-hotline/vigil/internal/web"
)

// identityFlag registers --identity: the hotline's name, logo, colours,
// legal notices and help routes on the public pages (a JSON file; see
// web.Identity). Without it the public pages use Vigil's neutral defaults.
func identityFlag(fs *flag.FlagSet, env *Env) *string {
	return fs.String("identity", env.Getenv("VIGIL_IDENTITY"),
		"JSON file with the hotline's name, logo, colours, imprint, privacy notice and help routes [VIGIL_IDENTITY]")
}

func loadIdentity(path string) (web.Identity, error) { return web.LoadIdentity(path) }
