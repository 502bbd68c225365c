package vigil

import (
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// idnaProfile maps and validates host names the way browsers resolve them,
// but tolerates underscores and other characters seen in real hostnames:
// refusing them would lose reports.
var idnaProfile = idna.New(idna.MapForLookup(), idna.Transitional(false), idna.StrictDomainName(false))

var schemePrefix = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.\-]*:`)

func urlError(key, msg string) error {
	return &Error{Code: EINVALID, Key: key, Message: msg}
}

// NormalizeURL returns the canonical form of a reported URL, so that the same
// URL reported twice is recognised as one: scheme and host lower-cased, the
// host converted from IDNA to ASCII, default ports, fragments, user
// information and empty queries removed, percent-escapes normalised. A URL
// given without a scheme is taken as http. Anything but http and https with
// a host is refused.
func NormalizeURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", urlError("err_utf8", "The URL is not valid UTF-8.")
	}
	if len(s) > MaxURLInputLength {
		return "", urlError("err_url_long", "The URL is too long.")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == ' ' {
			return "", urlError("err_url_invalid", "The URL contains spaces or control characters.")
		}
	}
	if !strings.Contains(s, "://") {
		if m := schemePrefix.FindString(s); m != "" && !(len(s) > len(m) && s[len(m)] >= '0' && s[len(m)] <= '9') {
			return "", urlError("err_url_scheme", "Only http and https URLs can be reported.")
		}
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", urlError("err_url_invalid", "The URL is not valid.")
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", urlError("err_url_scheme", "Only http and https URLs can be reported.")
	}
	if u.Opaque != "" {
		return "", urlError("err_url_invalid", "The URL is not valid.")
	}
	host, err := normalizeHost(u.Hostname())
	if err != nil {
		return "", err
	}
	port := u.Port()
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return "", urlError("err_url_invalid", "The URL's port is not valid.")
		}
		port = strconv.Itoa(n)
		if (u.Scheme == "http" && n == 80) || (u.Scheme == "https" && n == 443) {
			port = ""
		}
	}
	var b strings.Builder
	b.WriteString(u.Scheme)
	b.WriteString("://")
	if strings.Contains(host, ":") {
		b.WriteString("[" + host + "]")
	} else {
		b.WriteString(host)
	}
	if port != "" {
		b.WriteString(":" + port)
	}
	path := normalizeEscapes(u.EscapedPath())
	if path == "" {
		path = "/"
	}
	b.WriteString(path)
	if u.RawQuery != "" {
		b.WriteString("?" + normalizeEscapes(u.RawQuery))
	}
	out := b.String()
	if len(out) > MaxURLLength {
		return "", urlError("err_url_long", "The URL is too long.")
	}
	return out, nil
}

func normalizeHost(h string) (string, error) {
	if h == "" {
		return "", urlError("err_url_host", "The URL has no host name.")
	}
	if ip := net.ParseIP(h); ip != nil {
		if strings.Contains(h, ":") {
			return strings.ToLower(ip.String()), nil
		}
		return h, nil
	}
	h = strings.TrimSuffix(h, ".")
	if uh, err := url.PathUnescape(h); err == nil {
		h = uh
	}
	if !utf8.ValidString(h) || strings.ContainsRune(h, utf8.RuneError) {
		return "", urlError("err_url_host", "The URL's host name is not valid.")
	}
	a, err := idnaProfile.ToASCII(h)
	if err != nil || a == "" || strings.ContainsAny(a, "/\\@:%[] ") {
		return "", urlError("err_url_host", "The URL's host name is not valid.")
	}
	a = strings.ToLower(a)
	if strings.HasPrefix(a, ".") || strings.HasSuffix(a, ".") || strings.Contains(a, "..") {
		return "", urlError("err_url_host", "The URL's host name is not valid.")
	}
	// A host must come out of the mapping as it went in a second time, or
	// the same URL could be stored under two names.
	if again, err := idnaProfile.ToASCII(a); err != nil || again != a {
		return "", urlError("err_url_host", "The URL's host name is not valid.")
	}
	return a, nil
}

// normalizeEscapes decodes percent-escapes of unreserved characters and
// upper-cases the hex digits of the others (RFC 3986, 6.2.2).
func normalizeEscapes(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			c := unhex(s[i+1])<<4 | unhex(s[i+2])
			if isUnreserved(c) {
				b.WriteByte(c)
			} else {
				b.WriteByte('%')
				b.WriteString(strings.ToUpper(s[i+1 : i+3]))
			}
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// URLHost returns the host of a normalised URL.
func URLHost(normalized string) string {
	u, err := url.Parse(normalized)
	if err != nil {
		return ""
	}
	return u.Hostname()
}
