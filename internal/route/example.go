package route

import (
	"encoding/json"
	"fmt"
	"strings"
)

// ExampleProblems lists what in the rules still comes from an example: the
// built-in Belgian example's contacts, addresses in the domains reserved for
// examples (RFC 2606, RFC 6761) and the example's public keys, which nobody
// holds. A hotline running with any of these forwards to no one, so serve
// refuses them outside the demo. An empty list means none was found.
func (r *Rules) ExampleProblems() []string {
	var example Config
	// The embedded example is valid JSON: a test parses it.
	_ = json.Unmarshal(defaultJSON, &example)
	exampleKeys := map[string]bool{}
	for _, c := range contacts(example) {
		if c.contact.PublicKey != "" {
			exampleKeys[c.contact.PublicKey] = true
		}
	}
	var problems []string
	for _, c := range contacts(r.cfg) {
		if IsExampleAddress(c.contact.Email) {
			problems = append(problems, fmt.Sprintf("%s (%s): example address %s", c.field, c.contact.Name, c.contact.Email))
		}
		if exampleKeys[c.contact.PublicKey] {
			problems = append(problems, fmt.Sprintf("%s (%s): the example public key, which nobody holds", c.field, c.contact.Name))
		}
	}
	return problems
}

// IsExampleAddress reports whether an e-mail address is in a domain
// reserved for examples and tests, where no mail is ever delivered.
func IsExampleAddress(addr string) bool {
	_, domain, ok := strings.Cut(strings.ToLower(strings.TrimSpace(addr)), "@")
	if !ok {
		return false
	}
	domain = strings.TrimSuffix(strings.TrimSuffix(domain, ">"), ".")
	for _, suffix := range []string{".invalid", ".example", ".test", ".localhost"} {
		if strings.HasSuffix(domain, suffix) {
			return true
		}
	}
	switch domain {
	case "invalid", "example", "test", "localhost", "example.com", "example.net", "example.org":
		return true
	}
	for _, d := range []string{".example.com", ".example.net", ".example.org"} {
		if strings.HasSuffix(domain, d) {
			return true
		}
	}
	return false
}

type namedContact struct {
	field   string
	contact Contact
}

// contacts lists the configuration's recipients with where they stand.
func contacts(c Config) []namedContact {
	out := []namedContact{{"police", c.Police}}
	for i, h := range c.Hotlines {
		out = append(out, namedContact{fmt.Sprintf("hotlines[%d]", i), h.Contact})
	}
	return out
}
