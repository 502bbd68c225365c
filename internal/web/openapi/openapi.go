// Package openapi holds the OpenAPI 3.1 document of Vigil's /api/
// endpoints, embedded, and renders it as a readable page. Tests in
// internal/web hold the handlers to it.
package openapi

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"slices"
	"strings"
)

// Document is the OpenAPI document, as served at /api/openapi.json.
//
//go:embed openapi.json
var Document []byte

//go:embed reference.html
var referenceTemplate string

// Operation is one method on one path.
type Operation struct {
	ID, Method, Path, Summary, Description string
	Auth                                   bool
	Parameters                             []Parameter
	Bodies                                 []Body
	Responses                              []Response
}

// Parameter is one parameter of an operation.
type Parameter struct {
	Name, In, Description, Schema string
	Required                      bool
}

// Body is one accepted request content type.
type Body struct{ Type, Schema string }

// Response is one documented answer.
type Response struct{ Status, Description, Schema string }

// Schema is one named schema, as indented JSON.
type Schema struct{ Name, JSON string }

type reference struct {
	Title, Summary, Description, Version string
	Operations                           []Operation
	Schemas                              []Schema
}

// doc is the part of the document the page shows.
type doc struct {
	OpenAPI string `json:"openapi"`
	Info    struct {
		Title, Summary, Description string
	} `json:"info"`
	Paths      map[string]map[string]operation `json:"paths"`
	Components struct {
		Parameters map[string]parameter       `json:"parameters"`
		Responses  map[string]response        `json:"responses"`
		Schemas    map[string]json.RawMessage `json:"schemas"`
	} `json:"components"`
}

type operation struct {
	OperationID string      `json:"operationId"`
	Summary     string      `json:"summary"`
	Description string      `json:"description"`
	Security    *[]any      `json:"security"`
	Parameters  []parameter `json:"parameters"`
	RequestBody *struct {
		Content map[string]struct {
			Schema json.RawMessage `json:"schema"`
		} `json:"content"`
	} `json:"requestBody"`
	Responses map[string]response `json:"responses"`
}

type parameter struct {
	Ref         string          `json:"$ref"`
	Name        string          `json:"name"`
	In          string          `json:"in"`
	Description string          `json:"description"`
	Required    bool            `json:"required"`
	Schema      json.RawMessage `json:"schema"`
}

type response struct {
	Ref         string `json:"$ref"`
	Description string `json:"description"`
	Content     map[string]struct {
		Schema json.RawMessage `json:"schema"`
	} `json:"content"`
}

// Operations lists the document's operations as "METHOD /path", sorted.
func Operations() ([]string, error) {
	var d doc
	if err := json.Unmarshal(Document, &d); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	var out []string
	for p, ops := range d.Paths {
		for m := range ops {
			out = append(out, strings.ToUpper(m)+" "+p)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Reference renders the document as an HTML page that needs nothing but
// Vigil's own style sheet. It is rendered once, at start-up.
func Reference() ([]byte, error) {
	var d doc
	if err := json.Unmarshal(Document, &d); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	t, err := template.New("reference").Parse(referenceTemplate)
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	ref := reference{Title: d.Info.Title, Summary: d.Info.Summary, Description: d.Info.Description, Version: d.OpenAPI}
	for _, p := range slices.Sorted(maps.Keys(d.Paths)) {
		for _, m := range []string{"get", "post", "put", "patch", "delete"} {
			op, ok := d.Paths[p][m]
			if !ok {
				continue
			}
			o := Operation{ID: op.OperationID, Method: strings.ToUpper(m), Path: p, Summary: op.Summary,
				Description: op.Description, Auth: op.Security == nil || len(*op.Security) > 0}
			for _, prm := range op.Parameters {
				if name, ok := strings.CutPrefix(prm.Ref, "#/components/parameters/"); ok {
					prm = d.Components.Parameters[name]
				}
				o.Parameters = append(o.Parameters, Parameter{Name: prm.Name, In: prm.In, Description: prm.Description,
					Required: prm.Required, Schema: compact(prm.Schema)})
			}
			if op.RequestBody != nil {
				for _, ct := range slices.Sorted(maps.Keys(op.RequestBody.Content)) {
					o.Bodies = append(o.Bodies, Body{Type: ct, Schema: compact(op.RequestBody.Content[ct].Schema)})
				}
			}
			for _, st := range slices.Sorted(maps.Keys(op.Responses)) {
				r := op.Responses[st]
				if name, ok := strings.CutPrefix(r.Ref, "#/components/responses/"); ok {
					r = d.Components.Responses[name]
				}
				var schema string
				for _, c := range r.Content {
					schema = compact(c.Schema)
				}
				o.Responses = append(o.Responses, Response{Status: st, Description: r.Description, Schema: schema})
			}
			ref.Operations = append(ref.Operations, o)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(d.Components.Schemas)) {
		var buf bytes.Buffer
		if err := json.Indent(&buf, d.Components.Schemas[name], "", "  "); err != nil {
			return nil, fmt.Errorf("openapi: schema %s: %w", name, err)
		}
		ref.Schemas = append(ref.Schemas, Schema{Name: name, JSON: buf.String()})
	}
	var out bytes.Buffer
	if err := t.Execute(&out, ref); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	return out.Bytes(), nil
}

// compact shortens a schema for a table cell: a reference by its name.
func compact(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var ref struct {
		Ref string `json:"$ref"`
	}
	if json.Unmarshal(raw, &ref) == nil && ref.Ref != "" {
		return strings.TrimPrefix(ref.Ref, "#/components/schemas/")
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return string(raw)
	}
	return buf.String()
}
