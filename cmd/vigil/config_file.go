package main

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"

	"github.com/BurntSushi/toml"
)

// fileConfig is Vigil's configuration file (TOML, given with --config FILE
// or VIGIL_CONFIG), parsed once at start-up. Every setting has exactly one
// environment variable (its env tag), and a flag where a command takes one:
// flags win over the environment, the environment over the file, the file
// over the defaults. The file feeds the same lookup as the environment, so
// every command sees one set of values whichever way they were given.
//
// The doc tag is what `vigil config example` prints above the setting, the
// example tag its example value ("" leaves it commented out).
//
// Other settings join here as they appear: add a field with its env, doc
// and example tags, and read the variable where the flag is defined.
type fileConfig struct {
	Data          string `toml:"data" env:"VIGIL_DATA" doc:"data folder: SQLite database, keys, encrypted media, outbox" example:"/var/lib/vigil"`
	DatabaseURL   string `toml:"database_url" env:"VIGIL_DATABASE_URL" doc:"postgres://… for PostgreSQL (at scale); empty for SQLite in the data folder" example:""`
	Addr          string `toml:"addr" env:"VIGIL_ADDR" doc:"where serve listens (put a TLS-terminating reverse proxy in front)" example:"127.0.0.1:8080"`
	PublicURL     string `toml:"public_url" env:"VIGIL_PUBLIC_URL" doc:"the address people use, checked by vigil config check (https needs secure_cookies)" example:"https://report.hotline.example"`
	SecureCookies bool   `toml:"secure_cookies" env:"VIGIL_SECURE_COOKIES" doc:"cookies Secure and HSTS: set when Vigil is reached over HTTPS" example:"true"`
	Trusted       string `toml:"trusted_proxies" env:"VIGIL_TRUSTED_PROXIES" doc:"addresses or CIDR ranges of reverse proxies whose X-Forwarded-For names the client" example:"127.0.0.1"`
	LogLevel      string `toml:"log_level" env:"VIGIL_LOG_LEVEL" doc:"debug, info, warn or error (River and migrations show only at debug)" example:"info"`
	LogFormat     string `toml:"log_format" env:"VIGIL_LOG_FORMAT" doc:"text or json" example:"json"`
	Secret        string `toml:"secret" env:"VIGIL_SECRET" doc:"64+ hex digits shared by every server of a deployment; default: a key file in the data folder" example:""`

	Hotline struct {
		Name       string `toml:"name" env:"VIGIL_HOTLINE_NAME" doc:"the hotline's name in notices and packages" example:"Example Hotline"`
		CasePrefix string `toml:"case_prefix" env:"VIGIL_CASE_PREFIX" doc:"prefix of case references" example:"BE-"`
		Identity   string `toml:"identity" env:"VIGIL_IDENTITY" doc:"JSON file: name, logo, colours, imprint, privacy notice, help routes of the public pages" example:""`
		TOTPIssuer string `toml:"totp_issuer" env:"VIGIL_TOTP_ISSUER" doc:"name shown in staff authenticator apps" example:"Example Hotline"`
	} `toml:"hotline"`

	Routing struct {
		File         string `toml:"file" env:"VIGIL_ROUTING_CONFIG" doc:"routing rules (JSON; start from internal/route/default.json and replace every recipient)" example:"/etc/vigil/routing.json"`
		AllowExample bool   `toml:"allow_example" env:"VIGIL_ALLOW_EXAMPLE_ROUTING" doc:"run with the built-in example routing (trying Vigil out only)" example:""`
		TraceFile    string `toml:"trace_file" env:"VIGIL_TRACE_CONFIG" doc:"trace configuration (JSON: MaxMind databases, RDAP servers, CDNs)" example:"/etc/vigil/trace.json"`
	} `toml:"routing"`

	SMTP struct {
		Addr     string `toml:"addr" env:"VIGIL_SMTP_ADDR" doc:"SMTP server for notices and forwards; empty: .eml files in DATA/outbox that reach no one" example:"smtp.hotline.example:587"`
		From     string `toml:"from" env:"VIGIL_SMTP_FROM" doc:"sender of notices" example:"Example Hotline <notices@hotline.example>"`
		User     string `toml:"user" env:"VIGIL_SMTP_USER" doc:"SMTP user" example:""`
		Password string `toml:"password" env:"VIGIL_SMTP_PASSWORD" doc:"SMTP password (better in the environment)" example:""`
		TLS      string `toml:"tls" env:"VIGIL_SMTP_TLS" doc:"required (STARTTLS), implicit (port 465) or opportunistic" example:"required"`
	} `toml:"smtp"`

	Map struct {
		RulesFile string `toml:"rules_file" env:"VIGIL_MAP_RULES" doc:"network map link rules (JSON: link, degree_cap, no_link, cdn_links, near_duplicate); default: built in" example:""`
	} `toml:"map"`

	Media struct {
		BlobDir string `toml:"blob_dir" env:"VIGIL_BLOB_DIR" doc:"folder of the encrypted media; default DATA/blobs" example:""`
		KeyFile string `toml:"key_file" env:"VIGIL_MEDIA_KEY_FILE" doc:"media encryption key, never inside the blob folder; default DATA/keys/media.key" example:""`
	} `toml:"media"`

	S3 struct {
		Endpoint     string `toml:"endpoint" env:"VIGIL_S3_ENDPOINT" doc:"host:port of S3-compatible storage; setting it moves the media there" example:""`
		Bucket       string `toml:"bucket" env:"VIGIL_S3_BUCKET" doc:"bucket name" example:""`
		Prefix       string `toml:"prefix" env:"VIGIL_S3_PREFIX" doc:"key prefix, so one bucket can serve several deployments" example:""`
		AccessKey    string `toml:"access_key" env:"VIGIL_S3_ACCESS_KEY" doc:"credentials" example:""`
		SecretKey    string `toml:"secret_key" env:"VIGIL_S3_SECRET_KEY" doc:"credentials (better in the environment)" example:""`
		Region       string `toml:"region" env:"VIGIL_S3_REGION" doc:"bucket region; default asked of the server" example:""`
		SSL          string `toml:"ssl" env:"VIGIL_S3_SSL" doc:"false only for storage on a trusted local network" example:""`
		CreateBucket bool   `toml:"create_bucket" env:"VIGIL_S3_CREATE_BUCKET" doc:"create the bucket at start-up if missing" example:""`
	} `toml:"s3"`

	Crawl struct {
		UserAgent string `toml:"user_agent" env:"VIGIL_CRAWL_USER_AGENT" doc:"the crawler's User-Agent" example:""`
	} `toml:"crawl"`

	Workbench struct {
		Budget        string `toml:"budget" env:"VIGIL_WORKBENCH_BUDGET" doc:"daily time with media on screen per analyst" example:"2h"`
		Severities    string `toml:"severities" env:"VIGIL_WORKBENCH_SEVERITIES" doc:"severity categories passed to the police, comma-separated" example:"A,B,C"`
		SecondAnalyst bool   `toml:"second_analyst" env:"VIGIL_WORKBENCH_SECOND_ANALYST" doc:"a second analyst, not only a supervisor, may confirm" example:""`
	} `toml:"workbench"`

	Audit struct {
		KeyFile string `toml:"key_file" env:"VIGIL_AUDIT_KEY_FILE" doc:"key of the audit chain's HMAC and checkpoints, apart from the database, the same for every process; default DATA/keys/audit.key" example:""`
	} `toml:"audit"`

	// Retention is in days, or "forever"; the purge runs daily.
	Retention struct {
		Reports         string `toml:"reports" env:"VIGIL_RETAIN_REPORTS" doc:"days a closed report without illegal content is kept" example:"365"`
		Contacts        string `toml:"contacts" env:"VIGIL_RETAIN_CONTACTS" doc:"days a reporter's contact address is kept" example:"90"`
		MediaNotIllegal string `toml:"media_not_illegal" env:"VIGIL_RETAIN_MEDIA_NOT_ILLEGAL" doc:"days the bytes of media found not illegal are kept (hashes stay)" example:"30"`
		MediaClosed     string `toml:"media_closed" env:"VIGIL_RETAIN_MEDIA_CLOSED" doc:"days the bytes of media are kept after their last case closed (content removed)" example:"365"`
		FetchEvidence   string `toml:"fetch_evidence" env:"VIGIL_RETAIN_FETCH_EVIDENCE" doc:"days fetch evidence (headers, addresses) of cases without illegal content, or closed, is kept" example:"365"`
		Logs            string `toml:"logs" env:"VIGIL_RETAIN_LOGS" doc:"days the recheck log of closed cases and ended sessions are kept" example:"90"`
		Exposure        string `toml:"exposure" env:"VIGIL_RETAIN_EXPOSURE" doc:"days analysts' daily exposure records are kept" example:"730"`
	} `toml:"retention"`

	Banks struct {
		Classifications string `toml:"classifications" env:"VIGIL_CLASSIFICATIONS" doc:"the bank classification vocabulary, comma-separated" example:""`
		Mapping         string `toml:"mapping" env:"VIGIL_CLASSIFICATION_MAP" doc:"LABEL=CLASSIFICATION pairs applied on import, over the IWF (A, B, C) and NCMEC (A1, A2, B1, B2) defaults" example:"A=iwf-a,B=iwf-b,C=iwf-c"`
	} `toml:"banks"`
}

// loadConfigFile reads a configuration file strictly: an unknown key is
// an error naming it, since a misspelt setting silently ignored is a trap.
func loadConfigFile(path string) (*fileConfig, error) {
	var c fileConfig
	md, err := toml.DecodeFile(path, &c)
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, fmt.Errorf("config file %s: unknown settings: %s", path, strings.Join(keys, ", "))
	}
	return &c, nil
}

// settingsFrom returns the file's values by environment variable, for the
// settings the file sets.
func settingsFrom(c *fileConfig) map[string]string {
	out := map[string]string{}
	walkSettings(reflect.ValueOf(c).Elem(), "", func(f reflect.StructField, key string, v reflect.Value) {
		if v.IsZero() {
			return
		}
		out[f.Tag.Get("env")] = fmt.Sprint(v.Interface())
	})
	return out
}

// walkSettings calls fn for every setting with its dotted TOML key.
func walkSettings(v reflect.Value, prefix string, fn func(f reflect.StructField, key string, v reflect.Value)) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		key := prefix + f.Tag.Get("toml")
		if f.Type.Kind() == reflect.Struct {
			walkSettings(v.Field(i), key+".", fn)
			continue
		}
		fn(f, key, v.Field(i))
	}
}

// useConfigFile layers the file named by path under the environment: a
// variable set in the environment wins, else the file's value is used.
func useConfigFile(env *Env, path string) error {
	c, err := loadConfigFile(path)
	if err != nil {
		return err
	}
	file, getenv := settingsFrom(c), env.Getenv
	env.Getenv = func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return file[k]
	}
	env.ConfigFile = path
	return nil
}

// exampleConfig is what `vigil config example` prints: every setting with
// what it means and its environment variable.
func exampleConfig() string {
	var b strings.Builder
	b.WriteString(`# Vigil configuration (TOML). Use it with: vigil COMMAND --config FILE
# (or VIGIL_CONFIG=FILE). Precedence: flags, then VIGIL_* environment
# variables, then this file, then the defaults. Check it with
# "vigil config check --config FILE". Settings left commented out take
# their defaults. Keep passwords and secrets in the environment, or make
# this file readable by Vigil's user only.
`)
	section := ""
	walkSettings(reflect.ValueOf(&fileConfig{}).Elem(), "", func(f reflect.StructField, key string, v reflect.Value) {
		if s, _, ok := strings.Cut(key, "."); ok && s != section {
			section = s
			fmt.Fprintf(&b, "\n[%s]\n", s)
		}
		name := key[strings.LastIndex(key, ".")+1:]
		fmt.Fprintf(&b, "\n# %s (%s)\n", f.Tag.Get("doc"), f.Tag.Get("env"))
		ex := f.Tag.Get("example")
		val := ex
		if f.Type.Kind() == reflect.String {
			val = fmt.Sprintf("%q", ex)
		}
		switch {
		case ex == "" && f.Type.Kind() == reflect.Bool:
			fmt.Fprintf(&b, "# %s = false\n", name)
		case ex == "":
			fmt.Fprintf(&b, "# %s = \"\"\n", name)
		default:
			fmt.Fprintf(&b, "%s = %s\n", name, val)
		}
	})
	return b.String()
}

// configPath finds --config FILE (or --config=FILE) anywhere on the line,
// else VIGIL_CONFIG, and returns the line without it.
func configPath(env *Env, args []string) (string, []string, error) {
	path := env.Getenv("VIGIL_CONFIG")
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		switch {
		case a == "--config" || a == "-config":
			if i+1 == len(args) {
				return "", nil, usageError("--config needs a file")
			}
			i++
			path = args[i]
		case strings.HasPrefix(a, "--config=") || strings.HasPrefix(a, "-config="):
			_, path, _ = strings.Cut(a, "=")
		default:
			rest = append(rest, a)
		}
	}
	if path != "" {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return "", nil, fmt.Errorf("config file %s does not exist", path)
		}
	}
	return path, rest, nil
}
